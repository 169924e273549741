// The cheap gate in front of the detector, after Frigate's: a small blurred gray copy of each
// frame is compared with a running-average background; pixels that differ by more than a
// threshold, outside the ignore masks, are motion. The detector then runs only on frames with
// motion, a few frames after it (hold), and every few frames regardless (keep-alive) so that
// analyses of people sitting still still get detections.

import { blurGray, resizeGray, type GrayImage } from '../frame/image.ts';
import { dilateMask, maskRegions, polygonMask } from '../frame/mask.ts';
import type { Box, Frame, MotionResult, Point } from '../types.ts';
import { MotionBadOptions } from './errors.ts';

export interface MotionOptions {
  /** the gray frame is shrunk by this factor before anything else (default 4) */
  scale?: number;
  /** blur radius at the shrunk size (default 1) */
  blurRadius?: number;
  /** weight of each new frame in the running-average background, 0…1 (default 0.02) */
  alpha?: number;
  /** gray difference (0…255) from the background that counts as changed (default 25) */
  threshold?: number;
  /** ignored areas: polygons in normalised coordinates (0…1 of width and height) */
  mask?: readonly (readonly Point[])[];
  /** changed pixels are grown by this radius (shrunk pixels) before regions are formed (default 2) */
  dilate?: number;
  /** regions smaller than this, in frame pixels (of changed pixels, not box), are dropped (default 64) */
  minArea?: number;
  /** share of the unmasked frame that must change for motion (default 0.002) */
  minRatio?: number;
  /** frames kept active after the last motion (default 5) */
  holdFrames?: number;
  /** every this many frames is active regardless; 0 = never (default 10) */
  keepAliveFrames?: number;
  /** a change above this share is a global change (lights, exposure): the background is reset (default 0.6) */
  resetRatio?: number;
}

export class MotionDetector {
  readonly width: number;
  readonly height: number;
  readonly #scale: number;
  readonly #small: { width: number; height: number };
  readonly #blurRadius: number;
  readonly #alpha: number;
  readonly #threshold: number;
  readonly #dilate: number;
  readonly #minSmallArea: number;
  readonly #minRatio: number;
  readonly #holdFrames: number;
  readonly #keepAliveFrames: number;
  readonly #resetRatio: number;
  /** 1 where motion counts (outside every ignore polygon) */
  readonly #include: Uint8Array;
  readonly #includedCount: number;
  #background: Float32Array | undefined;
  #frames = 0;
  /** frames since the last frame with motion; Infinity before any */
  #sinceMotion = Number.POSITIVE_INFINITY;

  constructor(width: number, height: number, options: MotionOptions = {}) {
    this.width = width;
    this.height = height;
    this.#scale = options.scale ?? 4;
    this.#blurRadius = options.blurRadius ?? 1;
    this.#alpha = options.alpha ?? 0.02;
    this.#threshold = options.threshold ?? 25;
    this.#dilate = options.dilate ?? 2;
    this.#minRatio = options.minRatio ?? 0.002;
    this.#holdFrames = options.holdFrames ?? 5;
    this.#keepAliveFrames = options.keepAliveFrames ?? 10;
    this.#resetRatio = options.resetRatio ?? 0.6;
    const bad = (field: string, rule: string): never => {
      throw MotionBadOptions(`motion: ${field}: ${rule}`, { field });
    };
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 8 || height < 8) bad('size', `${width}x${height} is too small`);
    if (!(this.#scale >= 1)) bad('scale', 'must be at least 1');
    if (!(this.#alpha > 0 && this.#alpha <= 1)) bad('alpha', 'must be above 0 and at most 1');
    if (!(this.#threshold >= 1 && this.#threshold <= 255)) bad('threshold', 'must be from 1 to 255');
    if (!(this.#minRatio >= 0 && this.#minRatio < 1)) bad('minRatio', 'must be from 0 to below 1');
    if (!(this.#resetRatio > this.#minRatio && this.#resetRatio <= 1)) bad('resetRatio', 'must be above minRatio and at most 1');
    if (!(this.#holdFrames >= 0) || !(this.#keepAliveFrames >= 0)) bad('holdFrames', 'holdFrames and keepAliveFrames must not be negative');
    this.#small = {
      width: Math.max(1, Math.round(width / this.#scale)),
      height: Math.max(1, Math.round(height / this.#scale)),
    };
    for (const [i, polygon] of (options.mask ?? []).entries()) {
      if (polygon.length < 3) bad(`mask[${i}]`, 'a polygon needs at least 3 points');
      if (polygon.some((p) => !(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1))) bad(`mask[${i}]`, 'points are normalised: x and y from 0 to 1');
    }
    const ignored = polygonMask(this.#small.width, this.#small.height, options.mask ?? []).data;
    this.#include = ignored.map((v) => 1 - v);
    this.#includedCount = this.#include.reduce((n, v) => n + v, 0);
    const pixelArea = (width / this.#small.width) * (height / this.#small.height);
    this.#minSmallArea = (options.minArea ?? 64) / pixelArea;
  }

  /** Compares one frame with the background, then folds it into the background. */
  update(frame: Frame): MotionResult {
    if (frame.width !== this.width || frame.height !== this.height) {
      throw MotionBadOptions(`motion: frame of camera ${frame.camera} is ${frame.width}x${frame.height}, the detector was made for ${this.width}x${this.height}`, { field: 'size' });
    }
    const n = this.#frames++;
    const keepAlive = this.#keepAliveFrames > 0 && n % this.#keepAliveFrames === 0;
    const small = this.#prepare(frame);
    const background = this.#background;
    if (!background) {
      this.#background = Float32Array.from(small.data);
      return { ratio: 0, active: keepAlive, regions: [] };
    }

    const changed = new Uint8Array(small.data.length);
    let count = 0;
    for (let i = 0; i < changed.length; i++) {
      if (this.#include[i] && Math.abs(small.data[i]! - background[i]!) > this.#threshold) {
        changed[i] = 1;
        count++;
      }
    }
    const ratio = this.#includedCount > 0 ? count / this.#includedCount : 0;

    if (ratio > this.#resetRatio) {
      // Lights switched or the exposure jumped: the old background says nothing any more. The
      // frame is still let through once (someone may have switched the lights on), without
      // regions and without starting a hold.
      background.set(small.data);
      return { ratio, active: true, regions: [] };
    }

    const alpha = this.#alpha;
    for (let i = 0; i < background.length; i++) background[i] = background[i]! + alpha * (small.data[i]! - background[i]!);

    const regions = count > 0 ? this.#regions({ width: small.width, height: small.height, data: changed }) : [];
    const moving = ratio > this.#minRatio;
    this.#sinceMotion = moving ? 0 : this.#sinceMotion + 1;
    const active = moving || this.#sinceMotion <= this.#holdFrames || keepAlive;
    return { ratio, active, regions };
  }

  #prepare(frame: Frame): GrayImage {
    const gray: GrayImage = { width: frame.width, height: frame.height, data: frame.gray };
    const small = resizeGray(gray, this.#small.width, this.#small.height, 'area');
    return this.#blurRadius > 0 ? blurGray(small, this.#blurRadius) : small;
  }

  /** Regions of the dilated change mask with enough changed (undilated) pixels, as frame-pixel boxes. */
  #regions(changed: { width: number; height: number; data: Uint8Array }): Box[] {
    const grown = dilateMask(changed, this.#dilate);
    const sx = this.width / changed.width;
    const sy = this.height / changed.height;
    const boxes: Box[] = [];
    for (const r of maskRegions(grown)) {
      // The tight box of the changed pixels under the dilated region: dilation only joins them.
      let own = 0;
      let x1 = r.x2;
      let y1 = r.y2;
      let x2 = r.x1;
      let y2 = r.y1;
      for (let y = r.y1; y < r.y2; y++) {
        for (let x = r.x1; x < r.x2; x++) {
          if (!changed.data[y * changed.width + x]) continue;
          own++;
          if (x < x1) x1 = x;
          if (x + 1 > x2) x2 = x + 1;
          if (y < y1) y1 = y;
          if (y + 1 > y2) y2 = y + 1;
        }
      }
      if (own === 0 || own < this.#minSmallArea) continue;
      boxes.push({
        x1: Math.max(0, Math.floor(x1 * sx)),
        y1: Math.max(0, Math.floor(y1 * sy)),
        x2: Math.min(this.width, Math.ceil(x2 * sx)),
        y2: Math.min(this.height, Math.ceil(y2 * sy)),
      });
    }
    return boxes;
  }
}
