// Which frames of a camera go to the detector. The detector is most of a camera's CPU, and the
// motion stage alone let it run on 70–95% of the frames of a busy view, most of them for motion
// that no analysis cares about. The gate runs it only where an analysis looks and only as often
// as that analysis needs:
// - a counting line (person, truck): on motion near the line, within `lineNearHeights` of the
//   moving region's own height (a small far person counts as near sooner than it moves), for
//   `holdFrames` after it, and while a track the tracker follows is moving (the caller says); on
//   every `bigEveryFrames`-th frame only while everything there is big and followed: every track
//   seen at the last run, confirmed and at least `bigHeight` px tall (a newcomer, seen at the next
//   run, or a small or a lost object brings back every frame). A big
//   object moves little for its size between two frames, and the tracker predicts over the real
//   time between runs;
// - a dispatch room: on motion inside the room, at most once every `roomEveryFrames` frames (its
//   verdict takes emptySeconds, 180 s by default; once a second is plenty);
// - every camera: on every `keepAliveFrames`-th frame and never fewer, whatever moves, so a person
//   standing still inside a region is still seen (the room's absence clock, a loiterer's track);
// - a global change (lights switched, exposure jump): once, as the motion stage lets it through.
import type { Analysis, Box, MotionResult, Point, Track } from '../types.ts';
import { pointInPolygon, segmentsIntersect } from '../analyses/geometry.ts';
import { distanceToSegment, hasFocusLines } from '../detect/refine.ts';

/** a track unseen for more runs than this no longer holds the detector at every frame */
const LOST_RUNS = 2;

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
  /** objects at least this tall (frame px) are big (the small-object second look takes those below) */
  bigHeight: number;
  /** while only big followed objects move at a line, one run per this many frames (1: every frame) */
  bigEveryFrames: number;
}

export const DETECTION_GATE_DEFAULTS: Readonly<DetectionGateOptions> = Object.freeze({
  lineNearHeights: 3,
  lineNearPixels: 48,
  holdFrames: 5,
  roomEveryFrames: 5,
  keepAliveFrames: 10,
  globalRatio: 0.6,
  bigHeight: 80,
  bigEveryFrames: 2,
});

/** Why the gate let a frame through (for stats and tests), or undefined when it did not. */
export type GateReason = 'line' | 'room' | 'following' | 'keepAlive' | 'global' | 'everywhere';

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
    if (segmentsIntersect(p, q, a, b)) return 0;
    best = Math.min(best, distanceToSegment(p, a, b), distanceToSegment(a, p, q), distanceToSegment(b, p, q));
  }
  return best;
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
  decide(motion: MotionResult, following: boolean, tracks: readonly Track[] = []): GateReason | undefined {
    const n = ++this.#frame;
    const reason = this.#reason(n, motion, following, tracks);
    if (reason) this.#lastRun = n;
    return reason;
  }

  #reason(n: number, motion: MotionResult, following: boolean, tracks: readonly Track[]): GateReason | undefined {
    const o = this.#o;
    if (this.#everywhere && motion.active) return 'everywhere';
    // regions count only when the motion stage calls the frame moving (its share and hold): a
    // region under that is mostly noise, and running on it changes what the tracker keeps
    const near = this.#lines.length && motion.active ? motion.regions.filter((r) => this.#nearLine(r)) : [];
    // motion the stage could not place (changes too scattered or too small for a region: a person
    // of 20 px far down a passage) may be at the line: it counts as near
    if (near.length || (this.#lines.length && motion.active && motion.regions.length === 0 && motion.ratio > 0)) this.#lastLineMotion = n;
    // a room's verdict needs no track followed frame by frame: only lines (and analyses that say nowhere) do
    const lineNeeds = this.#lines.length > 0 && (n - this.#lastLineMotion <= o.holdFrames || following);
    if (lineNeeds && !(n - this.#lastRun < o.bigEveryFrames && this.#onlyBigFollowed(tracks))) return n - this.#lastLineMotion <= o.holdFrames ? 'line' : 'following';
    if (following && this.#everywhere) return 'following';
    if (motion.active && motion.ratio >= o.globalRatio) return 'global';
    if (this.#rooms.length && n - this.#lastRun >= o.roomEveryFrames && motion.regions.some((r) => this.#rooms.some((room) => boxMeetsPolygon(r, room)))) return 'room';
    if (o.keepAliveFrames > 0 && (n - this.#lastRun >= o.keepAliveFrames || n % o.keepAliveFrames === 0)) return 'keepAlive';
    return undefined;
  }

  /**
   * Every track is confirmed, was seen at the last run and is big (one just lost for a run or two,
   * perhaps behind another person, brings back every frame). Moving regions are not asked:
   * the motion stage's background keeps the ghost of whoever just left, and a newcomer is seen at
   * the next run anyway, as a tentative track that brings back every frame.
   */
  #onlyBigFollowed(tracks: readonly Track[]): boolean {
    if (tracks.length === 0) return false;
    let seen = 0;
    for (const t of tracks) {
      if (t.missed > LOST_RUNS) continue; // gone for a while: most likely out of view; its recovery does not need every frame
      if (!t.confirmed || t.missed > 0 || t.box.y2 - t.box.y1 < this.#o.bigHeight) return false;
      seen++;
    }
    return seen > 0;
  }

  #nearLine(r: Box): boolean {
    const near = Math.max(this.#o.lineNearPixels, this.#o.lineNearHeights * (r.y2 - r.y1));
    return this.#lines.some(([a, b]) => boxToSegment(r, a, b) <= near);
  }
}
