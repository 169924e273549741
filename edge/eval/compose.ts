// The image work the synthetic scenes need: photos decoded through ffmpeg, crops, resampling,
// feathered pasting (so a pasted person has no hard rectangular edge for a detector to key on),
// blur, lighting gain and sensor noise. RGB24 images in plain typed arrays, like the pipeline's.
import { decodeImageFile } from '../frame/image.ts';
import type { Rng } from './prng.ts';

export interface RgbImage {
  width: number;
  height: number;
  /** RGB24, row-major */
  rgb: Uint8Array;
}

/** An image with coverage: alpha 0 (transparent) … 255 (opaque) per pixel. */
export interface Sprite extends RgbImage {
  alpha: Uint8Array;
}

/** Pixel rectangle: left, top, width, height. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function createImage(width: number, height: number, fill: readonly [number, number, number] = [0, 0, 0]): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i += 3) {
    rgb[i] = fill[0];
    rgb[i + 1] = fill[1];
    rgb[i + 2] = fill[2];
  }
  return { width, height, rgb };
}

export function copyImage(img: RgbImage): RgbImage {
  return { width: img.width, height: img.height, rgb: img.rgb.slice() };
}

/** Decodes a photo (JPEG, PNG) to RGB with ffmpeg, scaled when a size is given. */
export async function loadPhoto(path: string, size: { width?: number; height?: number } = {}): Promise<RgbImage> {
  const img = await decodeImageFile(path, size);
  return { width: img.width, height: img.height, rgb: new Uint8Array(img.rgb) };
}

export function crop(img: RgbImage, r: Rect): RgbImage {
  const x0 = Math.max(0, Math.round(r.x));
  const y0 = Math.max(0, Math.round(r.y));
  const w = Math.min(img.width - x0, Math.round(r.width));
  const h = Math.min(img.height - y0, Math.round(r.height));
  if (w < 1 || h < 1) throw new RangeError(`crop ${JSON.stringify(r)} lies outside the ${img.width}x${img.height} image`);
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const from = ((y0 + y) * img.width + x0) * 3;
    rgb.set(img.rgb.subarray(from, from + w * 3), y * w * 3);
  }
  return { width: w, height: h, rgb };
}

export function flipHorizontal<T extends RgbImage>(img: T): T {
  const { width: w, height: h } = img;
  const rgb = new Uint8Array(img.rgb.length);
  const alpha = 'alpha' in img ? new Uint8Array((img as unknown as Sprite).alpha.length) : undefined;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = y * w + x;
      const d = y * w + (w - 1 - x);
      rgb[d * 3] = img.rgb[s * 3]!;
      rgb[d * 3 + 1] = img.rgb[s * 3 + 1]!;
      rgb[d * 3 + 2] = img.rgb[s * 3 + 2]!;
      if (alpha) alpha[d] = (img as unknown as Sprite).alpha[s]!;
    }
  }
  return { ...img, rgb, ...(alpha ? { alpha } : {}) };
}

/** Resampling weights of one axis: a triangle filter widened to the scale when shrinking (no aliasing). */
function axisWeights(src: number, dst: number): { start: Int32Array; count: Int32Array; weights: Float32Array; stride: number } {
  const scale = src / dst;
  const support = Math.max(1, scale);
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights = new Float32Array(dst * stride);
  for (let o = 0; o < dst; o++) {
    const centre = (o + 0.5) * scale - 0.5;
    const lo = Math.max(0, Math.floor(centre - support) + 1);
    const hi = Math.min(src - 1, Math.ceil(centre + support) - 1);
    let sum = 0;
    let n = 0;
    for (let k = lo; k <= hi && n < stride; k++, n++) {
      const w = Math.max(0, 1 - Math.abs(k - centre) / support);
      weights[o * stride + n] = w;
      sum += w;
    }
    if (sum === 0) {
      // Enlarging past the last pixel centre: repeat the edge pixel.
      const k = Math.min(src - 1, Math.max(0, Math.round(centre)));
      start[o] = k;
      count[o] = 1;
      weights[o * stride] = 1;
      continue;
    }
    for (let i = 0; i < n; i++) weights[o * stride + i]! /= sum;
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, stride };
}

/** Resamples `channels` interleaved planes of `src` (separable: rows, then columns). */
function resamplePlanes(src: Uint8Array, sw: number, sh: number, channels: number, dw: number, dh: number): Uint8Array {
  const ax = axisWeights(sw, dw);
  const ay = axisWeights(sh, dh);
  const tmp = new Float32Array(dw * sh * channels);
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < dw; x++) {
      const s0 = ax.start[x]!;
      const n = ax.count[x]!;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let i = 0; i < n; i++) acc += ax.weights[x * ax.stride + i]! * src[((y * sw) + s0 + i) * channels + c]!;
        tmp[(y * dw + x) * channels + c] = acc;
      }
    }
  }
  const out = new Uint8Array(dw * dh * channels);
  for (let y = 0; y < dh; y++) {
    const s0 = ay.start[y]!;
    const n = ay.count[y]!;
    for (let x = 0; x < dw; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let i = 0; i < n; i++) acc += ay.weights[y * ay.stride + i]! * tmp[((s0 + i) * dw + x) * channels + c]!;
        out[(y * dw + x) * channels + c] = acc < 0 ? 0 : acc > 255 ? 255 : Math.round(acc);
      }
    }
  }
  return out;
}

export function resize(img: RgbImage, width: number, height: number): RgbImage {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  if (w === img.width && h === img.height) return copyImage(img);
  return { width: w, height: h, rgb: resamplePlanes(img.rgb, img.width, img.height, 3, w, h) };
}

export function resizeSprite(sprite: Sprite, width: number, height: number): Sprite {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  return {
    width: w,
    height: h,
    rgb: resamplePlanes(sprite.rgb, sprite.width, sprite.height, 3, w, h),
    alpha: resamplePlanes(sprite.alpha, sprite.width, sprite.height, 1, w, h),
  };
}

/** Coverage that falls smoothly to 0 over `feather` pixels at every edge. */
export function featherMask(width: number, height: number, feather: number): Uint8Array {
  const alpha = new Uint8Array(width * height);
  const ramp = (d: number): number => {
    if (feather <= 0) return 1;
    const t = Math.min(1, Math.max(0, d / feather));
    return t * t * (3 - 2 * t);
  };
  for (let y = 0; y < height; y++) {
    const fy = ramp(Math.min(y + 0.5, height - y - 0.5));
    for (let x = 0; x < width; x++) {
      alpha[y * width + x] = Math.round(255 * fy * ramp(Math.min(x + 0.5, width - x - 0.5)));
    }
  }
  return alpha;
}

/** A crop turned into a sprite with feathered edges. */
export function toSprite(img: RgbImage, feather: number): Sprite {
  return { ...img, alpha: featherMask(img.width, img.height, feather) };
}

/**
 * Blends `src` over `dst` with its top-left corner at (x, y) (rounded), clipped to `dst`;
 * `opacity` scales the sprite's alpha. Returns the pasted rectangle inside `dst` (possibly empty).
 */
export function paste(dst: RgbImage, src: RgbImage | Sprite, x: number, y: number, opacity = 1): Rect {
  const ox = Math.round(x);
  const oy = Math.round(y);
  const x0 = Math.max(0, ox);
  const y0 = Math.max(0, oy);
  const x1 = Math.min(dst.width, ox + src.width);
  const y1 = Math.min(dst.height, oy + src.height);
  const alpha = 'alpha' in src ? src.alpha : undefined;
  const k = Math.max(0, Math.min(1, opacity)) / 255;
  for (let yy = y0; yy < y1; yy++) {
    for (let xx = x0; xx < x1; xx++) {
      const s = (yy - oy) * src.width + (xx - ox);
      const a = (alpha ? alpha[s]! : 255) * k;
      if (a <= 0) continue;
      const d = (yy * dst.width + xx) * 3;
      for (let c = 0; c < 3; c++) dst.rgb[d + c] = Math.round(dst.rgb[d + c]! + (src.rgb[s * 3 + c]! - dst.rgb[d + c]!) * a);
    }
  }
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/** One box-blur pass of radius r over `lines` lines of `length` samples, edges clamped. */
function boxPass(src: Float32Array, dst: Float32Array, lines: number, length: number, lineStep: number, step: number, r: number): void {
  const norm = 1 / (2 * r + 1);
  for (let l = 0; l < lines; l++) {
    const base = l * lineStep;
    const at = (i: number): number => src[base + Math.min(length - 1, Math.max(0, i)) * step]!;
    let acc = 0;
    for (let i = -r; i <= r; i++) acc += at(i);
    for (let i = 0; i < length; i++) {
      dst[base + i * step] = acc * norm;
      acc += at(i + r + 1) - at(i - r);
    }
  }
}

/** Approximately Gaussian blur (three box passes each way, per channel), sigma in pixels. */
export function blur(img: RgbImage, sigma: number): RgbImage {
  if (sigma <= 0) return copyImage(img);
  // Three boxes of width 2r + 1 have variance 3·((2r + 1)² − 1)/12 = σ².
  const r = Math.max(1, Math.round((Math.sqrt(4 * sigma * sigma + 1) - 1) / 2));
  const { width: w, height: h } = img;
  const n = w * h;
  const rgb = new Uint8Array(img.rgb.length);
  let a = new Float32Array(n);
  let b = new Float32Array(n);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) a[i] = img.rgb[i * 3 + c]!;
    for (let pass = 0; pass < 3; pass++) {
      boxPass(a, b, h, w, w, 1, r);
      [a, b] = [b, a];
      boxPass(a, b, w, h, 1, w, r);
      [a, b] = [b, a];
    }
    for (let i = 0; i < n; i++) rgb[i * 3 + c] = Math.max(0, Math.min(255, Math.round(a[i]!)));
  }
  return { width: w, height: h, rgb };
}

/** Multiplies every pixel by `gain` and adds `offset` (a lamp dimming, a light switched on). */
export function applyLight(img: RgbImage, gain: number, offset = 0): void {
  const rgb = img.rgb;
  for (let i = 0; i < rgb.length; i++) {
    const v = rgb[i]! * gain + offset;
    rgb[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

/** A field of signed noise to add to frames (camera sensor grain), precomputed once per clip. */
export function noiseField(length: number, sigma: number, random: Rng): Int8Array {
  const out = new Int8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.max(-127, Math.min(127, Math.round(random.normal() * sigma)));
  return out;
}

/** Adds noise starting at `offset` into the field (wrapping), so frames can share one field. */
export function addNoise(img: RgbImage, field: Int8Array, offset: number): void {
  const rgb = img.rgb;
  const n = field.length;
  let j = ((offset % n) + n) % n;
  for (let i = 0; i < rgb.length; i++) {
    const v = rgb[i]! + field[j]!;
    rgb[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    if (++j === n) j = 0;
  }
}

/** Fraction of pixels inside `r` whose RGB differs from `b` by more than `threshold` (max channel). */
export function changedShare(a: RgbImage, b: RgbImage, r: Rect, threshold = 24): number {
  let changed = 0;
  let total = 0;
  const x0 = Math.max(0, Math.round(r.x));
  const y0 = Math.max(0, Math.round(r.y));
  const x1 = Math.min(a.width, Math.round(r.x + r.width));
  const y1 = Math.min(a.height, Math.round(r.y + r.height));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * a.width + x) * 3;
      const d = Math.max(Math.abs(a.rgb[i]! - b.rgb[i]!), Math.abs(a.rgb[i + 1]! - b.rgb[i + 1]!), Math.abs(a.rgb[i + 2]! - b.rgb[i + 2]!));
      if (d > threshold) changed++;
      total++;
    }
  }
  return total === 0 ? 0 : changed / total;
}
