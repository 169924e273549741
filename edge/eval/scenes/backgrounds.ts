// Backgrounds with nothing a detector would take for a person or a vehicle: real sky, hills and
// grass from horses.jpg (the horses themselves are cut away), synthetic asphalt for the gate and a
// synthetic control room. Real texture where a photo has it, so motion and blur behave as on camera.
import { createImage, crop, flipHorizontal, paste, resize, type RgbImage } from '../compose.ts';
import { rng, type Rng } from '../prng.ts';
import { HEIGHT, WIDTH, type Photos } from './clip.ts';
import { fractalNoise } from './texture.ts';

/** horses.jpg (773×512): sky, snowy mountains and hills above the horses (their heads start near y 185). */
const SKY = { x: 0, y: 0, width: 773, height: 182 };
/** horses.jpg: dry grass below the lowest hooves (y ≈ 410). */
const GRASS = { x: 0, y: 418, width: 773, height: 94 };

/** Grass from `top` to the bottom of `img`, in bands that grow towards the camera (perspective). */
function layGrass(img: RgbImage, grass: RgbImage, top: number, bands: readonly number[]): void {
  let y = top;
  bands.forEach((h, i) => {
    const band = resize(grass, img.width, h + 8);
    const strip = i % 2 === 1 ? flipHorizontal(band) : band;
    // Feather only the top edge, over the 8 rows that overlap the band above.
    const alpha = new Uint8Array(strip.width * strip.height);
    for (let r = 0; r < strip.height; r++) alpha.fill(Math.round(255 * Math.min(1, (r + 0.5) / 8)), r * strip.width, (r + 1) * strip.width);
    paste(img, { ...strip, alpha }, 0, y - 8);
    y += h;
  });
}

/** Open ground under a real sky: where the walkers of the person scenes walk. Horizon at y ≈ 172. */
export async function fieldBackground(photos: Photos): Promise<RgbImage> {
  const horses = await photos.get('horses.jpg');
  const img = createImage(WIDTH, HEIGHT);
  paste(img, resize(crop(horses, SKY), WIDTH, 172), 0, 0);
  layGrass(img, crop(horses, GRASS), 172, [48, 70, 100, 186]);
  return img;
}

function shade(img: RgbImage, x0: number, y0: number, x1: number, y1: number, colour: (x: number, y: number) => readonly [number, number, number]): void {
  for (let y = Math.max(0, y0); y < Math.min(img.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x1); x++) {
      const [r, g, b] = colour(x, y);
      const i = (y * img.width + x) * 3;
      img.rgb[i] = Math.max(0, Math.min(255, r));
      img.rgb[i + 1] = Math.max(0, Math.min(255, g));
      img.rgb[i + 2] = Math.max(0, Math.min(255, b));
    }
  }
}

/**
 * A truck gate: real sky and a grass verge, then an asphalt yard crossed by a painted stop line at
 * x = `lineX` (the counting line) under a striped barrier post.
 */
export async function roadBackground(photos: Photos, lineX: number, seed = 'road'): Promise<RgbImage> {
  const random = rng(seed);
  const horses = await photos.get('horses.jpg');
  const img = createImage(WIDTH, HEIGHT);
  paste(img, resize(crop(horses, SKY), WIDTH, 150), 0, 0);
  layGrass(img, crop(horses, GRASS), 150, [30, 40]);
  const asphaltTop = 220;
  const h = HEIGHT - asphaltTop;
  const grain = fractalNoise(WIDTH, h, 24, 4, random);
  const fine = fractalNoise(WIDTH, h, 2, 1, random);
  shade(img, 0, asphaltTop, WIDTH, HEIGHT, (x, y) => {
    const i = (y - asphaltTop) * WIDTH + x;
    // Tyre-polished lanes run along the road a little darker.
    const lane = Math.abs(y - 455) < 22 || Math.abs(y - 520) < 22 ? -8 : 0;
    const v = 98 + grain[i]! * 14 + fine[i]! * 10 + lane + (y - asphaltTop) * 0.04;
    return [v, v, v + 3];
  });
  // Painted lines: the yard's edge and the stop line at the gate, worn by noise.
  const paint = (x: number, y: number): readonly [number, number, number] => {
    const i = (y - asphaltTop) * WIDTH + x;
    const wear = fine[i]! * 30;
    return [205 + wear, 205 + wear, 190 + wear];
  };
  shade(img, 0, 244, WIDTH, 250, paint);
  shade(img, Math.round(lineX) - 5, 250, Math.round(lineX) + 5, HEIGHT, paint);
  // Barrier post: yellow and black bands.
  shade(img, Math.round(lineX) - 9, 120, Math.round(lineX) + 9, 250, (x, y) => {
    const band = Math.floor((y - 120) / 16) % 2 === 0;
    const edge = Math.abs(x - lineX) > 7 ? -30 : 0;
    return band ? [225 + edge, 185 + edge, 30] : [30 + edge, 30 + edge, 30];
  });
  return img;
}

/**
 * A dispatch room: a wall with a video wall of monitors, a desk with two screens, a tiled floor.
 * Nothing in it looks like a person.
 */
export function roomBackground(seed = 'room'): RgbImage {
  const random: Rng = rng(seed);
  const img = createImage(WIDTH, HEIGHT);
  const wall = fractalNoise(WIDTH, HEIGHT, 40, 3, random);
  const fine = fractalNoise(WIDTH, HEIGHT, 2, 1, random);
  shade(img, 0, 0, WIDTH, 330, (x, y) => {
    const i = y * WIDTH + x;
    const v = wall[i]! * 8 + fine[i]! * 4 - y * 0.05;
    return [178 + v, 168 + v, 148 + v];
  });
  shade(img, 0, 330, WIDTH, HEIGHT, (x, y) => {
    const i = y * WIDTH + x;
    const grout = (x + Math.round((y - 330) * 0.6)) % 88 < 2 || (y - 330) % 48 < 2 ? -25 : 0;
    const v = wall[i]! * 10 + fine[i]! * 5 + grout;
    return [128 + v, 118 + v, 106 + v];
  });
  // Video wall: 3 × 2 screens showing schematic pictures (static), in a dark frame.
  shade(img, 110, 36, 594, 206, () => [34, 36, 40]);
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 3; c++) {
      const x0 = 118 + c * 158;
      const y0 = 44 + r * 80;
      const hue = random.int(0, 2);
      shade(img, x0, y0, x0 + 150, y0 + 74, (x, y) => {
        const i = y * WIDTH + x;
        const line = (x - x0) % 37 < 2 || (y - y0) % 23 < 2 ? 40 : 0;
        const base = 40 + fine[i]! * 6 + line;
        return hue === 0 ? [base * 0.5, base * 1.3, base * 1.6] : hue === 1 ? [base * 0.6, base * 1.6, base * 0.8] : [base * 1.2, base * 1.2, base * 1.4];
      });
    }
  }
  // Desk top, front panel and two monitors on it.
  shade(img, 40, 338, 664, 360, (x, y) => {
    const v = wall[y * WIDTH + x]! * 6;
    return [112 + v, 84 + v, 58 + v];
  });
  shade(img, 40, 360, 664, 440, (x, y) => {
    const v = wall[y * WIDTH + x]! * 6 - (y - 360) * 0.15;
    return [74 + v, 56 + v, 40 + v];
  });
  for (const x0 of [170, 420]) {
    shade(img, x0, 262, x0 + 112, 332, () => [22, 22, 24]);
    shade(img, x0 + 5, 267, x0 + 107, 327, (x, y) => {
      const v = fine[y * WIDTH + x]! * 5;
      return [30 + v, 60 + v, 90 + v];
    });
    shade(img, x0 + 50, 332, x0 + 62, 340, () => [28, 28, 30]);
  }
  return img;
}

/**
 * A photo scaled to cover `scale` times the frame, for views that pan or shift: a frame is the
 * window at some offset, the normal view being the centred one.
 */
export async function widePhoto(photos: Photos, name: Parameters<Photos['get']>[0], scale: number): Promise<RgbImage> {
  return resize(await photos.get(name), Math.round(WIDTH * scale), Math.round(HEIGHT * scale));
}

/** A soft-edged cutout helper: the mask of an ellipse inscribed in w × h, soft over `soft` px. */
export function ellipseMask(w: number, h: number, soft: number): Uint8Array {
  const out = new Uint8Array(w * h);
  const cx = w / 2;
  const cy = h / 2;
  const r = Math.min(cx, cy);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = Math.hypot((x + 0.5 - cx) / cx, (y + 0.5 - cy) / cy) * r;
      const t = Math.max(0, Math.min(1, (r - d) / Math.max(1, soft)));
      out[y * w + x] = Math.round(255 * t * t * (3 - 2 * t));
    }
  }
  return out;
}

