// A mine camera at night: the day-night camera drops its IR-cut filter and shows a grey picture lit
// by its own infrared LEDs (bright near the camera, falling off with distance), at high gain (coarse
// grain, the same in every channel), with the yard's lamps blooming into wide white halos. Applied as
// a stage `paint` hook over the day scene, so the same walks make the night clips.
import type { RgbImage } from '../compose.ts';
import { rng } from '../prng.ts';

export interface NightOptions {
  /** seeds the grain (with the time), so every frame has its own */
  seed: string;
  /** where the camera's IR lamps point: the brightest spot, frame pixels */
  spot: { x: number; y: number };
  /** how far the IR light carries, pixels (standard deviation of its fall-off) */
  reach: number;
  /** share of the light that reaches the far corners (0…1) */
  ambient: number;
  /** lamps in view: position and core radius in pixels */
  lamps: readonly { x: number; y: number; r: number }[];
  /** grain, grey levels (standard deviation) */
  grain: number;
}

/** The per-pixel gain of the IR lighting and the lamps' halos, computed once per clip. */
function lighting(width: number, height: number, o: NightOptions): { gain: Float32Array; glow: Float32Array } {
  const gain = new Float32Array(width * height);
  const glow = new Float32Array(width * height);
  const s2 = 2 * o.reach * o.reach;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      gain[i] = o.ambient + (1 - o.ambient) * Math.exp(-((x - o.spot.x) ** 2 + (y - o.spot.y) ** 2) / s2);
      let g = 0;
      for (const l of o.lamps) {
        const d2 = (x - l.x) ** 2 + (y - l.y) ** 2;
        // a saturated core, a bright halo of a few radii and a faint wide veil (blooming and lens flare)
        g += (d2 <= l.r * l.r ? 400 : 0) + 190 * Math.exp(-d2 / (2 * (3 * l.r) ** 2)) + 45 * Math.exp(-d2 / (2 * (10 * l.r) ** 2));
      }
      glow[i] = g;
    }
  }
  return { gain, glow };
}

/** The hook: grey from the scene's luminance under IR lighting, lamps, grain. */
export function infraredNight(o: NightOptions): (img: RgbImage, t: number) => RgbImage {
  let cached: { width: number; height: number; gain: Float32Array; glow: Float32Array } | undefined;
  return (img, t) => {
    if (!cached || cached.width !== img.width || cached.height !== img.height) cached = { width: img.width, height: img.height, ...lighting(img.width, img.height, o) };
    const { gain, glow } = cached;
    const random = rng(`${o.seed}:${Math.round(t * 1000)}`);
    const rgb = img.rgb;
    for (let i = 0, p = 0; p < gain.length; p++, i += 3) {
      // cloth and skin reflect near-infrared more evenly than visible light: a flatter, brighter grey
      const lum = 0.3 * rgb[i]! + 0.59 * rgb[i + 1]! + 0.11 * rgb[i + 2]!;
      const ir = 40 + 0.75 * lum;
      const v = Math.max(0, Math.min(255, ir * gain[p]! + glow[p]! + random.normal() * o.grain));
      rgb[i] = rgb[i + 1] = rgb[i + 2] = Math.round(v);
    }
    return img;
  };
}
