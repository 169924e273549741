// The main-shaft belt, synthesised: a dark textured rubber belt crossing the view left to right
// between steel skirt plates, over idler rollers whose shadows stay put while the belt moves;
// coal as dark irregular lumps with lit faces and glints, loaded upstream (just left of the view)
// only while the belt runs, so it rides in and out of view at belt speed. Lighting ramps and steps
// that must not produce events. Truth is worked out from the same simulation that draws it:
//
//   start            → 0001 if coal covers more than half of the ROI, else 0002
//   while running, coal coverage crossing one half → 0001 (coal came) / 0002 (coal ran out)
//   stop with coal   → 0003 (a stop without coal reports nothing)
//
// Each truth event carries a note naming its situation (BELT_SITUATIONS: the first start of the
// clip, a later start, coal → empty, empty → coal, stop with coal), so that scores can be broken
// down by situation; clips under a flickering lamp add ", flicker" to it.
import type { BeltStatusCode } from '../../../src/contract/codes.ts';
import { createImage, type RgbImage } from '../compose.ts';
import { rng, type Rng } from '../prng.ts';
import type { TruthEvent } from '../truth.ts';
import { FPS, HEIGHT, WIDTH, type Clip, type ClipSpec } from './clip.ts';
import { ramp, stageClip } from './stage.ts';
import { fractalNoise } from './texture.ts';

const BAND_TOP = 250;
const BAND_H = 160;
/** px per frame at full speed (50 px/s at 5 fps) */
const SPEED = 10;
/** px per frame gained or lost each frame while starting or stopping */
const ACCEL = 2.5;
/** where coal drops onto the belt, screen x (upstream, out of view) */
const LOAD_X = -30;
const BELT_LOOP = 1408;

export const BELT_ROI: [number, number][] = [[0.15, 0.455], [0.85, 0.455], [0.85, 0.69], [0.15, 0.69]];
const ROI_X0 = BELT_ROI[0]![0] * WIDTH;
const ROI_X1 = BELT_ROI[1]![0] * WIDTH;

const CAMERA: Clip['camera'] = { role: 'mainShaft', analyses: { belt: { roi: BELT_ROI, direction: 'right' }, occlusion: {}, moved: {} } };

export type BeltAction = 'start' | 'stop' | 'load' | 'unload';

/** The situations of belt truth events (each event's note starts with one). */
export const BELT_SITUATIONS = ['first start', 'later start', 'coal→empty', 'empty→coal', 'stop with coal'] as const;
export type BeltSituation = (typeof BELT_SITUATIONS)[number];

interface Simulation {
  /** belt travel at each frame, px */
  travel: Float64Array;
  /** loaded coal, as sorted disjoint [from, to) intervals of belt coordinate u = x − travel */
  coal: [number, number][];
  events: TruthEvent[];
}

function addInterval(set: [number, number][], lo: number, hi: number): void {
  const last = set[set.length - 1];
  // Loading moves steadily towards lower u, so a new piece touches the previous one or is separate.
  if (last && Math.abs(last[0] - hi) < 1e-6) last[0] = lo;
  else set.push([lo, hi]);
}

function coverage(coal: readonly [number, number][], travel: number): number {
  const a = ROI_X0 - travel;
  const b = ROI_X1 - travel;
  let covered = 0;
  for (const [lo, hi] of coal) covered += Math.max(0, Math.min(b, hi) - Math.max(a, lo));
  return covered / (b - a);
}

/** Runs the schedule frame by frame: belt travel, where coal lies, and the events due. */
export function simulateBelt(seconds: number, schedule: readonly (readonly [number, BeltAction])[], noteSuffix = ''): Simulation {
  const frames = Math.round(seconds * FPS);
  const travel = new Float64Array(frames);
  const loaded: [number, number][] = [];
  const events: TruthEvent[] = [];
  let running = false;
  let loading = false;
  let speed = 0;
  let hadCoal = false;
  let starts = 0;
  const event = (n: number, beltStatus: BeltStatusCode, situation: BeltSituation): void => {
    events.push({ kind: 'belt', atSeconds: Math.round((n / FPS) * 100) / 100, beltStatus, note: `${situation}${noteSuffix}` });
  };
  for (let n = 0; n < frames; n++) {
    const t = n / FPS;
    const prev = n > 0 ? travel[n - 1]! : 0;
    const due = schedule.filter(([at]) => at <= t && at > t - 1 / FPS + 1e-9);
    for (const [, action] of due) {
      if (action === 'load') loading = true;
      if (action === 'unload') loading = false;
    }
    const starting = due.some(([, a]) => a === 'start');
    const stopping = due.some(([, a]) => a === 'stop');
    if (starting) running = true;
    if (stopping) running = false;
    speed = running ? Math.min(SPEED, speed + ACCEL) : Math.max(0, speed - ACCEL);
    travel[n] = prev + speed;
    if (loading && speed > 0) addInterval(loaded, LOAD_X - travel[n]!, LOAD_X - prev);
    const coal = coverage(loaded, travel[n]!) > 0.5;
    if (starting) event(n, coal ? '0001' : '0002', starts++ === 0 ? 'first start' : 'later start');
    else if (stopping) {
      if (coal) event(n, '0003', 'stop with coal');
    } else if (running && coal !== hadCoal) event(n, coal ? '0001' : '0002', coal ? 'empty→coal' : 'coal→empty');
    hadCoal = coal;
  }
  return { travel, coal: loaded.sort((a, b) => a[0] - b[0]), events };
}

/** The still parts: wall, beam, skirt plates, floor, idler legs. */
function beltSurroundings(random: Rng): RgbImage {
  const img = createImage(WIDTH, HEIGHT);
  const n = fractalNoise(WIDTH, HEIGHT, 32, 4, random);
  const fine = fractalNoise(WIDTH, HEIGHT, 2, 1, random);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = y * WIDTH + x;
      let v: number;
      let tint = 0;
      if (y < BAND_TOP - 14) {
        v = 64 - y * 0.06 + n[i]! * 10;
        if (y >= 40 && y < 72) v = 96 + n[i]! * 6 - (y > 66 ? 25 : 0) + ((x % 88 < 4 && (y - 46) % 18 < 4) ? 25 : 0);
      } else if (y < BAND_TOP || (y >= BAND_TOP + BAND_H && y < BAND_TOP + BAND_H + 14)) {
        // skirt plates with seams
        v = 88 + n[i]! * 6 - (x % 176 < 2 ? 30 : 0);
        tint = 4;
      } else if (y >= BAND_TOP + BAND_H) {
        v = 44 + n[i]! * 8;
        if ((x - 60) % 130 >= 0 && (x - 60) % 130 < 14 && y < 520) v = 30 + n[i]! * 4;
      } else {
        v = 0;
      }
      v += fine[i]! * 4;
      const k = i * 3;
      img.rgb[k] = Math.max(0, Math.min(255, v));
      img.rgb[k + 1] = Math.max(0, Math.min(255, v + tint * 0.5));
      img.rgb[k + 2] = Math.max(0, Math.min(255, v + tint));
    }
  }
  return img;
}

/** One loop of belt surface, BELT_LOOP × BAND_H grey levels, seamless along its length. */
function rubber(random: Rng): Float32Array {
  const w = BELT_LOOP;
  const coarse = fractalNoise(w, BAND_H, 12, 3, random, true);
  const fine = fractalNoise(w, BAND_H, 2, 1, random, true);
  const streak = Array.from({ length: BAND_H }, () => random.normal() * 2.5);
  const out = new Float32Array(w * BAND_H);
  for (let v = 0; v < BAND_H; v++) {
    // Troughed belt: the middle sits lower and darker, the worn edges catch the light.
    const across = Math.abs(v - BAND_H / 2) / (BAND_H / 2);
    const profile = -4 + across * across * 8 + (v < 7 || v >= BAND_H - 7 ? 10 : 0);
    for (let u = 0; u < w; u++) out[v * w + u] = 54 + profile + streak[v]! + coarse[v * w + u]! * 7 + fine[v * w + u]! * 6;
  }
  // Dust specks and scuffs that ride along (what shows an empty belt moving).
  for (let s = 0; s < 700; s++) {
    const u0 = random.int(0, w - 1);
    const v0 = random.int(2, BAND_H - 3);
    const len = random.next() < 0.2 ? random.int(8, 30) : random.int(1, 3);
    const lift = random.range(12, 40);
    for (let d = 0; d < len; d++) {
      const i = v0 * w + ((u0 + d) % w);
      out[i] = out[i]! + lift * (len > 3 ? 0.5 : 1);
      if (len <= 3) out[i + w] = out[i + w]! + lift * 0.6;
    }
  }
  // Two vulcanised splices across the belt, slanted.
  for (const at of [300, 1000]) {
    for (let v = 0; v < BAND_H; v++) {
      const u = Math.round(at + v * 0.35);
      for (let d = 0; d < 3; d++) {
        const i = v * w + ((u + d) % w);
        out[i] = out[i]! + (d === 1 ? 18 : -10);
      }
    }
  }
  return out;
}

interface CoalLayer {
  /** belt coordinate of column 0 */
  u0: number;
  width: number;
  /** grey level and coverage (0…255) per pixel */
  grey: Uint8Array;
  alpha: Uint8Array;
}

/** Lumps of coal over the loaded intervals, in belt coordinates. */
function coalLayer(coal: readonly [number, number][], random: Rng): CoalLayer {
  const u0 = Math.floor(Math.min(0, ...coal.map(([lo]) => lo))) - 20;
  const u1 = Math.ceil(Math.max(WIDTH, ...coal.map(([, hi]) => hi))) + 20;
  const width = u1 - u0;
  const grey = new Uint8Array(width * BAND_H);
  const alpha = new Uint8Array(width * BAND_H);
  const wander = fractalNoise(width, 1, 120, 2, random);
  for (const [lo, hi] of coal) {
    const lumps = Math.round((hi - lo) * 1.1);
    for (let k = 0; k < lumps; k++) {
      const cu = random.range(lo, hi);
      const col = Math.min(width - 1, Math.max(0, Math.round(cu - u0)));
      const centre = BAND_H / 2 + wander[col]! * 10;
      const half = 50 + wander[(col * 7) % width]! * 10;
      // Heaped in the middle: more, and bigger, lumps near the centre line.
      const off = (random.next() + random.next() - 1) * half;
      const r = random.range(3, 6) + 6 * (1 - Math.abs(off) / half) * random.next();
      const cv = centre + off;
      const spokes = Array.from({ length: 8 }, () => r * random.range(0.7, 1.2));
      const base = random.range(14, 30);
      for (let dv = -Math.ceil(r * 1.2); dv <= Math.ceil(r * 1.2); dv++) {
        const v = Math.round(cv + dv);
        if (v < 0 || v >= BAND_H) continue;
        for (let du = -Math.ceil(r * 1.2); du <= Math.ceil(r * 1.2); du++) {
          const u = Math.round(cu + du) - u0;
          if (u < 0 || u >= width) continue;
          const ang = Math.atan2(dv, du);
          const sector = ((ang + Math.PI) / (2 * Math.PI)) * 8;
          const s0 = Math.floor(sector) % 8;
          const rr = spokes[s0]! + (spokes[(s0 + 1) % 8]! - spokes[s0]!) * (sector - Math.floor(sector));
          const d = Math.hypot(du, dv);
          if (d > rr) continue;
          // Lit from the upper left; the rim facing the light glints.
          const facing = (-du - dv) / (rr * 1.5);
          let g = base * (1 + 0.7 * facing) + (random.next() - 0.5) * 6;
          if (facing > 0.45 && d > rr * 0.6 && random.next() < 0.35) g += random.range(40, 90);
          const i = v * width + u;
          grey[i] = Math.max(4, Math.min(255, Math.round(g)));
          alpha[i] = d > rr - 1 ? 170 : 255;
        }
      }
    }
  }
  return { u0, width, grey, alpha };
}

interface BeltSceneOptions {
  name: string;
  description: string;
  seconds: number;
  schedule: readonly (readonly [number, BeltAction])[];
  light: (t: number) => number;
  /** the lamp flickers (notes say so) */
  flicker?: boolean;
}

/**
 * A lamp that flickers: the whole frame's brightness modulated around `base` — mains flicker
 * (100 Hz) beating with the camera's exposure, aliased to a few Hz at 5 fps, plus a slower wander
 * of a tired ballast. Depth is the peak share either way.
 */
export function flickering(base: (t: number) => number, depth = 0.2, hz = 1.3): (t: number) => number {
  return (t) => base(t) * (1 + depth * (0.7 * Math.sin(2 * Math.PI * hz * t) + 0.3 * Math.sin(2 * Math.PI * 0.37 * t + 1)));
}

function beltClip(o: BeltSceneOptions): Clip {
  const random = rng(o.name);
  const sim = simulateBelt(o.seconds, o.schedule, o.flicker ? ', flicker' : '');
  const surface = rubber(random);
  const coal = coalLayer(sim.coal, random);
  // Idler rollers under the belt: fixed darker columns the belt slides over.
  const rollerShade = new Float32Array(WIDTH);
  for (let x = 0; x < WIDTH; x++) {
    const d = (((x - 60) % 130) + 130) % 130;
    const dist = Math.min(d, 130 - d);
    rollerShade[x] = 1 - 0.13 * Math.exp(-(dist * dist) / 60);
  }
  const paint = (img: RgbImage, t: number): RgbImage => {
    const n = Math.min(sim.travel.length - 1, Math.round(t * FPS));
    const p = Math.round(sim.travel[n]!);
    for (let v = 0; v < BAND_H; v++) {
      const row = (BAND_TOP + v) * WIDTH;
      for (let x = 0; x < WIDTH; x++) {
        const ub = ((((x - p) % BELT_LOOP) + BELT_LOOP) % BELT_LOOP);
        let g = surface[v * BELT_LOOP + ub]!;
        const uc = x - p - coal.u0;
        if (uc >= 0 && uc < coal.width) {
          const a = coal.alpha[v * coal.width + uc]! / 255;
          if (a > 0) g = g + (coal.grey[v * coal.width + uc]! - g) * a;
        }
        g *= rollerShade[x]!;
        const k = (row + x) * 3;
        const c = Math.max(0, Math.min(255, Math.round(g)));
        img.rgb[k] = c;
        img.rgb[k + 1] = c;
        img.rgb[k + 2] = Math.min(255, c + 2);
      }
    }
    return img;
  };
  return stageClip({
    name: o.name,
    description: o.description,
    seconds: o.seconds,
    camera: CAMERA,
    events: sim.events,
    background: beltSurroundings(random),
    paint,
    light: o.light,
  });
}

export const BELT_CLIPS: ClipSpec[] = [
  {
    name: 'belt-cycle',
    scene: 'belt',
    version: 2,
    quick: false,
    build: async () =>
      beltClip({
        name: 'belt-cycle',
        description:
          'stopped empty; starts empty (0002); coal arrives (0001); stops with coal (0003); starts with coal (0001); coal runs out (0002); coal again (0001); stops with coal (0003); lamp dims slowly, then a lamp is switched on, then it dims again',
        seconds: 100,
        schedule: [[8, 'start'], [12, 'load'], [32, 'stop'], [44, 'start'], [52, 'unload'], [66, 'load'], [92, 'stop']],
        light: ramp([[0, 1], [20, 1], [30, 0.75], [38, 0.75], [38, 1.1], [78, 1.1], [90, 0.9]]),
      }),
  },
  {
    name: 'belt-empty-start',
    scene: 'belt',
    version: 2,
    quick: true,
    build: async () =>
      beltClip({
        name: 'belt-empty-start',
        description: 'starts without coal (0002); coal arrives (0001); coal runs out (0002); stops empty (nothing); a light is switched on at 54 s',
        seconds: 60,
        schedule: [[6, 'start'], [14, 'load'], [30, 'unload'], [48, 'stop']],
        light: ramp([[0, 0.95], [54, 0.95], [54, 1.25]]),
      }),
  },
  {
    name: 'belt-lighting',
    scene: 'belt',
    version: 2,
    quick: false,
    build: async () =>
      beltClip({
        name: 'belt-lighting',
        description: 'a stopped empty belt under changing light: slow dimming to 60 %, a step up, a slow rise: no events',
        seconds: 40,
        schedule: [],
        light: ramp([[0, 1], [8, 1], [20, 0.6], [26, 0.6], [26, 1.15], [32, 1.15], [38, 1.3]]),
      }),
  },
  {
    name: 'belt-first-start-coal',
    scene: 'belt',
    version: 1,
    quick: false,
    build: async () =>
      beltClip({
        name: 'belt-first-start-coal',
        description:
          'stopped and empty for 4 s only; starts with the loader already on, so coal rides in at once (0002 at the start, 0001 when coal covers half the belt); loading stops, coal runs out (0002); coal again (0001); stops with coal (0003)',
        seconds: 90,
        schedule: [[0, 'load'], [4, 'start'], [34, 'unload'], [56, 'load'], [80, 'stop']],
        light: ramp([[0, 1]]),
      }),
  },
  {
    name: 'belt-first-start-empty',
    scene: 'belt',
    version: 1,
    quick: false,
    build: async () =>
      beltClip({
        name: 'belt-first-start-empty',
        description:
          'stopped and empty for 2 s; starts empty (0002); coal (0001); stops with coal (0003); starts with coal (0001); coal runs out (0002); stops empty (nothing); starts empty (0002); coal (0001); coal runs out (0002)',
        seconds: 130,
        schedule: [[2, 'start'], [12, 'load'], [30, 'stop'], [40, 'start'], [44, 'unload'], [64, 'stop'], [74, 'start'], [84, 'load'], [100, 'unload']],
        light: ramp([[0, 1], [60, 1], [70, 0.85]]),
      }),
  },
  {
    name: 'belt-coal-gaps',
    scene: 'belt',
    version: 1,
    quick: false,
    build: async () =>
      beltClip({
        name: 'belt-coal-gaps',
        description:
          'stopped empty 6 s; starts empty (0002); coal and no coal alternate while it runs (0001, 0002, 0001, 0002, 0001); stops with coal (0003); starts with coal (0001); coal runs out (0002)',
        seconds: 150,
        schedule: [[6, 'start'], [10, 'load'], [26, 'unload'], [44, 'load'], [58, 'unload'], [78, 'load'], [96, 'stop'], [104, 'start'], [110, 'unload']],
        light: ramp([[0, 1]]),
      }),
  },
  {
    name: 'belt-flicker-first-start',
    scene: 'belt',
    version: 1,
    quick: false,
    build: async () =>
      beltClip({
        name: 'belt-flicker-first-start',
        description:
          'a lamp flickering ±20 % at 1.3 Hz (plus a slow wander) throughout; stopped empty 3 s; starts with the loader on (0002, then 0001); coal runs out (0002); stops empty (nothing); starts empty (0002); coal (0001); stops with coal (0003); starts with coal (0001)',
        seconds: 120,
        schedule: [[0, 'load'], [3, 'start'], [30, 'unload'], [52, 'stop'], [60, 'start'], [66, 'load'], [86, 'stop'], [96, 'start'], [100, 'unload']],
        light: flickering(ramp([[0, 1]])),
        flicker: true,
      }),
  },
  {
    name: 'belt-flicker-dim',
    scene: 'belt',
    version: 1,
    quick: false,
    build: async () =>
      beltClip({
        name: 'belt-flicker-dim',
        description:
          'a dim lamp flickering ±30 % at 2.1 Hz; stopped empty 15 s (no events); starts empty (0002); coal (0001); coal runs out (0002); coal (0001); stops with coal (0003)',
        seconds: 110,
        schedule: [[15, 'start'], [24, 'load'], [44, 'unload'], [66, 'load'], [98, 'stop']],
        light: flickering(ramp([[0, 0.7]]), 0.3, 2.1),
        flicker: true,
      }),
  },
  {
    name: 'belt-flicker-strong',
    scene: 'belt',
    version: 1,
    quick: false,
    build: async () =>
      beltClip({
        name: 'belt-flicker-strong',
        description:
          'a lamp flickering ±35 % at 2.3 Hz (near the 2.5 Hz a 5 fps camera can show: bright and dark frames nearly alternate) that also dims to 75 % and back; stopped empty 2 s; starts with the loader on (0002, then 0001); stops with coal (0003); starts with coal (0001); coal runs out (0002); coal again (0001); coal runs out (0002); stops empty (nothing)',
        seconds: 130,
        schedule: [[0, 'load'], [2, 'start'], [26, 'stop'], [36, 'start'], [40, 'unload'], [64, 'load'], [82, 'unload'], [120, 'stop']],
        light: flickering(ramp([[0, 1], [50, 1], [60, 0.75], [90, 0.75], [100, 1]]), 0.35, 2.3),
        flicker: true,
      }),
  },
];
