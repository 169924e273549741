// Procedural texture for the synthetic parts of the scenes (asphalt, walls, rubber, cloth):
// smooth value noise summed over octaves, so surfaces are not flat colour, which no camera sees
// and which would make motion and blur trivially easy to detect.
import type { Rng } from '../prng.ts';

/** Smooth noise in about −1…1 over a width × height grid, features about `cell` pixels across. */
export function valueNoise(width: number, height: number, cell: number, random: Rng, wrapX = false): Float32Array {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = random.next() * 2 - 1;
  // Seamless along x when the strip is tiled (a belt loop): the last columns repeat the first.
  const cols = wrapX ? Math.max(1, Math.round(width / cell)) : gw;
  const out = new Float32Array(width * height);
  const smooth = (t: number): number => t * t * (3 - 2 * t);
  const xs = wrapX ? width / cols : cell;
  for (let y = 0; y < height; y++) {
    const gy = y / cell;
    const y0 = Math.floor(gy);
    const fy = smooth(gy - y0);
    for (let x = 0; x < width; x++) {
      const gx = x / xs;
      const x0 = Math.floor(gx);
      const fx = smooth(gx - x0);
      const c0 = wrapX ? x0 % cols : x0;
      const c1 = wrapX ? (x0 + 1) % cols : x0 + 1;
      const a = grid[y0 * gw + c0]!;
      const b = grid[y0 * gw + c1]!;
      const c = grid[(y0 + 1) * gw + c0]!;
      const d = grid[(y0 + 1) * gw + c1]!;
      out[y * width + x] = (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
    }
  }
  return out;
}

/** Octaves of value noise, each half the size and half the weight of the one before. */
export function fractalNoise(width: number, height: number, cell: number, octaves: number, random: Rng, wrapX = false): Float32Array {
  const out = new Float32Array(width * height);
  let weight = 1;
  let total = 0;
  for (let o = 0; o < octaves; o++) {
    const layer = valueNoise(width, height, Math.max(1, cell / 2 ** o), random, wrapX);
    for (let i = 0; i < out.length; i++) out[i]! += layer[i]! * weight;
    total += weight;
    weight /= 2;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= total;
  return out;
}
