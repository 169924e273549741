// People and vehicles moving along paths over a background: each frame pastes every actor that is
// on stage at that instant, farthest (highest foot point) first so nearer ones cover them, and
// reports the boxes it pasted.
import type { ObjectClass } from '../../types.ts';
import { paste, resizeSprite, type RgbImage, type Sprite } from '../compose.ts';
import { clipBox, type Photos, type SceneObject } from './clip.ts';
import type { Path } from './paths.ts';
import { loadSprite, type CropName } from './sprites.ts';

export interface Actor {
  crop: CropName;
  /** flipped left–right (walking or driving the other way) */
  mirrored?: boolean;
  path: Path;
  /** on-screen height in pixels for a foot point at y (perspective) */
  height: (y: number) => number;
  cls: ObjectClass;
  /** vertical bounce of a walking gait, pixels (0 for vehicles and people standing) */
  bob?: number;
  /** a soft contact shadow on the ground under the feet, this dark at its centre (0…1) */
  shadow?: number;
}

/** Darkens an ellipse on the ground centred at (cx, cy): the shadow an object casts under diffuse light. */
function castShadow(img: RgbImage, cx: number, cy: number, rx: number, ry: number, strength: number): void {
  const x0 = Math.max(0, Math.floor(cx - rx));
  const x1 = Math.min(img.width, Math.ceil(cx + rx));
  const y0 = Math.max(0, Math.floor(cy - ry));
  const y1 = Math.min(img.height, Math.ceil(cy + ry));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
      if (d >= 1) continue;
      const k = 1 - strength * (1 - d);
      const i = (y * img.width + x) * 3;
      for (let c = 0; c < 3; c++) img.rgb[i + c] = Math.round(img.rgb[i + c]! * k);
    }
  }
}

export class ActorLayer {
  readonly #actors: readonly Actor[];
  readonly #sprites: Map<string, Sprite>;
  readonly #sized = new Map<string, Sprite>();

  private constructor(actors: readonly Actor[], sprites: Map<string, Sprite>) {
    this.#actors = actors;
    this.#sprites = sprites;
  }

  static async create(photos: Photos, actors: readonly Actor[]): Promise<ActorLayer> {
    const sprites = new Map<string, Sprite>();
    for (const a of actors) {
      const key = `${a.crop}:${a.mirrored ? 1 : 0}`;
      if (!sprites.has(key)) sprites.set(key, await loadSprite(photos, a.crop, a.mirrored));
    }
    return new ActorLayer(actors, sprites);
  }

  get actors(): readonly Actor[] {
    return this.#actors;
  }

  #sprite(a: Actor, height: number): Sprite {
    const key = `${a.crop}:${a.mirrored ? 1 : 0}`;
    const h = Math.max(8, Math.round(height));
    const sizedKey = `${key}:${h}`;
    let s = this.#sized.get(sizedKey);
    if (!s) {
      const base = this.#sprites.get(key)!;
      s = resizeSprite(base, (base.width * h) / base.height, h);
      // Bounded: a clip uses a few hundred sizes at most, each a few tens of kilobytes.
      if (this.#sized.size > 2000) this.#sized.clear();
      this.#sized.set(sizedKey, s);
    }
    return s;
  }

  /** Pastes the actors on stage at `t` into `img`; returns their visible boxes. */
  draw(img: RgbImage, t: number): SceneObject[] {
    const onStage = this.#actors
      .map((a, i) => ({ a, i, p: a.path.at(t) }))
      .filter((x): x is { a: Actor; i: number; p: { x: number; y: number } } => x.p !== undefined)
      .sort((u, v) => u.p.y - v.p.y || u.i - v.i);
    const objects: SceneObject[] = [];
    for (const { a, i, p } of onStage) {
      const s = this.#sprite(a, a.height(p.y));
      // The gait lifts the body twice per stride (~1.8 strides a second).
      const lift = (a.bob ?? 0) * Math.abs(Math.sin(Math.PI * 1.8 * t + i));
      const x1 = p.x - s.width / 2;
      const y1 = p.y - s.height - lift;
      if (a.shadow) castShadow(img, p.x + s.width * 0.15, p.y, s.width * 0.7, Math.max(2, s.height * 0.07), a.shadow);
      paste(img, s, x1, y1);
      const box = clipBox({ x1: Math.round(x1), y1: Math.round(y1), x2: Math.round(x1) + s.width, y2: Math.round(y1) + s.height }, img.width, img.height);
      if (box) objects.push({ cls: a.cls, box });
    }
    return objects;
  }
}
