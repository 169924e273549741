// Synthetic frames for the evidence and live tests: made in memory, deterministic.
import type { Frame, Marks, Rgb } from '../../../edge/types.ts';

export const T0 = Date.UTC(2024, 0, 2, 3, 4, 0);

/** A frame filled with one colour. */
export function solidFrame(seq: number, at: number, width: number, height: number, color: Rgb, camera = 'cam-1'): Frame {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i += 3) {
    rgb[i] = color[0];
    rgb[i + 1] = color[1];
    rgb[i + 2] = color[2];
  }
  return { camera, seq, at, width, height, rgb, gray: new Uint8Array(width * height) };
}

/** xorshift32: the same noise on every run. */
export function noise(seed: number): (bytes: Uint8Array) => void {
  let s = seed >>> 0 || 1;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i += 4) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      bytes[i] = s & 0xff;
      if (i + 1 < bytes.length) bytes[i + 1] = (s >>> 8) & 0xff;
      if (i + 2 < bytes.length) bytes[i + 2] = (s >>> 16) & 0xff;
      if (i + 3 < bytes.length) bytes[i + 3] = s >>> 24;
    }
  };
}

/** A frame of random pixels (the worst case for the encoder). */
export function noiseFrame(seq: number, at: number, width: number, height: number, seed = seq + 1): Frame {
  const f = solidFrame(seq, at, width, height, [0, 0, 0]);
  noise(seed)(f.rgb);
  return f;
}

export function boxMarks(x1: number, y1: number, x2: number, y2: number, color: Rgb, label = 'person'): Marks[] {
  return [{ boxes: [{ box: { x1, y1, x2, y2 }, label, color }], lines: [], polygons: [], texts: [] }];
}
