// Block matching constrained to one axis: each textured block of the previous image is looked for
// in the current one at offsets along a direction (the belt's travel), by the sum of absolute
// differences of the blocks normalised to zero mean and unit deviation. Normalising makes a change
// of brightness or contrast cost nothing, so a lamp switching on does not look like movement; searching along the axis only keeps the cost low (a 1-D search) and
// makes movement across the axis (a person walking over the belt) match badly instead of well.
import type { WorkImage } from './workImage.ts';

/** Top-left corner of a block in the work image. */
export interface Block {
  x: number;
  y: number;
}

export interface AxisMatchOptions {
  /** block side, work pixels */
  size: number;
  /** search range along the axis, ± work pixels */
  maxShift: number;
  /** blocks whose mean absolute deviation is below this (gray levels) are too flat to match */
  minTexture: number;
  /** a match counts when its error is at most this share of the median error over the search range */
  distinctness: number;
}

export interface BlockMotion {
  /** textured and matched distinctly */
  valid: boolean;
  /** displacement along the axis (work pixels, + in the axis direction), sub-pixel */
  shift: number;
  /** best mean absolute difference of the normalised blocks (0 = identical, ~1.1 = unrelated) */
  error: number;
}

/**
 * Up to `maxBlocks` blocks of side `size` on a regular grid, each lying wholly inside `mask` (1 =
 * usable) and at least `margin` pixels from the image border; evenly thinned when there are more.
 */
export function blockGrid(width: number, height: number, size: number, mask: Uint8Array | undefined, margin: number, maxBlocks: number): Block[] {
  const all: Block[] = [];
  const inside = (x: number, y: number): boolean => !mask || mask[y * width + x] === 1;
  for (let y = margin; y + size <= height - margin; y += size) {
    for (let x = margin; x + size <= width - margin; x += size) {
      const c = size >> 1;
      if (inside(x, y) && inside(x + size - 1, y) && inside(x, y + size - 1) && inside(x + size - 1, y + size - 1) && inside(x + c, y + c)) {
        all.push({ x, y });
      }
    }
  }
  if (all.length <= maxBlocks) return all;
  const step = all.length / maxBlocks;
  return Array.from({ length: maxBlocks }, (_, i) => all[Math.floor(i * step)]!);
}

/** Summed-area tables of the values and their squares, (w+1)×(h+1): any block's mean and deviation cost eight reads. */
function integrals(img: WorkImage): { sum: Float64Array; sq: Float64Array } {
  const { width: w, height: h, data } = img;
  const sum = new Float64Array((w + 1) * (h + 1));
  const sq = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    let rowSq = 0;
    for (let x = 0; x < w; x++) {
      const v = data[y * w + x]!;
      row += v;
      rowSq += v * v;
      sum[(y + 1) * (w + 1) + x + 1] = sum[y * (w + 1) + x + 1]! + row;
      sq[(y + 1) * (w + 1) + x + 1] = sq[y * (w + 1) + x + 1]! + rowSq;
    }
  }
  return { sum, sq };
}

function boxSum(s: Float64Array, stride: number, x0: number, y0: number, n: number): number {
  return s[(y0 + n) * stride + x0 + n]! - s[y0 * stride + x0 + n]! - s[(y0 + n) * stride + x0]! + s[y0 * stride + x0]!;
}

/**
 * Where each block of `prev` went in `cur`, searching along the unit direction (ux, uy). Steps are
 * one pixel along the direction's major image axis, the minor axis following by rounding, so every
 * candidate is a distinct integer offset; `shift` is converted back to distance along the axis.
 */
export function matchAlongAxis(prev: WorkImage, cur: WorkImage, blocks: readonly Block[], ux: number, uy: number, opts: AxisMatchOptions): BlockMotion[] {
  const { width: w, height: h } = prev;
  if (cur.width !== w || cur.height !== h) throw new RangeError(`block matching ${w}x${h} against ${cur.width}x${cur.height}`);
  const n = opts.size;
  const area = n * n;
  const { sum, sq } = integrals(cur);
  const p = prev.data;
  const c = cur.data;
  const major = Math.abs(ux) >= Math.abs(uy);
  const unit = major ? Math.abs(ux) : Math.abs(uy);
  const range = Math.ceil(opts.maxShift * unit);
  const offsets: { dx: number; dy: number }[] = [];
  for (let s = -range; s <= range; s++) {
    offsets.push(major ? { dx: s * Math.sign(ux), dy: Math.round((s * uy) / Math.abs(ux)) } : { dx: Math.round((s * ux) / Math.abs(uy)), dy: s * Math.sign(uy) });
  }
  const errors = new Float64Array(offsets.length);
  const out: BlockMotion[] = [];
  const block = new Float64Array(area);
  for (const b of blocks) {
    let mp = 0;
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) mp += p[(b.y + y) * w + b.x + x]!;
    mp /= area;
    let texture = 0;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const v = p[(b.y + y) * w + b.x + x]! - mp;
        block[y * n + x] = v;
        texture += Math.abs(v);
      }
    }
    texture /= area;
    let dev = 0;
    for (let i = 0; i < area; i++) dev += block[i]! * block[i]!;
    dev = Math.sqrt(dev / area);
    for (let i = 0; i < area; i++) block[i]! /= dev || 1;
    if (texture < opts.minTexture) {
      out.push({ valid: false, shift: 0, error: 0 });
      continue;
    }
    let best = -1;
    let finite = 0;
    for (let k = 0; k < offsets.length; k++) {
      const o = offsets[k]!;
      const x0 = b.x + o.dx;
      const y0 = b.y + o.dy;
      if (x0 < 0 || y0 < 0 || x0 + n > w || y0 + n > h) {
        errors[k] = Infinity;
        continue;
      }
      const mc = boxSum(sum, w + 1, x0, y0, n) / area;
      const sc = Math.sqrt(Math.max(0, boxSum(sq, w + 1, x0, y0, n) / area - mc * mc));
      const scale = sc > 1e-6 ? 1 / sc : 0;
      let e = 0;
      for (let y = 0; y < n; y++) {
        let q = (y0 + y) * w + x0;
        const r = y * n;
        for (let x = 0; x < n; x++) e += Math.abs(block[r + x]! - (c[q++]! - mc) * scale);
      }
      errors[k] = e / area;
      finite++;
      if (best < 0 || errors[k]! < errors[best]!) best = k;
    }
    if (best < 0 || finite < offsets.length / 2) {
      out.push({ valid: false, shift: 0, error: 0 });
      continue;
    }
    const finiteErrors = Array.from(errors).filter(Number.isFinite).sort((a, b2) => a - b2);
    const median = finiteErrors[finiteErrors.length >> 1]!;
    const e0 = errors[best]!;
    const el = best > 0 ? errors[best - 1]! : Infinity;
    const er = best < offsets.length - 1 ? errors[best + 1]! : Infinity;
    let frac = 0;
    if (Number.isFinite(el) && Number.isFinite(er)) {
      const den = el - 2 * e0 + er;
      if (den > 1e-9) frac = Math.max(-0.5, Math.min(0.5, (el - er) / (2 * den)));
    }
    out.push({ valid: e0 <= opts.distinctness * median, shift: (best - range + frac) / unit, error: e0 });
  }
  return out;
}

export interface AxisMotion {
  blocks: number;
  valid: number;
  /** valid blocks that moved less than half of minShift */
  still: number;
  /** valid blocks that moved at least minShift, within a tolerance of the median of those */
  consistent: number;
  /** median shift of the moving blocks (0 when none), work pixels per frame */
  median: number;
}

/** Counts the blocks that agree on one movement along the axis, and those that stayed put. */
export function summariseAxisMotion(motions: readonly BlockMotion[], minShift: number): AxisMotion {
  const valid = motions.filter((m) => m.valid);
  const still = valid.filter((m) => Math.abs(m.shift) < minShift / 2).length;
  const moving = valid.filter((m) => Math.abs(m.shift) >= minShift).map((m) => m.shift).sort((a, b) => a - b);
  const median = moving.length ? moving[moving.length >> 1]! : 0;
  const tolerance = Math.max(1, 0.35 * Math.abs(median));
  const consistent = moving.filter((s) => Math.abs(s - median) <= tolerance).length;
  return { blocks: motions.length, valid: valid.length, still, consistent, median };
}
