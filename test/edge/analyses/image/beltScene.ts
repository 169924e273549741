// A synthetic conveyor belt for the belt tests: a horizontal band of textured rubber (blotchy
// texture, seams every 64 px, fine grain) that scrolls to the right by `offset` pixels, lumpy dark
// "coal" that can be laid onto stretches of it (and so rides with it), a static structure around
// it, a person-like blob that can walk across, a global gain for lighting ramps, and sensor noise.
// Not a test file itself.
import { rng, type Rng } from '../../../../edge/eval/prng.ts';
import { clamp } from './scenes.ts';

export const BELT_W = 704;
export const BELT_H = 576;
/** rows of the belt band */
export const BELT_Y1 = 200;
export const BELT_Y2 = 376;
/** the belt's ROI as a normalised rectangle */
export const BELT_ROI = { x1: 0.04, y1: (BELT_Y1 + 6) / BELT_H, x2: 0.96, y2: (BELT_Y2 - 6) / BELT_H };

const STRIP_LEN = 4096;
const BAND = BELT_Y2 - BELT_Y1;

export interface RenderOptions {
  /** belt position, pixels scrolled to the right */
  offset: number;
  gain?: number;
  /** top-left of the person-like blob (50×140), if one is in view */
  person?: { x: number; y: number };
  /** seed of this frame's sensor noise */
  noiseSeed: string;
}

export class BeltScene {
  private readonly strip = new Uint8Array(STRIP_LEN * BAND);
  private readonly background = new Uint8Array(BELT_W * BELT_H);
  private readonly r: Rng;

  constructor(seed: string) {
    this.r = rng(seed);
    // Blotchy rubber: values on an 8-px lattice, bilinearly interpolated, plus seams and grain.
    const cell = 8;
    const lw = STRIP_LEN / cell + 1;
    const lh = Math.ceil(BAND / cell) + 1;
    const lattice = Float32Array.from({ length: lw * lh }, () => this.r.range(95, 150));
    for (let y = 0; y < BAND; y++) {
      for (let x = 0; x < STRIP_LEN; x++) {
        const fx = x / cell;
        const fy = y / cell;
        const ix = Math.floor(fx);
        const iy = Math.floor(fy);
        const ax = fx - ix;
        const ay = fy - iy;
        const v00 = lattice[iy * lw + (ix % (lw - 1))]!;
        const v10 = lattice[iy * lw + ((ix + 1) % (lw - 1))]!;
        const v01 = lattice[(iy + 1) * lw + (ix % (lw - 1))]!;
        const v11 = lattice[(iy + 1) * lw + ((ix + 1) % (lw - 1))]!;
        let v = (v00 * (1 - ax) + v10 * ax) * (1 - ay) + (v01 * (1 - ax) + v11 * ax) * ay;
        if (x % 64 < 3) v -= 30;
        v += this.r.range(-5, 5);
        this.strip[y * STRIP_LEN + x] = clamp(v);
      }
    }
    // Static structure: a steel-grey frame with bolts and beams.
    for (let i = 0; i < this.background.length; i++) this.background[i] = clamp(70 + this.r.range(-8, 8));
    for (let k = 0; k < 60; k++) {
      const x = this.r.int(0, BELT_W - 40);
      const y = this.r.int(0, BELT_H - 40);
      const w = this.r.int(10, 40);
      const h = this.r.int(10, 40);
      const v = this.r.range(40, 200);
      for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) this.background[yy * BELT_W + xx] = clamp(v + this.r.range(-6, 6));
    }
  }

  /**
   * Lays coal that starts entering the view at the left edge when the belt's offset reaches
   * `atOffset` and keeps coming for `length` pixels of travel.
   */
  coalEntering(atOffset: number, length: number, cover = 0.4): void {
    const end = STRIP_LEN - (atOffset % STRIP_LEN);
    this.addCoal(end - length, end, cover);
  }

  /** Lays lumpy coal on strip columns [from, to): dark blobs covering roughly `cover` of the area. */
  addCoal(from: number, to: number, cover = 0.4): void {
    const area = (to - from) * BAND * cover;
    let laid = 0;
    while (laid < area) {
      const cx = this.r.range(from, to);
      const cy = this.r.range(10, BAND - 10);
      const rx = this.r.range(6, 18);
      const ry = this.r.range(5, 14);
      const base = this.r.range(20, 50);
      for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(BAND, Math.ceil(cy + ry)); y++) {
        for (let x = Math.floor(cx - rx); x < Math.ceil(cx + rx); x++) {
          const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
          if (d > 1) continue;
          const xi = ((x % STRIP_LEN) + STRIP_LEN) % STRIP_LEN;
          // lumps: a bright rim of light on the top of each piece, grain inside
          this.strip[y * STRIP_LEN + xi] = clamp(base + (1 - d) * 25 + this.r.range(-10, 10));
        }
      }
      laid += Math.PI * rx * ry;
    }
  }

  /** The frame with the belt scrolled by `offset`. */
  render(opts: RenderOptions): Uint8Array {
    const out = this.background.slice();
    const shift = Math.round(opts.offset);
    for (let y = 0; y < BAND; y++) {
      const row = (BELT_Y1 + y) * BELT_W;
      const srow = y * STRIP_LEN;
      for (let x = 0; x < BELT_W; x++) {
        const sx = (((x - shift) % STRIP_LEN) + STRIP_LEN) % STRIP_LEN;
        out[row + x] = this.strip[srow + sx]!;
      }
    }
    if (opts.person) {
      const pr = rng(`person:${Math.round(opts.person.x)}:${Math.round(opts.person.y)}`);
      for (let y = Math.round(opts.person.y); y < Math.round(opts.person.y) + 140; y++) {
        if (y < 0 || y >= BELT_H) continue;
        for (let x = Math.round(opts.person.x); x < Math.round(opts.person.x) + 50; x++) {
          if (x < 0 || x >= BELT_W) continue;
          out[y * BELT_W + x] = clamp((y - opts.person.y < 30 ? 170 : 60) + pr.range(-12, 12));
        }
      }
    }
    const gain = opts.gain ?? 1;
    const noise = rng(opts.noiseSeed);
    for (let i = 0; i < out.length; i++) out[i] = clamp(out[i]! * gain + noise.range(-3, 3));
    return out;
  }
}
