// Greedy non-maximum suppression within each class: the best-scoring box of a class stays, boxes of
// the same class overlapping it by more than `iou` go. Used after the class map, so a car and a
// truck found on the same vehicle collapse into one "vehicle".
import type { Box, Detection } from '../types.ts';

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** the kept detections, best first */
export function nmsPerClass<T extends Detection>(dets: readonly T[], maxIou: number): T[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const d of sorted) {
    if (kept.some((k) => k.cls === d.cls && iou(k.box, d.box) > maxIou)) continue;
    kept.push(d);
  }
  return kept;
}
