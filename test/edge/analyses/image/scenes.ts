// Frames for the image-analysis tests, built in memory: a real photograph (darknet's horses.jpg,
// decoded to gray by the real ffmpeg) cut at chosen offsets, covered, blurred or relit, and a
// synthetic conveyor belt. Not a test file itself.
import { runFfmpeg } from '../../../../src/media/ffmpeg.ts';
import { darknetPhoto, type DarknetPhoto } from '../../../../edge/eval/darknetPhotos.ts';
import { rng } from '../../../../edge/eval/prng.ts';
import type { Frame, FrameContext } from '../../../../edge/types.ts';

export interface Gray {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A darknet photo decoded to 8-bit gray at width×height (aspect not kept). */
export async function grayPhoto(name: DarknetPhoto, width: number, height: number): Promise<Gray> {
  const path = await darknetPhoto(name);
  const { stdout } = await runFfmpeg(['-nostdin', '-loglevel', 'error', '-i', path, '-vf', `scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], {
    maxStdoutBytes: 64 * 1024 * 1024,
  });
  if (stdout.length !== width * height) throw new Error(`ffmpeg gave ${stdout.length} bytes for ${width}x${height}`);
  return { width, height, data: new Uint8Array(stdout) };
}

/** The width×height window of `src` whose top-left corner is (x, y). */
export function cut(src: Gray, x: number, y: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let r = 0; r < height; r++) out.set(src.data.subarray((y + r) * src.width + x, (y + r) * src.width + x + width), r * width);
  return out;
}

/** Adds seeded sensor noise (±amp) to a copy, so consecutive frames of a still scene are not identical. */
export function noisy(data: Uint8Array, amp: number, seed: string): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = clamp(data[i]! + (r.next() * 2 - 1) * amp);
  return out;
}

export function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** out = gain × in + offset, clamped. */
export function relit(data: Uint8Array, gain: number, offset = 0): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = clamp(data[i]! * gain + offset);
  return out;
}

/** Paints a rectangle of one value (or a function of x, y) into a copy. */
export function paint(data: Uint8Array, width: number, x1: number, y1: number, x2: number, y2: number, value: number | ((x: number, y: number) => number)): Uint8Array {
  const out = data.slice();
  const height = data.length / width;
  for (let y = Math.max(0, Math.floor(y1)); y < Math.min(height, Math.ceil(y2)); y++) {
    for (let x = Math.max(0, Math.floor(x1)); x < Math.min(width, Math.ceil(x2)); x++) {
      out[y * width + x] = typeof value === 'number' ? value : clamp(value(x, y));
    }
  }
  return out;
}

/** Separable box blur of radius r, three passes (≈ Gaussian of sigma r). */
export function blurred(data: Uint8Array, width: number, r: number): Uint8Array {
  const height = data.length / width;
  let cur = Float32Array.from(data);
  for (let pass = 0; pass < 6; pass++) {
    const horizontal = pass % 2 === 0;
    const next = new Float32Array(cur.length);
    const len = horizontal ? width : height;
    const lines = horizontal ? height : width;
    for (let l = 0; l < lines; l++) {
      for (let i = 0; i < len; i++) {
        let s = 0;
        for (let k = -r; k <= r; k++) {
          const j = Math.min(len - 1, Math.max(0, i + k));
          s += horizontal ? cur[l * width + j]! : cur[j * width + l]!;
        }
        if (horizontal) next[l * width + i] = s / (2 * r + 1);
        else next[i * width + l] = s / (2 * r + 1);
      }
    }
    cur = next;
  }
  return Uint8Array.from(cur, clamp);
}

export function frameOf(camera: string, gray: Uint8Array, width: number, height: number, seq: number, at: number): Frame {
  return { camera, seq, at, width, height, gray, rgb: new Uint8Array(width * height * 3) };
}

export function contextOf(frame: Frame): FrameContext {
  return { frame, motion: { ratio: 0, active: false, regions: [] }, detections: undefined, tracks: [] };
}
