// Seeded smooth random textures (value noise) for the image-primitive tests. Not a test file.
import { rng } from '../../../../edge/eval/prng.ts';
import type { WorkImage } from '../../../../edge/analyses/image/workImage.ts';

/** Value noise: random values on a `cell`-pixel lattice, bilinearly interpolated, summed over two scales. */
export function texture(width: number, height: number, seed: string, cell = 6): WorkImage {
  const r = rng(seed);
  const data = new Float32Array(width * height);
  for (const [c, amp] of [
    [cell, 60],
    [cell * 4, 40],
  ] as const) {
    const lw = Math.ceil(width / c) + 2;
    const lh = Math.ceil(height / c) + 2;
    const lattice = Float32Array.from({ length: lw * lh }, () => r.range(-1, 1));
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const fx = x / c;
        const fy = y / c;
        const ix = Math.floor(fx);
        const iy = Math.floor(fy);
        const ax = fx - ix;
        const ay = fy - iy;
        const v =
          (lattice[iy * lw + ix]! * (1 - ax) + lattice[iy * lw + ix + 1]! * ax) * (1 - ay) +
          (lattice[(iy + 1) * lw + ix]! * (1 - ax) + lattice[(iy + 1) * lw + ix + 1]! * ax) * ay;
        data[y * width + x]! += amp * v;
      }
    }
  }
  for (let i = 0; i < data.length; i++) data[i]! += 128;
  return { width, height, data };
}

/** The width×height window of `src` at (x, y), sampled bilinearly (so x, y may be fractional). */
export function window(src: WorkImage, x: number, y: number, width: number, height: number): WorkImage {
  const data = new Float32Array(width * height);
  for (let yy = 0; yy < height; yy++) {
    for (let xx = 0; xx < width; xx++) {
      const fx = x + xx;
      const fy = y + yy;
      const ix = Math.floor(fx);
      const iy = Math.floor(fy);
      const ax = fx - ix;
      const ay = fy - iy;
      const at = (px: number, py: number): number => src.data[py * src.width + px]!;
      data[yy * width + xx] = (at(ix, iy) * (1 - ax) + at(ix + 1, iy) * ax) * (1 - ay) + (at(ix, iy + 1) * (1 - ax) + at(ix + 1, iy + 1) * ax) * ay;
    }
  }
  return { width, height, data };
}

/** Circular shift: out(x, y) = in(x − dx, y − dy). */
export function rolled(src: WorkImage, dx: number, dy: number): WorkImage {
  const { width: w, height: h } = src;
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) data[y * w + x] = src.data[(((y - dy) % h) + h) % h * w + ((((x - dx) % w) + w) % w)]!;
  }
  return { width: w, height: h, data };
}
