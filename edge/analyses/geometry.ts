// Plane geometry the analyses share. Operators configure lines and zones in normalised
// coordinates (0…1 of the frame, so a config survives a change of analysis size); the analyses
// work in frame pixels, where distances mean the same thing along both axes.
import type { Box, Point } from '../types.ts';

/** Even-odd rule (ray cast to +x). Points exactly on an edge may fall either way. */
export function pointInPolygon(p: Point, polygon: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const a = polygon[i]!;
    const b = polygon[j]!;
    if (a.y > p.y !== b.y > p.y && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

/** z of (b − a) × (p − a): > 0 on one side of the directed line a→b, < 0 on the other, 0 on it. */
export function cross(a: Point, b: Point, p: Point): number {
  return (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
}

/**
 * Signed distance of p from the infinite line through a→b, in the units of the points. Positive on
 * the side where cross() is positive (in image coordinates, y down, that is the right-hand side
 * when walking from a to b).
 */
export function signedDistance(p: Point, a: Point, b: Point): number {
  const len = Math.hypot(b.x - a.x, b.y - a.y);
  return len === 0 ? 0 : cross(a, b, p) / len;
}

/** −1, 0 or 1: which side of the directed line a→b p is on. */
export function sideOfLine(p: Point, a: Point, b: Point): -1 | 0 | 1 {
  const c = cross(a, b, p);
  return c > 0 ? 1 : c < 0 ? -1 : 0;
}

function onSegment(a: Point, b: Point, p: Point): boolean {
  return Math.min(a.x, b.x) <= p.x && p.x <= Math.max(a.x, b.x) && Math.min(a.y, b.y) <= p.y && p.y <= Math.max(a.y, b.y);
}

/** True when segment p1–p2 and segment q1–q2 share at least one point (touching counts). */
export function segmentsIntersect(p1: Point, p2: Point, q1: Point, q2: Point): boolean {
  const d1 = cross(q1, q2, p1);
  const d2 = cross(q1, q2, p2);
  const d3 = cross(p1, p2, q1);
  const d4 = cross(p1, p2, q2);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  if (d1 === 0 && onSegment(q1, q2, p1)) return true;
  if (d2 === 0 && onSegment(q1, q2, p2)) return true;
  if (d3 === 0 && onSegment(p1, p2, q1)) return true;
  if (d4 === 0 && onSegment(p1, p2, q2)) return true;
  return false;
}

export function toPixels(p: Point, width: number, height: number): Point {
  return { x: p.x * width, y: p.y * height };
}

export function toNormalised(p: Point, width: number, height: number): Point {
  return { x: p.x / width, y: p.y / height };
}

export function polygonToPixels(polygon: readonly Point[], width: number, height: number): Point[] {
  return polygon.map((p) => toPixels(p, width, height));
}

export function polygonToNormalised(polygon: readonly Point[], width: number, height: number): Point[] {
  return polygon.map((p) => toNormalised(p, width, height));
}

/** Bottom-centre of a box: where a person stands or a wheel meets the road. */
export function footPoint(box: Box): Point {
  return { x: (box.x1 + box.x2) / 2, y: box.y2 };
}

export function boxCentre(box: Box): Point {
  return { x: (box.x1 + box.x2) / 2, y: (box.y1 + box.y2) / 2 };
}

/** Shoelace formula: the polygon's area in the units of its points, signed by its winding. */
export function polygonArea(points: readonly Point[]): number {
  let a = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) a += points[j]!.x * points[i]!.y - points[i]!.x * points[j]!.y;
  return a / 2;
}
