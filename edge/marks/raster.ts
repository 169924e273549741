// Pixel primitives on an RGB24 frame, every one clipped to the frame: marks come from trackers and
// analyses whose boxes run off the edge, and a bad coordinate must never write outside the buffer
// or loop for long (lines are clipped to the frame before they are walked).
import type { Point, Rgb } from '../types.ts';
import { forEachTextPixel } from './font.ts';

export interface Canvas {
  rgb: Uint8Array;
  width: number;
  height: number;
}

function setPixel(c: Canvas, x: number, y: number, color: Rgb): void {
  if (x < 0 || y < 0 || x >= c.width || y >= c.height) return;
  const i = (y * c.width + x) * 3;
  c.rgb[i] = color[0];
  c.rgb[i + 1] = color[1];
  c.rgb[i + 2] = color[2];
}

/** Integer span [from, to) of a rectangle side, clipped to [0, limit); empty when from >= to. */
function span(from: number, to: number, limit: number): [number, number] {
  const a = Math.max(0, Math.min(limit, Math.round(from)));
  const b = Math.max(0, Math.min(limit, Math.round(to)));
  return [a, b];
}

/** Fills the rectangle [x1, x2) × [y1, y2). */
export function fillRect(c: Canvas, x1: number, y1: number, x2: number, y2: number, color: Rgb): void {
  if (![x1, y1, x2, y2].every(Number.isFinite)) return;
  const [xa, xb] = span(x1, x2, c.width);
  const [ya, yb] = span(y1, y2, c.height);
  for (let y = ya; y < yb; y++) {
    let i = (y * c.width + xa) * 3;
    for (let x = xa; x < xb; x++, i += 3) {
      c.rgb[i] = color[0];
      c.rgb[i + 1] = color[1];
      c.rgb[i + 2] = color[2];
    }
  }
}

/** Darkens the rectangle [x1, x2) × [y1, y2) to `keep`/256 of its brightness: a translucent dark band. */
export function darkenRect(c: Canvas, x1: number, y1: number, x2: number, y2: number, keep = 96): void {
  if (![x1, y1, x2, y2].every(Number.isFinite)) return;
  const [xa, xb] = span(x1, x2, c.width);
  const [ya, yb] = span(y1, y2, c.height);
  for (let y = ya; y < yb; y++) {
    const end = (y * c.width + xb) * 3;
    for (let i = (y * c.width + xa) * 3; i < end; i++) c.rgb[i] = (c.rgb[i]! * keep) >> 8;
  }
}

/** Outline of the box, `thickness` pixels drawn inward from its edges. */
export function strokeRect(c: Canvas, x1: number, y1: number, x2: number, y2: number, thickness: number, color: Rgb): void {
  fillRect(c, x1, y1, x2, y1 + thickness, color);
  fillRect(c, x1, y2 - thickness, x2, y2, color);
  fillRect(c, x1, y1, x1 + thickness, y2, color);
  fillRect(c, x2 - thickness, y1, x2, y2, color);
}

const INSIDE = 0;
const LEFT = 1;
const RIGHT = 2;
const TOP = 4;
const BOTTOM = 8;

/**
 * Cohen–Sutherland clip of the segment to [xmin, xmax] × [ymin, ymax]; undefined when nothing of it
 * is inside.
 */
function clipSegment(a: Point, b: Point, xmin: number, ymin: number, xmax: number, ymax: number): [Point, Point] | undefined {
  const outcode = (x: number, y: number): number =>
    (x < xmin ? LEFT : x > xmax ? RIGHT : INSIDE) | (y < ymin ? TOP : y > ymax ? BOTTOM : INSIDE);
  let { x: x0, y: y0 } = a;
  let { x: x1, y: y1 } = b;
  let c0 = outcode(x0, y0);
  let c1 = outcode(x1, y1);
  for (let round = 0; round < 8; round++) {
    if ((c0 | c1) === 0) return [{ x: x0, y: y0 }, { x: x1, y: y1 }];
    if ((c0 & c1) !== 0) return undefined;
    const out = c0 !== 0 ? c0 : c1;
    let x: number;
    let y: number;
    if (out & BOTTOM) {
      x = x0 + ((x1 - x0) * (ymax - y0)) / (y1 - y0);
      y = ymax;
    } else if (out & TOP) {
      x = x0 + ((x1 - x0) * (ymin - y0)) / (y1 - y0);
      y = ymin;
    } else if (out & RIGHT) {
      y = y0 + ((y1 - y0) * (xmax - x0)) / (x1 - x0);
      x = xmax;
    } else {
      y = y0 + ((y1 - y0) * (xmin - x0)) / (x1 - x0);
      x = xmin;
    }
    if (out === c0) {
      x0 = x;
      y0 = y;
      c0 = outcode(x0, y0);
    } else {
      x1 = x;
      y1 = y;
      c1 = outcode(x1, y1);
    }
  }
  return undefined;
}

/** Bresenham line from a to b, each step a thickness × thickness square. */
export function drawLine(c: Canvas, a: Point, b: Point, thickness: number, color: Rgb): void {
  if (![a.x, a.y, b.x, b.y].every(Number.isFinite)) return;
  // Clip with a margin of the pen size so the squares at a cut end still reach the frame edge.
  const clipped = clipSegment(a, b, -thickness, -thickness, c.width + thickness, c.height + thickness);
  if (!clipped) return;
  let x0 = Math.round(clipped[0].x);
  let y0 = Math.round(clipped[0].y);
  const x1 = Math.round(clipped[1].x);
  const y1 = Math.round(clipped[1].y);
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  const half = Math.floor((thickness - 1) / 2);
  let err = dx + dy;
  for (;;) {
    for (let py = 0; py < thickness; py++) {
      for (let px = 0; px < thickness; px++) setPixel(c, x0 - half + px, y0 - half + py, color);
    }
    if (x0 === x1 && y0 === y1) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

/** Closed outline through `points`. */
export function drawPolygon(c: Canvas, points: readonly Point[], thickness: number, color: Rgb): void {
  for (let i = 0; i < points.length; i++) {
    drawLine(c, points[i]!, points[(i + 1) % points.length]!, thickness, color);
  }
}

/** Text with its top-left corner at (x, y). */
export function drawText(c: Canvas, text: string, x: number, y: number, scale: number, color: Rgb): void {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return;
  forEachTextPixel(text, Math.round(x), Math.round(y), scale, (px, py) => setPixel(c, px, py, color));
}
