// Binary masks (one byte per pixel, 0 or 1): polygons in normalised coordinates rasterised at any
// size, dilation, and connected regions. Motion uses all three; analyses use the polygons for
// their zones.

import type { Point } from '../types.ts';

/** A binary mask, row-major, 1 = set. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Rasterises polygons given in normalised coordinates (0…1 of the width and height): a pixel is
 * set when its centre lies inside any polygon (even-odd rule). Polygons of fewer than 3 points
 * cover nothing.
 */
export function polygonMask(width: number, height: number, polygons: readonly (readonly Point[])[]): Mask {
  const data = new Uint8Array(width * height);
  const crossings: number[] = [];
  for (const polygon of polygons) {
    if (polygon.length < 3) continue;
    const pts = polygon.map((p) => ({ x: p.x * width, y: p.y * height }));
    for (let y = 0; y < height; y++) {
      const cy = y + 0.5;
      crossings.length = 0;
      for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
        const a = pts[i]!;
        const b = pts[j]!;
        if (a.y > cy !== b.y > cy) crossings.push(a.x + ((cy - a.y) * (b.x - a.x)) / (b.y - a.y));
      }
      crossings.sort((p, q) => p - q);
      for (let k = 0; k + 1 < crossings.length; k += 2) {
        // Pixel x is inside when its centre x + 0.5 lies in [from, to).
        const from = Math.max(0, Math.ceil(crossings[k]! - 0.5));
        const to = Math.min(width, Math.ceil(crossings[k + 1]! - 0.5));
        for (let x = from; x < to; x++) data[y * width + x] = 1;
      }
    }
  }
  return { width, height, data };
}

/** Dilation by a square of side 2r+1, done as two separable passes. */
export function dilateMask(src: Mask, radius: number): Mask {
  const r = Math.floor(radius);
  if (r <= 0) return { width: src.width, height: src.height, data: src.data.slice() };
  const { width, height } = src;
  const tmp = new Uint8Array(width * height);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    // Distance to the last set pixel on the left, then a right-to-left sweep for the other side.
    let since = r + 1;
    for (let x = 0; x < width; x++) {
      since = src.data[row + x] ? 0 : since + 1;
      if (since <= r) tmp[row + x] = 1;
    }
    since = r + 1;
    for (let x = width - 1; x >= 0; x--) {
      since = src.data[row + x] ? 0 : since + 1;
      if (since <= r) tmp[row + x] = 1;
    }
  }
  for (let x = 0; x < width; x++) {
    let since = r + 1;
    for (let y = 0; y < height; y++) {
      since = tmp[y * width + x] ? 0 : since + 1;
      if (since <= r) out[y * width + x] = 1;
    }
    since = r + 1;
    for (let y = height - 1; y >= 0; y--) {
      since = tmp[y * width + x] ? 0 : since + 1;
      if (since <= r) out[y * width + x] = 1;
    }
  }
  return { width, height, data: out };
}

/** One 8-connected region of a mask: its bounding box in mask pixels (x2, y2 exclusive) and pixel count. */
export interface MaskRegion {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  area: number;
}

/** The 8-connected regions of a mask, in scan order of their first pixel. */
export function maskRegions(mask: Mask): MaskRegion[] {
  const { width, height, data } = mask;
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const regions: MaskRegion[] = [];
  for (let start = 0; start < data.length; start++) {
    if (!data[start] || seen[start]) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    const region = { x1: width, y1: height, x2: 0, y2: 0, area: 0 };
    while (top > 0) {
      const p = stack[--top]!;
      const x = p % width;
      const y = (p - x) / width;
      region.area++;
      if (x < region.x1) region.x1 = x;
      if (y < region.y1) region.y1 = y;
      if (x + 1 > region.x2) region.x2 = x + 1;
      if (y + 1 > region.y2) region.y2 = y + 1;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (data[q] && !seen[q]) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    regions.push(region);
  }
  return regions;
}
