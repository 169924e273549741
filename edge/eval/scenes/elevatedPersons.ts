// Persons as the guide's shaft cameras see them (figures 4-1 to 4-4): a camera on a mast or above a
// doorway looking down a walkway, people shrinking with distance as a pinhole camera makes them, the
// counting line painted across the walkway. Two views:
//
//   steep: a wide lens 8 m up, tilted 50° down: people 27 px tall at the top edge, 150 px at the
//          bottom (the vanishing row lies far above the picture)
//   long:  a normal lens 5 m up, tilted 25° down along a passage: the vanishing row is inside the
//          picture, so a person walking away keeps shrinking, to under 15 px before leaving
//
// On a ground plane, a standing person's height in pixels is h = k·(y − yv) for a foot row y, and
// walking at 1.4 m/s changes 1/h by 0.82/f a second (f: focal length in pixels), so walks are
// generated in (depth, lateral) ground terms and drawn with the scale that belongs there. Scenes
// vary the situation (away from or towards the camera, pairs side by side, turning back, loitering,
// partly hidden by a post, night infrared) and the person's height at the line, and every clip is
// encoded at a mine uplink's bitrate. Truth comes from the walkers' paths.
import type { RgbImage } from '../compose.ts';
import { createImage, crop, flipHorizontal, paste, resize } from '../compose.ts';
import { rng } from '../prng.ts';
import type { TruthEvent } from '../truth.ts';
import { ActorLayer, type Actor } from './actors.ts';
import { HEIGHT, WIDTH, type Clip, type ClipSpec, type Photos } from './clip.ts';
import { infraredNight } from './night.ts';
import { Path, type Key } from './paths.ts';
import { PERSON_CROPS, type CropName } from './sprites.ts';
import { stageClip } from './stage.ts';
import { fractalNoise } from './texture.ts';

/** A camera over flat ground: h(y) = k·(y − yv); f for the walking pace. */
export interface View {
  name: 'steep' | 'long';
  yv: number;
  k: number;
  f: number;
}

export const STEEP: View = { name: 'steep', yv: -129, k: 0.21, f: 350 };
export const LONG: View = { name: 'long', yv: 4, k: 0.34, f: 610 };

/** A mine sub-stream's share of a 4 Mbit/s uplink (eight cameras). */
export const UPLINK_KBPS = 500;

const CX = WIDTH / 2;
/** Walking pace, person heights per second (1.4 m/s for 1.7 m). */
const PACE = 0.82;

export function heightAt(view: View, y: number): number {
  return view.k * (y - view.yv);
}

function rowOf(view: View, h: number): number {
  return view.yv + h / view.k;
}

/** Foot point of someone `lateral` person-heights right of the walkway's centre, `h` px tall. */
function place(view: View, h: number, lateral: number): { x: number; y: number } {
  return { x: CX + lateral * h, y: rowOf(view, h) };
}

/** A leg of a walk: to height `h` (depth) and lateral offset, at walking pace; or a pause. */
type Leg = { h: number; lateral: number; pace?: number } | { pause: number; sway?: number };

/** Keys every 0.4 s along straight ground legs (straight on the ground is curved in the picture). */
function walk(view: View, t0: number, from: { h: number; lateral: number }, legs: readonly Leg[]): Path {
  let t = t0;
  let cur = from;
  const p0 = place(view, cur.h, cur.lateral);
  const keys: Key[] = [{ t, ...p0 }];
  for (const leg of legs) {
    if ('pause' in leg) {
      const n = Math.max(1, Math.round(leg.pause / 1.5));
      const here = place(view, cur.h, cur.lateral);
      const sway = (leg.sway ?? 0.02) * cur.h;
      for (let i = 1; i <= n; i++) keys.push({ t: t + (leg.pause * i) / n, x: here.x + (i % 2 === 1 ? sway : 0), y: here.y });
      t += leg.pause;
      continue;
    }
    // ground coordinates in person heights: depth z = f/h, lateral as given
    const z0 = view.f / cur.h;
    const z1 = view.f / leg.h;
    const dist = Math.hypot(z1 - z0, leg.lateral - cur.lateral);
    const seconds = dist / (PACE * (leg.pace ?? 1));
    const n = Math.max(1, Math.ceil(seconds / 0.4));
    for (let i = 1; i <= n; i++) {
      const f = i / n;
      const z = z0 + (z1 - z0) * f;
      keys.push({ t: t + seconds * f, ...place(view, view.f / z, cur.lateral + (leg.lateral - cur.lateral) * f) });
    }
    t += seconds;
    cur = { h: leg.h, lateral: leg.lateral };
  }
  return new Path(keys);
}

interface Scene {
  view: View;
  /** counting line row, as a share of the height */
  lineY: number;
  /** counted going up the picture (away from the camera) or down (towards it) */
  counted: 'away' | 'towards';
}

function lineOf(s: Scene): { a: { x: number; y: number }; b: { x: number; y: number }; towards: { x: number; y: number } } {
  const y = s.lineY * HEIGHT;
  return { a: { x: 0.02 * WIDTH, y }, b: { x: 0.98 * WIDTH, y }, towards: { x: CX, y: towardsY(s) * HEIGHT } };
}

/** A point in the picture on the counted side, halfway to the edge. */
function towardsY(s: Scene): number {
  return Math.round((s.counted === 'away' ? s.lineY / 2 : (s.lineY + 1) / 2) * 1000) / 1000;
}

function cameraOf(s: Scene): Clip['camera'] {
  return {
    role: 'auxiliaryShaft',
    analyses: {
      person: { line: [[0.02, s.lineY], [0.98, s.lineY]], towards: [0.5, towardsY(s)] },
      occlusion: {},
      moved: {},
    },
  };
}

/** horses.jpg: dry grass below the lowest hooves. */
const GRASS = { x: 0, y: 418, width: 773, height: 94 };

/**
 * Ground seen from above: real grass in bands that grow towards the camera, a concrete walkway
 * (2.6 person heights wide) running to the vanishing point, the counting line painted across it.
 */
async function walkwayGround(photos: Photos, s: Scene, seed: string): Promise<RgbImage> {
  const view = s.view;
  const horses = await photos.get('horses.jpg');
  const grass = crop(horses, GRASS);
  const img = createImage(WIDTH, HEIGHT);
  let y = 0;
  let i = 0;
  while (y < HEIGHT) {
    const h = Math.max(12, Math.round(0.45 * heightAt(view, y + 20)));
    const band = resize(grass, WIDTH, h + 6);
    paste(img, i++ % 2 ? flipHorizontal(band) : band, 0, y - 3);
    y += h;
  }
  const random = rng(seed);
  const grain = fractalNoise(WIDTH, HEIGHT, 20, 4, random);
  const fine = fractalNoise(WIDTH, HEIGHT, 2, 1, random);
  const lineRow = s.lineY * HEIGHT;
  for (let yy = 0; yy < HEIGHT; yy++) {
    const h = heightAt(view, yy);
    if (h <= 1) continue;
    const half = 1.3 * h;
    const paint = Math.abs(yy - lineRow) <= Math.max(1, 0.035 * h);
    for (let x = Math.max(0, Math.floor(CX - half)); x < Math.min(WIDTH, Math.ceil(CX + half)); x++) {
      const j = yy * WIDTH + x;
      const edge = Math.abs(x - CX) > half - Math.max(1, 0.05 * h) ? -18 : 0;
      const v = 128 + grain[j]! * 16 + fine[j]! * 10 + edge;
      const k = (yy * WIDTH + x) * 3;
      if (paint) {
        img.rgb[k] = 214 + fine[j]! * 20;
        img.rgb[k + 1] = 184 + fine[j]! * 20;
        img.rgb[k + 2] = 40;
      } else {
        img.rgb[k] = v;
        img.rgb[k + 1] = v - 2;
        img.rgb[k + 2] = v - 6;
      }
    }
  }
  return img;
}

/** A lamp post on the walkway, drawn over everyone behind it: where it stands and how wide. */
interface Post {
  x: number;
  /** the row its foot stands on */
  y: number;
}

function drawPost(view: View, post: Post): (img: RgbImage) => RgbImage {
  return (img) => {
    const h = heightAt(view, post.y);
    const w = Math.max(2, Math.round(0.11 * h));
    const top = Math.max(0, Math.round(post.y - 2.6 * h));
    for (let y = top; y < Math.min(HEIGHT, Math.round(post.y)); y++) {
      for (let x = Math.round(post.x - w / 2); x < Math.round(post.x + w / 2); x++) {
        if (x < 0 || x >= WIDTH) continue;
        const shade = 70 + 50 * Math.cos(((x - post.x) / w) * Math.PI);
        const k = (y * WIDTH + x) * 3;
        img.rgb[k] = shade;
        img.rgb[k + 1] = shade;
        img.rgb[k + 2] = shade + 4;
      }
    }
    return img;
  };
}

interface Walker extends Actor {
  toleranceSeconds?: number;
}

function walker(crop: CropName, path: Path, mirrored: boolean, view: View): Walker {
  return { crop, mirrored, path, height: (y) => heightAt(view, y), cls: 'person', bob: 1.5, shadow: 0.35 };
}

function crossingEvents(s: Scene, actors: readonly Walker[]): TruthEvent[] {
  const { a, b, towards } = lineOf(s);
  const events: TruthEvent[] = [];
  for (const w of actors) {
    for (const c of w.path.crossings(a, b, towards)) {
      if (c.direction !== 1) continue;
      events.push({ kind: 'person', atSeconds: Math.round(c.t * 100) / 100, ...(w.toleranceSeconds ? { toleranceSeconds: w.toleranceSeconds } : {}) });
    }
  }
  return events;
}

/** Height a walk starts or ends at: the feet just below the bottom edge, or far enough to vanish. */
function nearH(view: View): number {
  return heightAt(view, HEIGHT + 30);
}
function farH(view: View): number {
  // the long view's walkers turn off into a side gallery once 16 px tall (a minute's walk otherwise)
  return Math.max(16, heightAt(view, -5));
}

/** One walker crossing the whole walkway in the scene's counted direction (or against it). */
function through(s: Scene, t0: number, lateral: number, drift: number, counted: boolean, crop: CropName, pace = 1): Walker {
  const away = (s.counted === 'away') === counted;
  const [h0, h1] = away ? [nearH(s.view), farH(s.view)] : [farH(s.view), nearH(s.view)];
  // walking away the camera sees backs; towards, faces: the mirrored sprite stands for the other side
  return walker(crop, walk(s.view, t0, { h: h0, lateral }, [{ h: h1, lateral: lateral + drift, pace }]), away, s.view);
}

/** Two people shoulder to shoulder (0.33 person heights apart) crossing in the counted direction. */
function pair(s: Scene, t0: number, lateral: number, crops: [CropName, CropName]): Walker[] {
  return [through(s, t0, lateral, 0.1, true, crops[0]), through(s, t0 + 0.15, lateral + 0.33, 0.1, true, crops[1])];
}

interface ClipPlan {
  name: string;
  description: string;
  scene: Scene;
  night?: boolean;
  post?: Post;
  walkers: (s: Scene) => Walker[];
}

async function elevatedClip(photos: Photos, plan: ClipPlan): Promise<Clip> {
  const { scene: s, name } = plan;
  const walkers = plan.walkers(s);
  // the clip ends two seconds after the last walker has gone
  const seconds = Math.ceil(Math.max(...walkers.map((w) => w.path.end)) + 2);
  const post = plan.post ? drawPost(s.view, plan.post) : undefined;
  const night = plan.night
    ? infraredNight({
        seed: `${name}:ir`,
        spot: { x: CX, y: HEIGHT * 0.95 },
        reach: 330,
        ambient: 0.3,
        lamps: [
          { x: 70, y: 30, r: 5 },
          { x: 640, y: 62, r: 4 },
        ],
        grain: 7,
      })
    : undefined;
  const paint = post || night ? (img: RgbImage, t: number) => (night ? night(post ? post(img) : img, t) : post!(img)) : undefined;
  return stageClip({
    name,
    description: plan.description,
    seconds,
    camera: cameraOf(s),
    events: crossingEvents(s, walkers),
    background: await walkwayGround(photos, s, `${name}:ground`),
    actors: await ActorLayer.create(photos, walkers),
    ...(paint ? { paint } : {}),
    grain: night ? 0 : 2,
    bitrateKbps: UPLINK_KBPS,
  });
}

/** `n` single walkers in the counted direction every `gap` s from `t0`, spread over the walkway, and `against` others the other way. */
function singles(s: Scene, seed: string, n: number, t0: number, gap: number, against: number): Walker[] {
  const r = rng(seed);
  const out: Walker[] = [];
  for (let i = 0; i < n; i++) {
    const lateral = r.range(-0.9, 0.7);
    out.push(through(s, t0 + i * gap + r.range(0, 0.8), lateral, r.range(-0.2, 0.2), true, PERSON_CROPS[i % PERSON_CROPS.length]!, r.range(0.85, 1.15)));
  }
  for (let i = 0; i < against; i++) {
    out.push(through(s, t0 + 1.5 + i * gap * 2, r.range(-0.9, 0.7), 0, false, PERSON_CROPS[(i + 1) % PERSON_CROPS.length]!));
  }
  return out;
}

const STEEP_MID: Omit<Scene, 'counted'> = { view: STEEP, lineY: 0.45 };
const LONG_MID: Omit<Scene, 'counted'> = { view: LONG, lineY: 0.32 };
const LONG_FAR: Omit<Scene, 'counted'> = { view: LONG, lineY: 0.2 };
const LONG_END: Omit<Scene, 'counted'> = { view: LONG, lineY: 0.12 };

function plan(p: ClipPlan, version = 1, quick = false): ClipSpec {
  return { name: p.name, scene: 'elevatedPersons', version, quick, build: (photos) => elevatedClip(photos, p) };
}

/** The person height at a scene's line, for reports by size. */
export function lineHeight(s: Pick<Scene, 'view' | 'lineY'>): number {
  return heightAt(s.view, s.lineY * HEIGHT);
}

export const ELEVATED_PERSONS_CLIPS: ClipSpec[] = [
  plan({
    name: 'elev-steep-away',
    description: 'steep view (50° down): six people walk away over the line (6), two come towards the camera (0); ~81 px tall at the line',
    scene: { ...STEEP_MID, counted: 'away' },
    walkers: (s) => singles(s, 'steep-away', 6, 0.5, 5, 2),
  }),
  plan({
    name: 'elev-steep-towards',
    description: 'steep view: six people come towards the camera over the line (6), two walk away (0)',
    scene: { ...STEEP_MID, counted: 'towards' },
    walkers: (s) => singles(s, 'steep-towards', 6, 0.5, 5, 2),
  }),
  plan({
    name: 'elev-long-away',
    description: 'long view (25° down a passage): six people walk away over the line and shrink to 16 px (6), two come towards (0); ~60 px at the line',
    scene: { ...LONG_MID, counted: 'away' },
    walkers: (s) => singles(s, 'long-away', 6, 0.5, 5, 2),
  }),
  plan({
    name: 'elev-long-towards',
    description: 'long view: six people come from the far end towards the camera over the line (6), two walk away (0)',
    scene: { ...LONG_MID, counted: 'towards' },
    walkers: (s) => singles(s, 'long-towards', 6, 0.5, 5, 2),
  }),
  plan({
    name: 'elev-far-away',
    description: 'long view, the line far up the passage: six people walk away over it (6), ~34 px tall there',
    scene: { ...LONG_FAR, counted: 'away' },
    walkers: (s) => singles(s, 'far-away', 6, 0.5, 5, 1),
  }),
  plan({
    name: 'elev-far-towards',
    description: 'long view, the line far up the passage: six people come from the far end over it (6), ~34 px tall there',
    scene: { ...LONG_FAR, counted: 'towards' },
    walkers: (s) => singles(s, 'far-towards', 6, 0.5, 5, 1),
  }),
  plan({
    name: 'elev-tiny-away',
    description: 'long view, the line at the far end of the passage: six people walk away over it (6), ~22 px tall there',
    scene: { ...LONG_END, counted: 'away' },
    walkers: (s) => singles(s, 'tiny-away', 6, 0.5, 5, 1),
  }),
  plan({
    name: 'elev-tiny-towards',
    description: 'long view, the line at the far end of the passage: six people come from there towards the camera (6), ~22 px tall at the line',
    scene: { ...LONG_END, counted: 'towards' },
    walkers: (s) => singles(s, 'tiny-towards', 6, 0.5, 5, 1),
  }),
  plan({
    name: 'elev-pairs-away',
    description: 'long view: three pairs walk away side by side (6), one pair staggered by half a second (2)',
    scene: { ...LONG_MID, counted: 'away' },
    walkers: (s) => [
      ...pair(s, 0.5, -0.5, ['blueJacket', 'lightHoodie']),
      ...pair(s, 9, -0.1, ['navyHoodie', 'blueJacket']),
      ...pair(s, 18, -0.7, ['lightHoodie', 'navyHoodie']),
      through(s, 27, 0.0, 0.05, true, 'blueJacket'),
      through(s, 27.5, 0.35, 0.05, true, 'navyHoodie'),
    ],
  }),
  plan({
    name: 'elev-pairs-towards',
    description: 'steep view: three pairs come towards the camera side by side (6), one pair staggered (2)',
    scene: { ...STEEP_MID, counted: 'towards' },
    walkers: (s) => [
      ...pair(s, 0.5, -0.5, ['blueJacket', 'lightHoodie']),
      ...pair(s, 8, -0.1, ['navyHoodie', 'blueJacket']),
      ...pair(s, 16, -0.7, ['lightHoodie', 'navyHoodie']),
      through(s, 24, 0.0, 0.05, true, 'blueJacket'),
      through(s, 24.5, 0.35, 0.05, true, 'navyHoodie'),
    ],
  }),
  plan({
    name: 'elev-turn-loiter',
    description:
      'long view, counted away: one turns back just short of the line (0); one goes well past it and comes back (1); one loiters beside the line for 8 s, then goes (1); one passes behind a lamp post on the line (1); two more (2)',
    scene: { ...LONG_MID, counted: 'away' },
    post: { x: CX + 0.25 * lineHeight(LONG_MID) + 4, y: LONG_MID.lineY * HEIGHT + 18 },
    walkers: (s) => {
      const view = s.view;
      const hl = lineHeight(s);
      const near = nearH(view);
      const far = farH(view);
      // heights a little before and well past the line (hysteresis band: 18 px of foot row)
      const short = heightAt(view, s.lineY * HEIGHT + 14);
      const past = heightAt(view, s.lineY * HEIGHT - 45);
      return [
        walker('blueJacket', walk(view, 0.5, { h: near, lateral: -0.6 }, [{ h: short, lateral: -0.5 }, { pause: 1.5 }, { h: near, lateral: -0.9 }]), true, view),
        walker('navyHoodie', walk(view, 6, { h: near, lateral: 0.5 }, [{ h: past, lateral: 0.5 }, { pause: 1.5 }, { h: near, lateral: 0.8 }]), true, view),
        walker('lightHoodie', walk(view, 14, { h: near, lateral: -0.3 }, [{ h: heightAt(view, s.lineY * HEIGHT + 10), lateral: -0.8 }, { pause: 8, sway: 0.04 }, { h: far, lateral: -0.6 }]), true, view),
        // behind the post: it stands 18 px nearer, covering a third of the walker at the line
        walker('blueJacket', walk(view, 29, { h: near, lateral: 0.1 }, [{ h: hl, lateral: 0.25 }, { h: far, lateral: 0.35 }]), true, view),
        through(s, 38, -0.6, 0.1, true, 'lightHoodie'),
        through(s, 43, 0.2, -0.2, true, 'navyHoodie'),
      ];
    },
  }),
  plan({
    name: 'elev-night-long-away',
    description: 'night, infrared: long view, six people walk away over the line (6), two come towards (0)',
    scene: { ...LONG_MID, counted: 'away' },
    night: true,
    walkers: (s) => singles(s, 'night-long-away', 6, 0.5, 5, 2),
  }),
  plan({
    name: 'elev-night-steep-towards',
    description: 'night, infrared: steep view, six people come towards the camera (6), two walk away (0)',
    scene: { ...STEEP_MID, counted: 'towards' },
    night: true,
    walkers: (s) => singles(s, 'night-steep-towards', 6, 0.5, 5, 2),
  }),
  plan({
    name: 'elev-night-pairs-away',
    description: 'night, infrared: long view, three pairs walk away side by side (6)',
    scene: { ...LONG_MID, counted: 'away' },
    night: true,
    walkers: (s) => [...pair(s, 0.5, -0.5, ['blueJacket', 'lightHoodie']), ...pair(s, 9, -0.1, ['navyHoodie', 'blueJacket']), ...pair(s, 18, -0.7, ['lightHoodie', 'navyHoodie'])],
  }),
];
