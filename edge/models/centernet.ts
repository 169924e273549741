// Decodes the converted CenterNet's outputs (see convert.ts): every cell of the peak map at or above
// the score threshold is a candidate centre; its box comes from the edge head (distances to the
// left, top, right and bottom edges, input pixels). Only the classes in the class map are read,
// each keeps its best `perClassTopK`, and NMS runs per mapped class. Boxes are in input pixels.
import { nmsPerClass } from '../detect/nms.ts';
import type { Detection, ObjectClass } from '../types.ts';

export interface CenternetOutputs {
  /** [classes, grid, grid], a cell non-zero only where it is a 3×3 local maximum */
  peaks: Float32Array;
  /** [4, grid, grid] */
  edges: Float32Array;
  /** heatmap side (cells) */
  grid: number;
}

export interface CenternetDecodeOptions {
  /** model class id (JSON-style string key) → ObjectClass; others are not decoded */
  classes: Readonly<Record<string, ObjectClass>>;
  scoreThreshold: number;
  /** best candidates kept per model class before NMS (default 20) */
  perClassTopK?: number;
  /** IoU above which a weaker box of the same mapped class is dropped (default 0.5) */
  nmsIou?: number;
  /** input pixels per heatmap cell (default 4) */
  stride?: number;
}

/** detections in model input pixels, best first */
export function decodeCenternet(out: CenternetOutputs, opts: CenternetDecodeOptions): Detection[] {
  const { grid } = out;
  const cells = grid * grid;
  const stride = opts.stride ?? 4;
  const topK = opts.perClassTopK ?? 20;
  const numClasses = out.peaks.length / cells;
  if (!Number.isInteger(numClasses) || out.edges.length !== 4 * cells) {
    throw new RangeError(`centernet outputs: ${out.peaks.length} peak and ${out.edges.length} edge values do not fit a ${grid}×${grid} grid`);
  }
  const found: Detection[] = [];
  for (const [key, cls] of Object.entries(opts.classes)) {
    const c = Number(key);
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) continue;
    const base = c * cells;
    const cand: { cell: number; score: number }[] = [];
    for (let i = 0; i < cells; i++) {
      const s = out.peaks[base + i]!;
      if (s >= opts.scoreThreshold) cand.push({ cell: i, score: s });
    }
    cand.sort((a, b) => b.score - a.score);
    for (const { cell, score } of cand.slice(0, topK)) {
      const cx = (cell % grid) * stride;
      const cy = Math.floor(cell / grid) * stride;
      const box = {
        x1: cx - out.edges[cell]!,
        y1: cy - out.edges[cells + cell]!,
        x2: cx + out.edges[2 * cells + cell]!,
        y2: cy + out.edges[3 * cells + cell]!,
      };
      if (box.x2 > box.x1 && box.y2 > box.y1) found.push({ box, score, cls });
    }
  }
  return nmsPerClass(found, opts.nmsIou ?? 0.5);
}
