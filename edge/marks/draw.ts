// Burns the analyses' marks into a frame for the live stream and the evidence clips: boxes with a
// label tag, lines, polygons, the status lines top-left and the camera and Beijing time bottom-right,
// so a clip viewed anywhere shows what the edge saw and when.
import { formatJsonTime } from '../../src/contract/time.ts';
import type { Box, Marks, Point, Rgb } from '../types.ts';
import { CELL_HEIGHT, textHeight, textWidth } from './font.ts';
import { type Canvas, darkenRect, drawLine, drawPolygon, drawText, fillRect, strokeRect } from './raster.ts';

export interface Overlay {
  /** the frame's capture time, ms since the epoch; drawn as Beijing time */
  time: number;
  /** camera name drawn beside the time */
  camera: string;
  /** e.g. the mine's state or the belt's; drawn between camera and time */
  state?: string;
}

/** Outline width of boxes, lines and polygons. */
export const STROKE = 2;
const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
/** Labels longer than this are cut: a tag is a name, not a paragraph. */
const MAX_LABEL = 48;

/** Text scale for a frame: 1 up to ~430 rows, 2 for D1/720p, 4 for 1080p. */
export function textScaleFor(height: number): number {
  return Math.max(1, Math.round(height / 288));
}

function ascii(text: string, max = MAX_LABEL): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}~` : clean;
}

/** Black text on light colours, white on dark ones (BT.601 luma). */
function inkFor(color: Rgb): Rgb {
  return color[0] * 0.299 + color[1] * 0.587 + color[2] * 0.114 > 140 ? BLACK : WHITE;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/**
 * A filled tag in `color` holding `label`, anchored with its bottom-left corner at (x, y); moved
 * below the anchor (inside the box) when it would leave the top, and kept inside the frame sideways.
 */
function drawTag(c: Canvas, label: string, x: number, y: number, color: Rgb, scale: number, belowY = y): void {
  const text = ascii(label);
  if (text.length === 0) return;
  const pad = scale;
  const w = textWidth(text, scale) + 2 * pad;
  const h = textHeight(scale) + 2 * pad;
  const left = clamp(Math.round(x), 0, Math.max(0, c.width - w));
  let top = Math.round(y) - h;
  if (top < 0) top = Math.round(belowY);
  top = clamp(top, 0, Math.max(0, c.height - h));
  fillRect(c, left, top, left + w, top + h, color);
  drawText(c, text, left + pad, top + pad, scale, inkFor(color));
}

function drawBox(c: Canvas, box: Box, label: string, color: Rgb, scale: number): void {
  if (![box.x1, box.y1, box.x2, box.y2].every(Number.isFinite)) return;
  strokeRect(c, box.x1, box.y1, box.x2, box.y2, STROKE, color);
  // No tag for a box wholly outside the frame: it would float at the edge with nothing to name.
  if (box.x2 <= 0 || box.y2 <= 0 || box.x1 >= c.width || box.y1 >= c.height) return;
  drawTag(c, label, box.x1, box.y1, color, scale, Math.max(0, box.y1));
}

function midpoint(a: Point, b: Point): Point {
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
}

function insideFrame(c: Canvas, p: Point): boolean {
  return p.x >= 0 && p.y >= 0 && p.x < c.width && p.y < c.height;
}

const BAND_PAD = 2;
const lineStep = (scale: number): number => CELL_HEIGHT * scale + scale;

function bandSize(lines: string[], scale: number): { w: number; h: number } {
  const pad = BAND_PAD * scale;
  return {
    w: Math.max(...lines.map((l) => textWidth(l, scale))) + 2 * pad,
    h: (lines.length - 1) * lineStep(scale) + textHeight(scale) + 2 * pad,
  };
}

/** Lines of white text on a dark translucent band with its top-left corner at (x, y). */
function drawBand(c: Canvas, lines: string[], x: number, y: number, scale: number): void {
  const pad = BAND_PAD * scale;
  const { w, h } = bandSize(lines, scale);
  darkenRect(c, x, y, x + w, y + h);
  lines.forEach((line, i) => drawText(c, line, x + pad, y + pad + i * lineStep(scale), scale, WHITE));
}

/** The bottom-right line: camera, state and Beijing time (`yyyy-MM-dd HH:mm:ss`, UTC+8). */
export function footerText(overlay: Overlay): string {
  return [ascii(overlay.camera), overlay.state ? ascii(overlay.state) : '', formatJsonTime(overlay.time)]
    .filter((s) => s.length > 0)
    .join('  ');
}

/**
 * Draws `marks` and the overlay onto the RGB24 frame in place. Everything is clipped to the frame;
 * coordinates outside it, or not finite, draw what falls inside and nothing else.
 */
export function drawMarks(rgb: Uint8Array, width: number, height: number, marks: readonly Marks[], overlay: Overlay): void {
  if (rgb.length < width * height * 3) throw new RangeError(`rgb buffer holds ${rgb.length} bytes, a ${width}×${height} frame needs ${width * height * 3}`);
  const c: Canvas = { rgb, width, height };
  const scale = textScaleFor(height);

  for (const m of marks) {
    for (const p of m.polygons) {
      drawPolygon(c, p.points, STROKE, p.color);
      const anchor = p.points.find((pt) => insideFrame(c, pt));
      if (p.label && anchor) drawTag(c, p.label, anchor.x, anchor.y, p.color, scale);
    }
  }
  for (const m of marks) {
    for (const l of m.lines) {
      drawLine(c, l.a, l.b, STROKE, l.color);
      const mid = midpoint(l.a, l.b);
      if (l.label && insideFrame(c, mid)) drawTag(c, l.label, mid.x, mid.y - STROKE, l.color, scale, mid.y + STROKE);
    }
  }
  for (const m of marks) {
    for (const b of m.boxes) drawBox(c, b.box, b.label, b.color, scale);
  }

  const texts = marks.flatMap((m) => m.texts).map((t) => ascii(t, 80));
  if (texts.length > 0) drawBand(c, texts, 0, 0, scale);

  const footer = footerText(overlay);
  const { w, h } = bandSize([footer], scale);
  drawBand(c, [footer], Math.max(0, width - w), Math.max(0, height - h), scale);
}
