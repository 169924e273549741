// Small image helpers the edge stages share: luma from RGB, resizing, cropping and blurring of
// 8-bit gray images, and decoding a still image (JPEG/PNG fixtures, snapshots) through ffmpeg.
// Plain loops over typed arrays: at analysis sizes (≤ 704×576) they cost well under a millisecond
// or two, and they keep the edge free of native image libraries.

import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import { CaptureFailed } from '../capture/errors.ts';
import type { Box } from '../types.ts';

/** An 8-bit single-channel image, row-major. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** BT.601 luma in integer arithmetic: (77 R + 150 G + 29 B + 128) >> 8, weights summing to 256. */
export function rgbToGray(rgb: Uint8Array, width: number, height: number, out?: Uint8Array): Uint8Array {
  const n = width * height;
  if (rgb.length < n * 3) throw new RangeError(`rgb holds ${rgb.length} bytes, ${width}x${height} needs ${n * 3}`);
  const gray = out ?? new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    gray[i] = (77 * rgb[j]! + 150 * rgb[j + 1]! + 29 * rgb[j + 2]! + 128) >> 8;
  }
  return gray;
}

export type ResizeMode = 'area' | 'bilinear';

/**
 * Resizes a gray image. 'area' averages the source pixels each destination pixel covers (the
 * right choice for shrinking: no aliasing); 'bilinear' interpolates between pixel centres (for
 * enlarging, or shrinking by less than 2).
 */
export function resizeGray(src: GrayImage, width: number, height: number, mode: ResizeMode = 'area'): GrayImage {
  if (!(width >= 1 && height >= 1) || !Number.isInteger(width) || !Number.isInteger(height)) {
    throw new RangeError(`cannot resize to ${width}x${height}`);
  }
  if (width === src.width && height === src.height) return { width, height, data: src.data.slice() };
  return mode === 'area' && width <= src.width && height <= src.height ? resizeArea(src, width, height) : resizeBilinear(src, width, height);
}

function resizeArea(src: GrayImage, width: number, height: number): GrayImage {
  const data = new Uint8Array(width * height);
  const sx = src.width / width;
  const sy = src.height / height;
  // Source column span of each destination column, computed once.
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    x0[x] = Math.floor(x * sx);
    x1[x] = Math.max(x0[x]! + 1, Math.min(src.width, Math.floor((x + 1) * sx)));
  }
  const rowSums = new Uint32Array(width);
  for (let y = 0; y < height; y++) {
    const ya = Math.floor(y * sy);
    const yb = Math.max(ya + 1, Math.min(src.height, Math.floor((y + 1) * sy)));
    rowSums.fill(0);
    for (let yy = ya; yy < yb; yy++) {
      const row = yy * src.width;
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let xx = x0[x]!; xx < x1[x]!; xx++) s += src.data[row + xx]!;
        rowSums[x]! += s;
      }
    }
    const rows = yb - ya;
    const out = y * width;
    for (let x = 0; x < width; x++) {
      const count = rows * (x1[x]! - x0[x]!);
      data[out + x] = Math.floor((rowSums[x]! + (count >> 1)) / count);
    }
  }
  return { width, height, data };
}

function resizeBilinear(src: GrayImage, width: number, height: number): GrayImage {
  return { width, height, data: bilinearInto(src, width, height, new Uint8Array(width * height)) };
}

/**
 * Bilinear resampling between pixel centres into `out` (width × height); a Uint8Array is rounded,
 * a Float32Array keeps the fraction. One implementation for gray frames and float work images.
 */
export function bilinearInto<T extends Uint8Array | Float32Array>(
  src: { width: number; height: number; data: ArrayLike<number> },
  width: number,
  height: number,
  out: T,
): T {
  const round = out instanceof Uint8Array;
  const sx = src.width / width;
  const sy = src.height / height;
  const maxX = src.width - 1;
  const maxY = src.height - 1;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(maxY, Math.max(0, (y + 0.5) * sy - 0.5));
    const ya = Math.floor(fy);
    const yb = Math.min(maxY, ya + 1);
    const wy = fy - ya;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(maxX, Math.max(0, (x + 0.5) * sx - 0.5));
      const xa = Math.floor(fx);
      const xb = Math.min(maxX, xa + 1);
      const wx = fx - xa;
      const top = src.data[ya * src.width + xa]! * (1 - wx) + src.data[ya * src.width + xb]! * wx;
      const bottom = src.data[yb * src.width + xa]! * (1 - wx) + src.data[yb * src.width + xb]! * wx;
      const v = top * (1 - wy) + bottom * wy;
      out[y * width + x] = round ? Math.round(v) : v;
    }
  }
  return out;
}

/** Copies the part of `src` inside `box` (frame pixels, rounded outwards, clipped to the image). */
export function cropGray(src: GrayImage, box: Box): GrayImage {
  const x1 = Math.max(0, Math.floor(box.x1));
  const y1 = Math.max(0, Math.floor(box.y1));
  const x2 = Math.min(src.width, Math.ceil(box.x2));
  const y2 = Math.min(src.height, Math.ceil(box.y2));
  const width = Math.max(0, x2 - x1);
  const height = Math.max(0, y2 - y1);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (y1 + y) * src.width + x1;
    data.set(src.data.subarray(from, from + width), y * width);
  }
  return { width, height, data };
}

/** Box blur of the given radius (window 2r+1), separable with running sums; edges are clamped. */
export function boxBlurGray(src: GrayImage, radius: number): GrayImage {
  const r = Math.floor(radius);
  if (r <= 0) return { width: src.width, height: src.height, data: src.data.slice() };
  const { width, height } = src;
  const tmp = new Uint8Array(width * height);
  const out = new Uint8Array(width * height);
  blurLine(src.data, tmp, width, height, 1, width, r);
  blurLine(tmp, out, height, width, width, 1, r);
  return { width, height, data: out };
}

/**
 * Blurs `lines` lines of `length` pixels each: pixel i of line l is at l*lineStep + i*step.
 * Positions outside the line repeat the edge pixel.
 */
function blurLine(src: Uint8Array, dst: Uint8Array, length: number, lines: number, step: number, lineStep: number, r: number): void {
  const window = 2 * r + 1;
  const half = window >> 1;
  const last = length - 1;
  for (let l = 0; l < lines; l++) {
    const base = l * lineStep;
    let sum = 0;
    for (let i = -r; i <= r; i++) sum += src[base + Math.min(last, Math.max(0, i)) * step]!;
    for (let i = 0; i < length; i++) {
      dst[base + i * step] = Math.floor((sum + half) / window);
      const add = Math.min(last, i + r + 1);
      const drop = Math.max(0, i - r);
      sum += src[base + add * step]! - src[base + drop * step]!;
    }
  }
}

/** Three box passes: close to a Gaussian of sigma ≈ radius, at the cost of three box blurs. */
export function blurGray(src: GrayImage, radius: number): GrayImage {
  return boxBlurGray(boxBlurGray(boxBlurGray(src, radius), radius), radius);
}

export interface DecodedImage {
  width: number;
  height: number;
  /** RGB24, row-major */
  rgb: Uint8Array;
}

/**
 * Decodes the first picture of an image (or video) file to RGB24 with ffmpeg, scaled to
 * `width`×`height` when given (one of them alone keeps the aspect ratio). ffmpeg writes a PPM,
 * whose header gives the size it chose. Throws CaptureFailed when ffmpeg cannot read the file.
 */
export async function decodeImageFile(path: string, size: { width?: number; height?: number } = {}): Promise<DecodedImage> {
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', `file:${path}`, '-frames:v', '1'];
  if (size.width !== undefined || size.height !== undefined) {
    args.push('-vf', `scale=${size.width ?? -1}:${size.height ?? -1}`);
  }
  args.push('-f', 'image2pipe', '-c:v', 'ppm', '-pix_fmt', 'rgb24', 'pipe:1');
  const { stdout } = await runFfmpeg(args, { error: CaptureFailed, what: `cannot decode image ${path}` });
  try {
    return parsePpm(stdout);
  } catch (parseErr) {
    throw CaptureFailed(`cannot decode image ${path}: ${(parseErr as Error).message}`, { cause: parseErr });
  }
}

/** Binary PPM (P6, maxval 255): "P6 <w> <h> 255" separated by white space, then one byte, then pixels. */
function parsePpm(buf: Buffer): DecodedImage {
  const m = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.subarray(0, 64).toString('latin1'));
  if (!m) throw new Error('ffmpeg did not write a binary PPM');
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (m[3] !== '255') throw new Error(`unexpected PPM maxval ${m[3]}`);
  const start = m[0].length;
  const bytes = width * height * 3;
  if (buf.length < start + bytes) throw new Error(`PPM truncated: ${buf.length - start} of ${bytes} pixel bytes`);
  return { width, height, rgb: buf.subarray(start, start + bytes) };
}
