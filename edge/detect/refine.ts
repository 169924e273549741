// A second look, at higher resolution, at small objects near a counting line. The detector sees a
// D1 frame shrunk to its input (704 → 512), so a person 30 px tall far down a passage is 22 px in the
// model, where CenterNet still finds most people but scores them 0.2–0.4: below what may start or
// continue a track. Instead of lowering every threshold (and taking every doubtful blob), each small
// detection near a line is looked at again in a crop around it, zoomed so the object is about
// `zoomTo` px tall in the model input, and takes the score (and the box) the detector gives it there.
// The crop pass costs one run per candidate: only small ones, only near a line, only those whose
// score (scaled for size as the tracker scales it) is still below `enoughScore`, at most maxCrops.
import type { Box, Detection, Frame, Point } from '../types.ts';
import type { Detector } from './detector.ts';
import { iou } from './nms.ts';
import { sizedScore } from '../track/smallObjects.ts';

/** What an analysis that counts at a line offers the pipeline: the lines, in frame pixels. */
export interface FocusLines {
  focusLines(width: number, height: number): [Point, Point][];
}

export function hasFocusLines(a: object): a is FocusLines {
  return typeof (a as Partial<FocusLines>).focusLines === 'function';
}

export interface RefineOptions {
  /** detections at least this tall (frame pixels) are left as they are */
  maxHeight: number;
  /** how tall the object should be in the model input, pixels */
  zoomTo: number;
  /** only detections whose foot point is within this many of their heights of a line */
  nearHeights: number;
  /** at most this many crops per frame (nearest to a line first) */
  maxCrops: number;
  /** detections below this score are not worth a second look */
  minScore: number;
  /** nor those scoring this much already, after scaling for size (the tracker's "high" score) */
  enoughScore: number;
}

export const REFINE_DEFAULTS: RefineOptions = { maxHeight: 80, zoomTo: 112, nearHeights: 2, maxCrops: 2, minScore: 0.15, enoughScore: 0.5 };

/** distance from a point to a segment */
export function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const f = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + f * dx), p.y - (a.y + f * dy));
}

/** The square crop, inside the frame, that shows `box` at the wanted zoom for a model of `inputSize`. */
export function cropAround(box: Box, width: number, height: number, inputSize: number, zoomTo: number): Box {
  const h = box.y2 - box.y1;
  const side = Math.round(Math.min(width, height, Math.max(64, (h * inputSize) / zoomTo)));
  const cx = (box.x1 + box.x2) / 2;
  const cy = (box.y1 + box.y2) / 2;
  const x1 = Math.round(Math.max(0, Math.min(width - side, cx - side / 2)));
  const y1 = Math.round(Math.max(0, Math.min(height - side, cy - side / 2)));
  return { x1, y1, x2: x1 + side, y2: y1 + side };
}

function cropFrame(frame: Frame, r: Box): Frame {
  const w = r.x2 - r.x1;
  const h = r.y2 - r.y1;
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const from = ((r.y1 + y) * frame.width + r.x1) * 3;
    rgb.set(frame.rgb.subarray(from, from + w * 3), y * w * 3);
  }
  return { camera: frame.camera, seq: frame.seq, at: frame.at, width: w, height: h, rgb, gray: new Uint8Array(0) };
}

/**
 * The detections with the small ones near a line looked at again: each keeps its class and takes
 * the better score of the two looks and, when the crop scored it higher, the crop's box.
 */
export async function refineNearLines(
  detector: Detector,
  frame: Frame,
  detections: readonly Detection[],
  lines: readonly [Point, Point][],
  inputSize: number,
  options: Partial<RefineOptions> = {},
): Promise<Detection[]> {
  const o = { ...REFINE_DEFAULTS, ...options };
  if (lines.length === 0) return detections.slice();
  const candidates = detections
    .map((d, i) => {
      const h = d.box.y2 - d.box.y1;
      const foot = { x: (d.box.x1 + d.box.x2) / 2, y: d.box.y2 };
      const dist = Math.min(...lines.map(([a, b]) => distanceToSegment(foot, a, b)));
      return { d, i, h, dist };
    })
    .filter((c) => c.h < o.maxHeight && c.d.score >= o.minScore && sizedScore(c.d.score, c.h) < o.enoughScore && c.dist <= o.nearHeights * c.h)
    .sort((a, b) => a.dist / a.h - b.dist / b.h)
    .slice(0, o.maxCrops);
  const out = detections.slice();
  for (const c of candidates) {
    const r = cropAround(c.d.box, frame.width, frame.height, inputSize, o.zoomTo);
    const found = await detector.detect(cropFrame(frame, r));
    if (!found) continue;
    let best: Detection | undefined;
    let bestIou = 0.3;
    for (const f of found) {
      if (f.cls !== c.d.cls) continue;
      const box = { x1: f.box.x1 + r.x1, y1: f.box.y1 + r.y1, x2: f.box.x2 + r.x1, y2: f.box.y2 + r.y1 };
      const overlap = iou(box, c.d.box);
      if (overlap >= bestIou) {
        bestIou = overlap;
        best = { ...f, box };
      }
    }
    if (best && best.score > c.d.score) out[c.i] = best;
  }
  return out;
}
