// The common clip shape: a background, actors over it, then camera effects applied to the whole
// picture (lighting gain, sensor grain). Scenes that need more (the belt, tampering) pass a
// `paint` hook that draws on the frame before the camera effects.
import { addNoise, applyLight, copyImage, noiseField, type RgbImage } from '../compose.ts';
import { rng } from '../prng.ts';
import type { TruthEvent } from '../truth.ts';
import type { ActorLayer } from './actors.ts';
import { FPS, HEIGHT, WIDTH, type Clip, type SceneObject } from './clip.ts';

export interface StageOptions {
  name: string;
  description: string;
  seconds: number;
  camera: Clip['camera'];
  events: TruthEvent[];
  background: RgbImage;
  actors?: ActorLayer;
  /** lighting gain at t (1 = as photographed) */
  light?: (t: number) => number;
  /** redraws the picture at t (after the actors): for effects on the whole view */
  paint?: (img: RgbImage, t: number) => RgbImage;
  /** sensor grain, standard deviation in grey levels (default 2) */
  grain?: number;
  crf?: number;
  bitrateKbps?: number;
}

/** Builds a Clip; frames depend only on their index (grain offsets come from a seeded PRNG). */
export function stageClip(o: StageOptions): Clip {
  const frames = Math.round(o.seconds * FPS);
  const grain = o.grain ?? 2;
  const field = grain > 0 ? noiseField(WIDTH * HEIGHT * 3 + 7919, grain, rng(`${o.name}:grain`)) : undefined;
  const objectsAt = (index: number): { img: RgbImage; objects: SceneObject[] } => {
    const t = index / FPS;
    let img = copyImage(o.background);
    const objects = o.actors ? o.actors.draw(img, t) : [];
    if (o.paint) img = o.paint(img, t);
    return { img, objects };
  };
  return {
    name: o.name,
    description: o.description,
    fps: FPS,
    width: WIDTH,
    height: HEIGHT,
    frames,
    camera: o.camera,
    events: o.events,
    ...(o.crf === undefined ? {} : { crf: o.crf }),
    ...(o.bitrateKbps === undefined ? {} : { bitrateKbps: o.bitrateKbps }),
    render(index) {
      const { img } = objectsAt(index);
      const gain = o.light ? o.light(index / FPS) : 1;
      if (gain !== 1) applyLight(img, gain);
      if (field) addNoise(img, field, rng(`${o.name}:frame:${index}`).int(0, field.length - 1));
      return img;
    },
    objects(index) {
      return objectsAt(index).objects;
    },
  };
}

/** Piecewise-linear function through (t, value) points, constant outside them. */
export function ramp(points: readonly (readonly [number, number])[]): (t: number) => number {
  return (t) => {
    const first = points[0];
    if (!first) return 1;
    if (t <= first[0]) return first[1];
    for (let i = 1; i < points.length; i++) {
      const [t1, v1] = points[i]!;
      if (t <= t1) {
        const [t0, v0] = points[i - 1]!;
        return t1 === t0 ? v1 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
      }
    }
    return points[points.length - 1]![1];
  };
}
