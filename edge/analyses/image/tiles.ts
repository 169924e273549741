// Local comparison of a work image with its reference, tile by tile. A whole-frame measure can be
// swayed by one busy part of the view (a belt, a truck, a cloth's fold pattern); asking each tile
// separately and counting how many agree tells a change of the whole view (camera moved, lens
// covered) from a change confined to part of it.
import type { WorkImage } from './workImage.ts';

export interface Tile {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** cols × rows tiles covering the image (the last ones take the leftover pixels). */
export function tileGrid(width: number, height: number, cols: number, rows: number): Tile[] {
  const tiles: Tile[] = [];
  for (let r = 0; r < rows; r++) {
    const y = Math.floor((r * height) / rows);
    const y2 = Math.floor(((r + 1) * height) / rows);
    for (let c = 0; c < cols; c++) {
      const x = Math.floor((c * width) / cols);
      const x2 = Math.floor(((c + 1) * width) / cols);
      tiles.push({ x, y, w: x2 - x, h: y2 - y });
    }
  }
  return tiles;
}

export interface TileMatch {
  /** share of the tile's pixels compared (inside both images and not ignored in either place) */
  used: number;
  /** Pearson correlation of the compared pixels, −1…1 (0 when either side is flat) */
  ncc: number;
  /** standard deviation of the reference's compared pixels, gray levels: how much there is to match */
  refStd: number;
  /** the same of the current image's compared pixels */
  curStd: number;
}

/**
 * Compares the tile of `cur` with the reference displaced by (dx, dy): pixel (x, y) of `cur`
 * against (x − dx, y − dy) of `ref`, i.e. the content is expected to have moved by (dx, dy).
 * `use` (1 = compare) masks both positions.
 */
export function matchTile(ref: WorkImage, cur: WorkImage, tile: Tile, dx: number, dy: number, use?: Uint8Array): TileMatch {
  const { width: w, height: h } = cur;
  const sx = Math.round(dx);
  const sy = Math.round(dy);
  let n = 0;
  let a = 0;
  let b = 0;
  let aa = 0;
  let bb = 0;
  let ab = 0;
  for (let y = tile.y; y < tile.y + tile.h; y++) {
    const ry = y - sy;
    if (ry < 0 || ry >= h) continue;
    for (let x = tile.x; x < tile.x + tile.w; x++) {
      const rx = x - sx;
      if (rx < 0 || rx >= w) continue;
      const i = y * w + x;
      const j = ry * w + rx;
      if (use && (!use[i] || !use[j])) continue;
      const u = cur.data[i]!;
      const v = ref.data[j]!;
      a += u;
      b += v;
      aa += u * u;
      bb += v * v;
      ab += u * v;
      n++;
    }
  }
  if (!n) return { used: 0, ncc: 0, refStd: 0, curStd: 0 };
  const va = aa / n - (a / n) ** 2;
  const vb = bb / n - (b / n) ** 2;
  const cov = ab / n - (a / n) * (b / n);
  const den = Math.sqrt(Math.max(0, va) * Math.max(0, vb));
  return { used: n / (tile.w * tile.h), ncc: den > 1e-6 ? cov / den : 0, refStd: Math.sqrt(Math.max(0, vb)), curStd: Math.sqrt(Math.max(0, va)) };
}

/** Share of the tile's (used) pixels set in `flags`. */
export function tileShare(flags: Uint8Array, width: number, tile: Tile, use?: Uint8Array): number {
  let set = 0;
  let n = 0;
  for (let y = tile.y; y < tile.y + tile.h; y++) {
    for (let x = tile.x; x < tile.x + tile.w; x++) {
      const i = y * width + x;
      if (use && !use[i]) continue;
      set += flags[i]!;
      n++;
    }
  }
  return n ? set / n : 0;
}
