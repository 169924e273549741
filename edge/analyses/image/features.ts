// Scalar measures of a work image that the image analyses compare against a reference: how bright,
// how dark, how textured, how sharp, how alike. Each takes an optional mask (1 = count the pixel),
// so the belt can measure inside its polygon only. Gradients are on the work image, in gray levels
// per work pixel.
import type { WorkImage } from './workImage.ts';

export type MaskData = Uint8Array | undefined;

export function meanBrightness(img: WorkImage, mask?: MaskData): number {
  const d = img.data;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < d.length; i++) {
    if (mask && !mask[i]) continue;
    sum += d[i]!;
    n++;
  }
  return n ? sum / n : 0;
}

export function stdDev(img: WorkImage, mask?: MaskData): number {
  const d = img.data;
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let i = 0; i < d.length; i++) {
    if (mask && !mask[i]) continue;
    const v = d[i]!;
    sum += v;
    sq += v * v;
    n++;
  }
  if (!n) return 0;
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sq / n - mean * mean));
}

/** Share of pixels darker than `level`. */
export function darkRatio(img: WorkImage, level: number, mask?: MaskData): number {
  const d = img.data;
  let dark = 0;
  let n = 0;
  for (let i = 0; i < d.length; i++) {
    if (mask && !mask[i]) continue;
    if (d[i]! < level) dark++;
    n++;
  }
  return n ? dark / n : 0;
}

/** The p-th quantile (0…1) of the pixel values, to the nearest gray level. */
export function percentile(img: WorkImage, p: number, mask?: MaskData): number {
  const hist = new Uint32Array(256);
  const d = img.data;
  let n = 0;
  for (let i = 0; i < d.length; i++) {
    if (mask && !mask[i]) continue;
    hist[Math.min(255, Math.max(0, Math.round(d[i]!)))]!++;
    n++;
  }
  const want = p * n;
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += hist[v]!;
    if (seen >= want && seen > 0) return v;
  }
  return 255;
}

/**
 * Share of interior pixels whose Sobel gradient (L1 magnitude, scaled to gray levels per pixel)
 * reaches `threshold`. A scene's edges survive moderate lighting changes; a cover, fog or a
 * defocused lens takes them away.
 */
export function edgeDensity(img: WorkImage, threshold: number, mask?: MaskData): number {
  const flags = edgeFlags(img, threshold);
  let edges = 0;
  let n = 0;
  for (let y = 1; y < img.height - 1; y++) {
    for (let x = 1; x < img.width - 1; x++) {
      const i = y * img.width + x;
      if (mask && !mask[i]) continue;
      edges += flags[i]!;
      n++;
    }
  }
  return n ? edges / n : 0;
}

/** 1 where the Sobel gradient (as in edgeDensity) reaches `threshold`; the border pixels are 0. */
export function edgeFlags(img: WorkImage, threshold: number): Uint8Array {
  const { width: w, height: h, data: d } = img;
  const out = new Uint8Array(w * h);
  // Sobel sums weigh 4 pixels on each side (1, 2, 1) over a distance of 2: /8 gives levels per pixel.
  const limit = threshold * 8;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const a = d[i - w - 1]!;
      const b = d[i - w]!;
      const c = d[i - w + 1]!;
      const l = d[i - 1]!;
      const r = d[i + 1]!;
      const e = d[i + w - 1]!;
      const f = d[i + w]!;
      const g = d[i + w + 1]!;
      const gx = c + 2 * r + g - a - 2 * l - e;
      const gy = e + 2 * f + g - a - 2 * b - c;
      if (Math.abs(gx) + Math.abs(gy) >= limit) out[i] = 1;
    }
  }
  return out;
}

/** Variance of the 4-neighbour Laplacian over interior pixels: the classic focus (sharpness) measure. */
export function laplacianVariance(img: WorkImage, mask?: MaskData): number {
  const { width: w, height: h, data: d } = img;
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (mask && !mask[i]) continue;
      const v = d[i - w]! + d[i + w]! + d[i - 1]! + d[i + 1]! - 4 * d[i]!;
      sum += v;
      sq += v * v;
      n++;
    }
  }
  if (!n) return 0;
  const mean = sum / n;
  return Math.max(0, sq / n - mean * mean);
}

/**
 * Normalised cross-correlation (Pearson) of two images of one size, −1…1: insensitive to a change
 * of brightness or contrast, low when the content differs. 0 when either image is flat.
 */
export function ncc(a: WorkImage, b: WorkImage, mask?: MaskData): number {
  const x = a.data;
  const y = b.data;
  if (x.length !== y.length) throw new RangeError(`ncc of ${a.width}x${a.height} and ${b.width}x${b.height}`);
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    if (mask && !mask[i]) continue;
    sx += x[i]!;
    sy += y[i]!;
    n++;
  }
  if (!n) return 0;
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    if (mask && !mask[i]) continue;
    const u = x[i]! - mx;
    const v = y[i]! - my;
    sxy += u * v;
    sxx += u * u;
    syy += v * v;
  }
  const den = Math.sqrt(sxx * syy);
  return den > 1e-9 ? sxy / den : 0;
}
