// Marks are taken by reference from analyses that may reuse and mutate their objects on the next
// frame; whatever draws later (a clip cut seconds afterwards, a lazily encoded live frame) needs the
// marks as they were when the frame was pushed.
import type { Marks } from '../types.ts';

/** A deep copy of `marks`, detached from the analyses' objects. */
export function snapshotMarks(marks: readonly Marks[]): Marks[] {
  return marks.map((m) => ({
    boxes: m.boxes.map((b) => ({ box: { ...b.box }, label: b.label, color: [b.color[0], b.color[1], b.color[2]] as const })),
    lines: m.lines.map((l) => ({ a: { ...l.a }, b: { ...l.b }, color: [l.color[0], l.color[1], l.color[2]] as const, ...(l.label === undefined ? {} : { label: l.label }) })),
    polygons: m.polygons.map((p) => ({
      points: p.points.map((pt) => ({ ...pt })),
      color: [p.color[0], p.color[1], p.color[2]] as const,
      ...(p.label === undefined ? {} : { label: p.label }),
    })),
    texts: [...m.texts],
  }));
}
