// Which frames of a camera go to the detector. The detector is most of a camera's CPU, and the
// motion stage alone let it run on 70–95% of the frames of a busy view, most of them for motion
// that no analysis cares about. The gate runs it only where an analysis looks and only as often
// as that analysis needs:
// - a counting line (person, truck): on motion near the line, within `lineNearHeights` of the
//   moving region's own height (a small far person counts as near sooner than it moves), for
//   `holdFrames` after it, and while a track the tracker follows is moving (the caller says);
// - a dispatch room: on motion inside the room, at most once every `roomEveryFrames` frames (its
//   verdict takes emptySeconds, 180 s by default; once a second is plenty);
// - every camera: at least once every `keepAliveFrames` frames whatever moves, so a person
//   standing still inside a region is still seen (the room's absence clock, a loiterer's track);
// - a global change (lights switched, exposure jump): once, as the motion stage lets it through.
import type { Analysis, Box, MotionResult, Point } from '../types.ts';
import { hasFocusLines } from '../detect/refine.ts';

export interface DetectionGateOptions {
  /** motion counts for a line when a moving region comes this many of its own heights from it */
  lineNearHeights: number;
  /** …or this many frame pixels, whichever is more */
  lineNearPixels: number;
  /** frames the detector keeps running after the last motion near a line */
  holdFrames: number;
  /** cameras with only a room to watch: at most one run per this many frames while it moves */
  roomEveryFrames: number;
  /** at least one run per this many frames, whatever moves (0: never) */
  keepAliveFrames: number;
  /** a motion ratio from this share of the frame is a global change (the motion stage's resetRatio) */
  globalRatio: number;
}

export const DETECTION_GATE_DEFAULTS: Readonly<DetectionGateOptions> = Object.freeze({
  lineNearHeights: 3,
  lineNearPixels: 48,
  holdFrames: 5,
  roomEveryFrames: 5,
  keepAliveFrames: 10,
  globalRatio: 0.6,
});

/** Why the gate let a frame through (for stats and tests), or undefined when it did not. */
export type GateReason = 'line' | 'room' | 'following' | 'keepAlive' | 'global' | 'everywhere';

function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const f = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + f * dx), p.y - (a.y + f * dy));
}

function segmentsCross(a: Point, b: Point, c: Point, d: Point): boolean {
  const side = (p: Point, q: Point, r: Point) => (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x);
  const d1 = side(c, d, a);
  const d2 = side(c, d, b);
  const d3 = side(a, b, c);
  const d4 = side(a, b, d);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

/** distance from a box to a segment, 0 when they touch */
export function boxToSegment(box: Box, a: Point, b: Point): number {
  const inside = (p: Point) => p.x >= box.x1 && p.x <= box.x2 && p.y >= box.y1 && p.y <= box.y2;
  if (inside(a) || inside(b)) return 0;
  const c: Point[] = [
    { x: box.x1, y: box.y1 },
    { x: box.x2, y: box.y1 },
    { x: box.x2, y: box.y2 },
    { x: box.x1, y: box.y2 },
  ];
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 4; i++) {
    const p = c[i]!;
    const q = c[(i + 1) % 4]!;
    if (segmentsCross(p, q, a, b)) return 0;
    best = Math.min(best, distanceToSegment(p, a, b), distanceToSegment(a, p, q), distanceToSegment(b, p, q));
  }
  return best;
}

function pointInPolygon(p: Point, poly: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i]!;
    const b = poly[j]!;
    if (a.y > p.y !== b.y > p.y && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

/** a box and a polygon overlap: a corner of one inside the other, or their edges cross */
function boxMeetsPolygon(box: Box, poly: readonly Point[]): boolean {
  const corners: Point[] = [
    { x: box.x1, y: box.y1 },
    { x: box.x2, y: box.y1 },
    { x: box.x2, y: box.y2 },
    { x: box.x1, y: box.y2 },
  ];
  if (corners.some((c) => pointInPolygon(c, poly))) return true;
  if (poly.some((p) => p.x >= box.x1 && p.x <= box.x2 && p.y >= box.y1 && p.y <= box.y2)) return true;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!;
    const b = poly[(i + 1) % poly.length]!;
    if (boxToSegment(box, a, b) === 0) return true;
  }
  return false;
}

/** The room of a dispatchRoom analysis, normalised, or undefined for other analyses. */
function roomOf(a: Analysis): readonly Point[] | undefined {
  if (a.kind !== 'dispatchRoom') return undefined;
  const roi = (a as { options?: { roi?: readonly Point[] } }).options?.roi;
  return roi && roi.length >= 3 ? roi : [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }, { x: 0, y: 1 }];
}

export class DetectionGate {
  readonly #o: DetectionGateOptions;
  readonly #lines: [Point, Point][];
  readonly #rooms: Point[][];
  /** an analysis needs detections but says nowhere where: every motion counts */
  readonly #everywhere: boolean;
  #frame = -1;
  #lastRun = Number.NEGATIVE_INFINITY;
  #lastLineMotion = Number.NEGATIVE_INFINITY;

  constructor(analyses: readonly Analysis[], width: number, height: number, options: Partial<DetectionGateOptions> = {}) {
    this.#o = { ...DETECTION_GATE_DEFAULTS, ...options };
    this.#lines = analyses.flatMap((a) => (a.needsDetections && hasFocusLines(a) ? a.focusLines(width, height) : []));
    this.#rooms = analyses.flatMap((a) => {
      const r = a.needsDetections ? roomOf(a) : undefined;
      return r ? [r.map((p) => ({ x: p.x * width, y: p.y * height }))] : [];
    });
    this.#everywhere = analyses.some((a) => a.needsDetections && !hasFocusLines(a) && roomOf(a) === undefined);
  }

  /**
   * Whether the detector runs on this frame (call once per frame, in order). `following`: the
   * tracker follows a moving object, which the motion stage may not see (small, far, slow).
   */
  decide(motion: MotionResult, following: boolean): GateReason | undefined {
    const n = ++this.#frame;
    const reason = this.#reason(n, motion, following);
    if (reason) this.#lastRun = n;
    return reason;
  }

  #reason(n: number, motion: MotionResult, following: boolean): GateReason | undefined {
    const o = this.#o;
    if (this.#everywhere && motion.active) return 'everywhere';
    if (this.#lines.length && motion.regions.some((r) => this.#nearLine(r))) this.#lastLineMotion = n;
    if (this.#lines.length && n - this.#lastLineMotion <= o.holdFrames) return 'line';
    // a room's verdict needs no track followed frame by frame: only lines (and analyses that say nowhere) do
    if (following && (this.#lines.length || this.#everywhere)) return 'following';
    if (motion.active && motion.ratio >= o.globalRatio) return 'global';
    if (this.#rooms.length && n - this.#lastRun >= o.roomEveryFrames && motion.regions.some((r) => this.#rooms.some((room) => boxMeetsPolygon(r, room)))) return 'room';
    if (o.keepAliveFrames > 0 && n - this.#lastRun >= o.keepAliveFrames) return 'keepAlive';
    return undefined;
  }

  #nearLine(r: Box): boolean {
    const near = Math.max(this.#o.lineNearPixels, this.#o.lineNearHeights * (r.y2 - r.y1));
    return this.#lines.some(([a, b]) => boxToSegment(r, a, b) <= near);
  }
}
