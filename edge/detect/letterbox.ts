// Fits an RGB24 frame into the detector's square input without distorting it: scaled (bilinear)
// so its longer side fills the input, centred, the rest padded. Writes the model's layout and
// normalisation directly, so the frame is read once. `toFrame` maps a box back to frame pixels.
import type { Box } from '../types.ts';

export interface LetterboxParams {
  size: number;
  layout: 'nhwc' | 'nchw';
  /** fed value = (pixel − mean) / std, per input channel */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** 'bgr' swaps the first and last input channel */
  channelOrder: 'rgb' | 'bgr';
  /** pad pixel value (0…255, before normalisation) */
  padValue: number;
}

export interface Letterbox {
  /** input pixels per frame pixel */
  scale: number;
  padX: number;
  padY: number;
}

export function letterboxGeometry(width: number, height: number, size: number): Letterbox {
  const scale = Math.min(size / width, size / height);
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);
  return { scale, padX: Math.floor((size - w) / 2), padY: Math.floor((size - h) / 2) };
}

/** fills `out` (size·size·3 floats) from `rgb` and says where the frame went */
export function letterbox(rgb: Uint8Array, width: number, height: number, p: LetterboxParams, out: Float32Array): Letterbox {
  const { size } = p;
  if (rgb.length < width * height * 3) throw new RangeError(`frame ${width}×${height} needs ${width * height * 3} RGB bytes, has ${rgb.length}`);
  if (out.length !== size * size * 3) throw new RangeError(`letterbox output needs ${size * size * 3} floats`);
  const geo = letterboxGeometry(width, height, size);
  const w = Math.round(width * geo.scale);
  const h = Math.round(height * geo.scale);
  const order = p.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const mul = order.map((c) => 1 / p.std[c]!);
  const add = order.map((c) => -p.mean[c]! / p.std[c]!);
  const plane = size * size;
  for (let k = 0; k < 3; k++) {
    const v = p.padValue * mul[k]! + add[k]!;
    if (p.layout === 'nchw') out.fill(v, k * plane, (k + 1) * plane);
    else for (let i = k; i < out.length; i += 3) out[i] = v;
  }

  // source offsets and weights of each output column, pixel centres aligned (half-pixel)
  const xa = new Int32Array(w);
  const xb = new Int32Array(w);
  const fx = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const sx = Math.min(Math.max((x + 0.5) / geo.scale - 0.5, 0), width - 1);
    const x0 = Math.floor(sx);
    xa[x] = x0 * 3;
    xb[x] = Math.min(x0 + 1, width - 1) * 3;
    fx[x] = sx - x0;
  }
  // input channel k reads source channel order[k]; NHWC steps 3 per pixel, NCHW 1 within a plane
  const [c0, c1, c2] = order as [number, number, number];
  const [m0, m1, m2] = mul as [number, number, number];
  const [a0, a1, a2] = add as [number, number, number];
  const nhwc = p.layout === 'nhwc';
  const step = nhwc ? 3 : 1;
  const k1 = nhwc ? 1 : plane;
  const k2 = nhwc ? 2 : 2 * plane;
  for (let y = 0; y < h; y++) {
    const sy = Math.min(Math.max((y + 0.5) / geo.scale - 0.5, 0), height - 1);
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    const r0 = y0 * width * 3;
    const r1 = Math.min(y0 + 1, height - 1) * width * 3;
    let o = ((y + geo.padY) * size + geo.padX) * step;
    for (let x = 0; x < w; x++, o += step) {
      const f = fx[x]!;
      const ta = r0 + xa[x]!;
      const tb = r0 + xb[x]!;
      const ba = r1 + xa[x]!;
      const bb = r1 + xb[x]!;
      out[o] = bilinear(rgb, ta + c0, tb + c0, ba + c0, bb + c0, f, fy) * m0 + a0;
      out[o + k1] = bilinear(rgb, ta + c1, tb + c1, ba + c1, bb + c1, f, fy) * m1 + a1;
      out[o + k2] = bilinear(rgb, ta + c2, tb + c2, ba + c2, bb + c2, f, fy) * m2 + a2;
    }
  }
  return geo;
}

function bilinear(rgb: Uint8Array, ta: number, tb: number, ba: number, bb: number, fx: number, fy: number): number {
  const top = rgb[ta]! + (rgb[tb]! - rgb[ta]!) * fx;
  const bottom = rgb[ba]! + (rgb[bb]! - rgb[ba]!) * fx;
  return top + (bottom - top) * fy;
}

/** a box in input pixels → frame pixels, clipped to the frame; undefined when nothing is left */
export function toFrame(box: Box, geo: Letterbox, width: number, height: number): Box | undefined {
  const x1 = Math.max(0, (box.x1 - geo.padX) / geo.scale);
  const y1 = Math.max(0, (box.y1 - geo.padY) / geo.scale);
  const x2 = Math.min(width, (box.x2 - geo.padX) / geo.scale);
  const y2 = Math.min(height, (box.y2 - geo.padY) / geo.scale);
  return x2 > x1 && y2 > y1 ? { x1, y1, x2, y2 } : undefined;
}
