// What every scene generator hands the set builder: a clip that can render any of its frames on
// demand (deterministically, in any order) and knows its ground truth and the boxes of what it
// pasted. Frames are made at the pipeline's analysis size and rate.
import type { Box, ObjectClass } from '../../types.ts';
import { loadPhoto, type RgbImage } from '../compose.ts';
import { darknetPhoto, type DarknetPhoto } from '../darknetPhotos.ts';
import { TRUTH_FORMAT, type TruthEvent, type TruthFile } from '../truth.ts';

export const WIDTH = 704;
export const HEIGHT = 576;
export const FPS = 5;

/** Something pasted into a frame that a detector should find. */
export interface SceneObject {
  cls: ObjectClass;
  /** frame pixels, clipped to the frame */
  box: Box;
}

export interface Clip {
  /** file name without `.mp4` */
  name: string;
  description: string;
  fps: number;
  width: number;
  height: number;
  frames: number;
  camera: TruthFile['camera'];
  events: TruthEvent[];
  /** frame `index` as RGB24; the same bytes whenever it is asked for */
  render(index: number): RgbImage;
  /** persons and vehicles visible on frame `index` */
  objects(index: number): SceneObject[];
  /** x264 CRF for this clip (static scenes can afford less) */
  crf?: number;
  /** encode at this bitrate cap instead (kbit/s): a mine uplink's share per camera */
  bitrateKbps?: number;
}

/** Loads each photo once per build. */
export class Photos {
  readonly #cache = new Map<DarknetPhoto, Promise<RgbImage>>();
  readonly #cacheDir: string | undefined;

  constructor(cacheDir?: string) {
    this.#cacheDir = cacheDir;
  }

  get(name: DarknetPhoto): Promise<RgbImage> {
    let p = this.#cache.get(name);
    if (!p) {
      p = darknetPhoto(name, this.#cacheDir).then((path) => loadPhoto(path));
      this.#cache.set(name, p);
    }
    return p;
  }
}

export interface ClipSpec {
  name: string;
  /** the generator (scene module) it comes from */
  scene: string;
  /** bumped when the scene's output changes, so cached clips are rebuilt */
  version: number;
  /** part of the small set `npm test` builds */
  quick: boolean;
  build(photos: Photos): Promise<Clip>;
}

/** Frame index shown at `seconds` (frame n is shown at n / fps). */
export function frameAt(seconds: number, fps = FPS): number {
  return Math.round(seconds * fps);
}

/** Rounds a time to the frame grid, to 2 decimals, for truth files people read. */
export function gridSeconds(seconds: number, fps = FPS): number {
  return Math.round(Math.round(seconds * fps) / fps * 100) / 100;
}

export function truthOf(clip: Clip, generator: string): TruthFile {
  return {
    format: TRUTH_FORMAT,
    clip: `${clip.name}.mp4`,
    fps: clip.fps,
    width: clip.width,
    height: clip.height,
    frames: clip.frames,
    camera: clip.camera,
    events: [...clip.events].sort((a, b) => a.atSeconds - b.atSeconds),
    generator,
    description: clip.description,
  };
}

/** The frames of a clip in order, as encodeClip takes them. */
export function* clipFrames(clip: Clip): Generator<Uint8Array> {
  for (let i = 0; i < clip.frames; i++) yield clip.render(i).rgb;
}

/** Intersection of a box with the frame, or undefined when nothing of it is visible. */
export function clipBox(b: Box, width = WIDTH, height = HEIGHT): Box | undefined {
  const x1 = Math.max(0, b.x1);
  const y1 = Math.max(0, b.y1);
  const x2 = Math.min(width, b.x2);
  const y2 = Math.min(height, b.y2);
  return x2 - x1 >= 1 && y2 - y1 >= 1 ? { x1, y1, x2, y2 } : undefined;
}
