// Phase correlation: the normalised cross-power spectrum of two images is a pure phase ramp when
// one is a translated copy of the other, and its inverse transform is a single peak at the
// translation. The peak's height (1 for identical images) says how much of the picture moved as one
// piece: it stays clear for a pan, and collapses when the view is rotated, zoomed or replaced.
// Images are mean-subtracted and Hann-windowed so the frame border does not make a false peak at 0.
import { fft2d, isPowerOfTwo } from './fft.ts';
import type { WorkImage } from './workImage.ts';

export interface Spectrum {
  width: number;
  height: number;
  re: Float64Array;
  im: Float64Array;
}

export interface Shift {
  /** where the content of the current image lies relative to the reference, in pixels (+x right, +y down) */
  dx: number;
  dy: number;
  /** height of the correlation peak: 1 for an exact (circular) shift, near 0 for unrelated images */
  peak: number;
}

const windows = new Map<number, Float64Array>();

/** The periodic Hann window of length n. */
export function hann(n: number): Float64Array {
  let w = windows.get(n);
  if (!w) {
    w = new Float64Array(n);
    for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
    windows.set(n, w);
  }
  return w;
}

/** The windowed spectrum of an image whose sides are powers of two. */
export function spectrumOf(img: WorkImage, window = true): Spectrum {
  const { width, height, data } = img;
  if (!isPowerOfTwo(width) || !isPowerOfTwo(height)) throw new RangeError(`phase correlation needs power-of-two sides, got ${width}x${height}`);
  let mean = 0;
  for (let i = 0; i < data.length; i++) mean += data[i]!;
  mean /= data.length;
  const re = new Float64Array(width * height);
  const im = new Float64Array(width * height);
  const wx = hann(width);
  const wy = hann(height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      re[i] = window ? (data[i]! - mean) * wx[x]! * wy[y]! : data[i]! - mean;
    }
  }
  fft2d(re, im, width, height);
  return { width, height, re, im };
}

/** The translation of `cur` relative to `ref` (both spectra of images of one size). */
export function correlate(ref: Spectrum, cur: Spectrum): Shift {
  const { width, height } = ref;
  if (cur.width !== width || cur.height !== height) throw new RangeError(`correlating ${width}x${height} with ${cur.width}x${cur.height}`);
  const n = width * height;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // cur × conj(ref), reduced to its phase
    const ar = cur.re[i]!;
    const ai = cur.im[i]!;
    const br = ref.re[i]!;
    const bi = ref.im[i]!;
    const pr = ar * br + ai * bi;
    const pi = ai * br - ar * bi;
    const mag = Math.sqrt(pr * pr + pi * pi);
    if (mag > 1e-9) {
      re[i] = pr / mag;
      im[i] = pi / mag;
    }
  }
  fft2d(re, im, width, height, true);
  let best = 0;
  for (let i = 1; i < n; i++) if (re[i]! > re[best]!) best = i;
  const px = best % width;
  const py = (best - px) / width;
  const at = (x: number, y: number): number => re[((y + height) % height) * width + ((x + width) % width)]!;
  const dx = px + subPixel(at(px - 1, py), at(px, py), at(px + 1, py));
  const dy = py + subPixel(at(px, py - 1), at(px, py), at(px, py + 1));
  return { dx: dx > width / 2 ? dx - width : dx, dy: dy > height / 2 ? dy - height : dy, peak: re[best]! };
}

/**
 * Offset of the true peak from the sampled maximum c, from its neighbours l and r. The phase
 * correlation peak is a sampled (Dirichlet ≈ sinc) kernel, for which the side value over the sum
 * of side and centre estimates the fraction (Foroosh et al. 2002).
 */
function subPixel(l: number, c: number, r: number): number {
  if (c <= 0) return 0;
  const lp = Math.max(0, l);
  const rp = Math.max(0, r);
  if (rp >= lp) return rp / (rp + c);
  return -lp / (lp + c);
}

/** Convenience: the translation of `cur` relative to `ref`. */
export function phaseCorrelate(ref: WorkImage, cur: WorkImage, window = true): Shift {
  return correlate(spectrumOf(ref, window), spectrumOf(cur, window));
}
