// Tampering with a camera: a normal view (a real photo, sometimes with a person passing) that at a
// known instant is covered by a cloth, blocked by a hand, blurred (defocus), sprayed, or knocked
// aside (shifted, panned) and stays so for 25 s. The truth is one occlusion or moved event at the
// instant the tampering is complete (a slow pan: the instant it starts). Two clips with nothing to report: the light changes, and a
// person passes right in front of the lens for a few seconds.
import { blur, crop, type RgbImage } from '../compose.ts';
import type { DarknetPhoto } from '../darknetPhotos.ts';
import { rng } from '../prng.ts';
import type { AnalysisKind } from '../../types.ts';
import { ActorLayer, type Actor } from './actors.ts';
import { ellipseMask, widePhoto } from './backgrounds.ts';
import { HEIGHT, WIDTH, type Clip, type ClipSpec, type Photos } from './clip.ts';
import { Path } from './paths.ts';
import type { CropName } from './sprites.ts';
import { ramp, stageClip } from './stage.ts';
import { fractalNoise } from './texture.ts';

const CAMERA: Clip['camera'] = { role: 'mainShaft', analyses: { occlusion: {}, moved: {} } };
const SECONDS = 42;
/** when the tampering begins */
const T0 = 15;

function clamp01(x: number): number {
  return Math.max(0, Math.min(1, x));
}

function progress(t: number, duration: number): number {
  const p = clamp01((t - T0) / duration);
  return p * p * (3 - 2 * p);
}

/** A person walking across the far view (a distractor before the tampering). */
function passer(crop: CropName, t0: number, seconds: number, y: number, height: number, leftToRight = true): Actor {
  const from = leftToRight ? -80 : WIDTH + 80;
  const to = leftToRight ? WIDTH + 80 : -80;
  return { crop, mirrored: !leftToRight, path: new Path([{ t: t0, x: from, y }, { t: t0 + seconds, x: to, y }]), height: () => height, cls: 'person', bob: 2 };
}

/** Dark cloth with folds, dragged down from the top edge over most of the view. */
function clothPaint(seed: string, duration: number): (img: RgbImage, t: number) => RgbImage {
  const random = rng(seed);
  const folds = fractalNoise(WIDTH, HEIGHT, 60, 3, random);
  const fine = fractalNoise(WIDTH, HEIGHT, 2, 1, random);
  return (img, t) => {
    const p = progress(t, duration);
    if (p <= 0) return img;
    const reach = p * 0.88 * HEIGHT;
    for (let x = 0; x < WIDTH; x++) {
      const edge = reach + 18 * Math.sin(x / 37) + 10 * Math.sin(x / 13 + 1);
      for (let y = 0; y < Math.min(HEIGHT, edge); y++) {
        const i = y * WIDTH + x;
        const v = 34 + 14 * Math.sin((x * 0.8 + y * 0.35) / 21 + folds[i]! * 4) + fine[i]! * 5;
        const k = i * 3;
        img.rgb[k] = v + 4;
        img.rgb[k + 1] = v + 2;
        img.rgb[k + 2] = v + 6;
      }
    }
    return img;
  };
}

/** A hand over the lens: out of focus, so a huge dark warm blob with very soft edges. */
function handPaint(seed: string, duration: number): (img: RgbImage, t: number) => RgbImage {
  const random = rng(seed);
  const w = Math.round(WIDTH * 1.6);
  const h = Math.round(HEIGHT * 1.6);
  const mask = ellipseMask(w, h, 110);
  const tone = fractalNoise(w, h, 90, 2, random);
  return (img, t) => {
    const p = progress(t, duration);
    if (p <= 0) return img;
    // Comes in from the lower right, ends a little off centre, trembling by a pixel or two.
    const ox = Math.round(-0.22 * w + (1 - p) * WIDTH * 1.1 + Math.sin(t * 3.1) * 2);
    const oy = Math.round(-0.16 * h + (1 - p) * HEIGHT * 1.1 + Math.cos(t * 2.3) * 2);
    for (let y = Math.max(0, oy); y < Math.min(HEIGHT, oy + h); y++) {
      for (let x = Math.max(0, ox); x < Math.min(WIDTH, ox + w); x++) {
        const m = y - oy;
        const n = x - ox;
        const a = mask[m * w + n]! / 255;
        if (a <= 0) continue;
        const v = tone[m * w + n]! * 10;
        const k = (y * WIDTH + x) * 3;
        img.rgb[k] = img.rgb[k]! + (72 + v - img.rgb[k]!) * a;
        img.rgb[k + 1] = img.rgb[k + 1]! + (46 + v * 0.7 - img.rgb[k + 1]!) * a;
        img.rgb[k + 2] = img.rgb[k + 2]! + (38 + v * 0.6 - img.rgb[k + 2]!) * a;
      }
    }
    return img;
  };
}

/** Defocus (and, with `milk`, paint sprayed on the window): blur growing to sigma over `duration`. */
function blurPaint(seed: string, sigma: number, duration: number, milk = 0): (img: RgbImage, t: number) => RgbImage {
  const blotches = milk > 0 ? fractalNoise(WIDTH, HEIGHT, 50, 3, rng(seed)) : undefined;
  return (img, t) => {
    const p = progress(t, duration);
    if (p <= 0) return img;
    const out = blur(img, sigma * p);
    if (blotches) {
      for (let i = 0; i < WIDTH * HEIGHT; i++) {
        const a = clamp01(milk * p * (0.8 + blotches[i]! * 0.6));
        for (let c = 0; c < 3; c++) out.rgb[i * 3 + c] = out.rgb[i * 3 + c]! + (206 - out.rgb[i * 3 + c]!) * a;
      }
    }
    return out;
  };
}

/** The camera knocked aside: the view window slides across a larger picture. */
function viewPaint(wide: RgbImage, from: [number, number], to: [number, number], duration: number): (img: RgbImage, t: number) => RgbImage {
  const fits = (p: [number, number]): boolean => p[0] >= 0 && p[1] >= 0 && p[0] + WIDTH <= wide.width && p[1] + HEIGHT <= wide.height;
  if (!fits(from) || !fits(to)) throw new RangeError(`view window ${JSON.stringify([from, to])} leaves the ${wide.width}x${wide.height} picture`);
  return (_img, t) => {
    const p = progress(t, duration);
    return crop(wide, { x: from[0] + (to[0] - from[0]) * p, y: from[1] + (to[1] - from[1]) * p, width: WIDTH, height: HEIGHT });
  };
}

interface TamperOptions {
  name: string;
  description: string;
  photo: DarknetPhoto;
  /** the photo covers `scale` times the frame; the normal view is the centred window */
  scale?: number;
  actors?: Actor[];
  paint?: (wide: RgbImage, centre: [number, number]) => (img: RgbImage, t: number) => RgbImage;
  light?: (t: number) => number;
  /** the event due and when (seconds) */
  expect?: { kind: AnalysisKind; at: number };
}

async function tamperClip(photos: Photos, o: TamperOptions): Promise<Clip> {
  const scale = o.scale ?? 1.14;
  const wide = await widePhoto(photos, o.photo, scale);
  const centre: [number, number] = [Math.round((wide.width - WIDTH) / 2), Math.round((wide.height - HEIGHT) / 2)];
  return stageClip({
    name: o.name,
    description: o.description,
    seconds: SECONDS,
    camera: CAMERA,
    events: o.expect ? [{ kind: o.expect.kind, atSeconds: o.expect.at }] : [],
    background: crop(wide, { x: centre[0], y: centre[1], width: WIDTH, height: HEIGHT }),
    ...(o.actors ? { actors: await ActorLayer.create(photos, o.actors) } : {}),
    ...(o.paint ? { paint: o.paint(wide, centre) } : {}),
    ...(o.light ? { light: o.light } : {}),
  });
}

export const TAMPER_CLIPS: ClipSpec[] = [
  {
    name: 'tamper-cover',
    scene: 'tamper',
    version: 1,
    quick: true,
    build: (photos) =>
      tamperClip(photos, {
        name: 'tamper-cover',
        description: 'a person passes; at 15 s a dark cloth is drawn down over ~88 % of the view (complete at 16.5 s) and stays',
        photo: 'horses.jpg',
        actors: [passer('blueJacket', 3, 8, 470, 210)],
        paint: () => clothPaint('tamper-cover', 1.5),
        expect: { kind: 'occlusion', at: T0 + 1.5 },
      }),
  },
  {
    name: 'tamper-hand',
    scene: 'tamper',
    version: 2,
    quick: false,
    build: (photos) =>
      tamperClip(photos, {
        name: 'tamper-hand',
        description: 'at 15 s a hand is held over the lens (out of focus, complete at 16 s) and stays',
        photo: 'dog.jpg',
        paint: () => handPaint('tamper-hand', 1),
        expect: { kind: 'occlusion', at: T0 + 1 },
      }),
  },
  {
    name: 'tamper-blur',
    scene: 'tamper',
    version: 1,
    quick: false,
    build: (photos) =>
      tamperClip(photos, {
        name: 'tamper-blur',
        description: 'a person passes; at 15 s the lens is thrown out of focus (Gaussian sigma 14 px at 17 s) and stays so',
        photo: 'giraffe.jpg',
        actors: [passer('lightHoodie', 4, 7, 540, 200, false)],
        paint: () => blurPaint('tamper-blur', 14, 2),
        expect: { kind: 'occlusion', at: T0 + 2 },
      }),
  },
  {
    name: 'tamper-spray',
    scene: 'tamper',
    version: 1,
    quick: false,
    build: (photos) =>
      tamperClip(photos, {
        name: 'tamper-spray',
        description: 'at 15 s paint is sprayed on the window: blur and a milky, blotchy veil, complete at 17 s',
        photo: 'kite.jpg',
        paint: () => blurPaint('tamper-spray', 7, 2, 0.6),
        expect: { kind: 'occlusion', at: T0 + 2 },
      }),
  },
  {
    name: 'tamper-shift',
    scene: 'tamper',
    version: 1,
    quick: true,
    build: (photos) =>
      tamperClip(photos, {
        name: 'tamper-shift',
        description: 'at 15 s the camera is knocked: the view moves 8 % right and 2 % down within 1 s and stays there',
        photo: 'eagle.jpg',
        scale: 1.2,
        paint: (wide, c) => viewPaint(wide, c, [c[0] + Math.round(0.08 * WIDTH), c[1] + Math.round(0.02 * HEIGHT)], 1),
        expect: { kind: 'moved', at: T0 + 1 },
      }),
  },
  {
    name: 'tamper-pan',
    scene: 'tamper',
    // 2: dated at the start of the pan (a gradual move has no single "complete" instant; an
    // operator wants to know when the camera began to be turned)
    version: 2,
    quick: false,
    build: (photos) =>
      tamperClip(photos, {
        name: 'tamper-pan',
        description: 'at 15 s the camera is turned: a 3 s pan of 10 % of the width to the left (and a little up), then still',
        photo: 'horses.jpg',
        scale: 1.22,
        paint: (wide, c) => viewPaint(wide, c, [c[0] - Math.round(0.1 * WIDTH), c[1] - Math.round(0.03 * HEIGHT)], 3),
        expect: { kind: 'moved', at: T0 },
      }),
  },
  {
    name: 'tamper-none-light',
    scene: 'tamper',
    version: 1,
    quick: false,
    build: (photos) =>
      tamperClip(photos, {
        name: 'tamper-none-light',
        description: 'no tampering: the light fades to half over 8 s, then a lamp comes on (step to 125 %): no events',
        photo: 'eagle.jpg',
        light: ramp([[0, 1], [10, 1], [18, 0.5], [24, 0.5], [24, 1.25]]),
      }),
  },
  {
    name: 'tamper-none-close',
    scene: 'tamper',
    version: 1,
    quick: false,
    build: (photos) =>
      tamperClip(photos, {
        name: 'tamper-none-close',
        description: 'no tampering: people walk right past the lens (nearly the full frame height) for a few seconds: no events',
        photo: 'giraffe.jpg',
        actors: [passer('blueJacket', 10, 3, 700, 720), passer('navyHoodie', 24, 4, 660, 600, false)],
      }),
  },
];
