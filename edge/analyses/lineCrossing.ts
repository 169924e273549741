// Counting objects that cross a line in one direction, shared by the person and truck counts.
//
// The operator gives the line as two normalised points and a third point, `towards`, on the side
// objects reach when they are counted. A confirmed track of the wanted class counts once, when its
// foot point (bottom-centre) has been at least minDistance on the far side, its path then crosses
// the segment (not merely the infinite line), and it reaches minDistance on the near side. The dead
// band of 2·minDistance around the line is the hysteresis: a foot point jittering on the line, or a
// person who stops on it, never counts. A track counts once in its life, so crossing, coming back and
// crossing again is one count; walks the other way are counted apart as "wrong way" and only shown.
//
// The band is narrower for small objects: at most `bandHeights` of the track's box height. A person
// 30 px tall far down a passage walks 18 px of foot row (the default band on D1) in five seconds,
// and the tracker rarely keeps such a small person that long; a jitter of the foot point stays a
// small share of the box whatever its size. The score a track must have reached is compared
// after the same scaling for small boxes that the tracker applies (track/smallObjects.ts).
//
// Counts of one frame, or of crossings within groupSeconds of the first, make one group (one
// event, count N, time of the first crossing). A group is handed out on the first frame at least
// groupSeconds after its first crossing (at once when groupSeconds is 0), or by flush().
import type { Analysis, AnalysisEvent, FrameContext, Marks, ObjectClass, Point, Rgb, Track } from '../types.ts';
import { Type, type Static } from '../../src/config/rules.ts';
import { sizedScore } from '../track/smallObjects.ts';
import { pointInPolygon, polygonToPixels, segmentsIntersect, signedDistance, toPixels } from './geometry.ts';
import { NormLine, NormPoint, NormRegion, defineOptions, linePoints, regionPoints, toPoint, validateOptions } from './options.ts';

export interface LineCountOptions {
  /** the counting line, normalised [[x,y],[x,y]] */
  line: [Point, Point];
  /** a normalised point on the side objects go to when they are counted */
  towards: Point;
  /** only counts whose foot point is inside this normalised polygon (at the moment of counting) */
  roi?: Point[];
  /** a track counts only if one of its detections scored at least this */
  minScore: number;
  /** crossings within this many seconds of a group's first make one event */
  groupSeconds: number;
  /** hysteresis: distance from the line, as a share of the frame diagonal, to be on a side */
  minDistance: number;
  /** the hysteresis distance is at most this many times the object's box height */
  bandHeights: number;
}

/** What a constructor accepts: the line and `towards`, the rest defaults. */
export type LineCountInput = Pick<LineCountOptions, 'line' | 'towards'> & Partial<Omit<LineCountOptions, 'line' | 'towards'>>;

export const LINE_COUNT_DEFAULTS = {
  minScore: 0.5,
  groupSeconds: 2,
  minDistance: 0.02,
  bandHeights: 0.25,
} as const;

/**
 * A counting line across the middle of the view, counted going down the picture: a start that
 * works for a camera looking along a passage; real sites set their own line.
 */
const DEFAULT_LINE: Required<Pick<Static<typeof LineCountSchema>, 'line' | 'towards'>> = {
  line: [
    [0.02, 0.55],
    [0.98, 0.55],
  ],
  towards: [0.5, 1],
};

/** `analyses.person` and `analyses.truck` in the YAML. */
export const LineCountSchema = Type.Object({
  /** the counting line; given together with `towards` (neither: DEFAULT_LINE) */
  line: Type.Optional(NormLine),
  /** a point on the side objects reach when they are counted */
  towards: Type.Optional(NormPoint),
  /** only counts whose foot point is inside this region */
  roi: Type.Optional(NormRegion),
  minScore: Type.Number({ minimum: 0, maximum: 1, default: LINE_COUNT_DEFAULTS.minScore }),
  groupSeconds: Type.Number({ minimum: 0, maximum: 600, default: LINE_COUNT_DEFAULTS.groupSeconds }),
  minDistance: Type.Number({ minimum: 0, maximum: 0.5, default: LINE_COUNT_DEFAULTS.minDistance }),
  bandHeights: Type.Number({ minimum: 0, maximum: 10, default: LINE_COUNT_DEFAULTS.bandHeights }),
});

export const LINE_COUNT_OPTIONS = defineOptions(LineCountSchema, (o, problem): LineCountOptions => {
  const half = (o.line === undefined) !== (o.towards === undefined);
  if (half && o.line === undefined) problem('line', 'required with towards: two points [[x, y], [x, y]]');
  if (half && o.towards === undefined) problem('towards', 'required with line: a point [x, y] on the side objects are counted going to');
  const given = o.line !== undefined && o.towards !== undefined ? { line: o.line, towards: o.towards } : DEFAULT_LINE;
  const line = linePoints(given.line, 'line', problem);
  const towards = toPoint(given.towards);
  if (!half && Math.abs(signedDistance(towards, line[0], line[1])) < 0.01) {
    problem('towards', 'must lie off the line (at least 0.01 from it), on the side objects are counted going to');
  }
  const options: LineCountOptions = { line, towards, minScore: o.minScore, groupSeconds: o.groupSeconds, minDistance: o.minDistance, bandHeights: o.bandHeights };
  if (o.roi !== undefined) options.roi = regionPoints(o.roi, 'roi', problem);
  return options;
});

/** YAML-parsed options → typed options, or an ESEAL_ERR_EDGE_ANALYSIS_OPTION naming every problem. */
export function validateLineCountOptions(raw: unknown, path: string): LineCountOptions {
  return validateOptions(LINE_COUNT_OPTIONS, raw, path);
}

/** One event's worth of counted crossings. */
export interface CrossingGroup {
  /** time of the first crossing (ms) */
  at: number;
  count: number;
  trackIds: number[];
}

interface TrackSide {
  /** time of the last path point taken into account */
  lastAt: number;
  prev: Point | undefined;
  /** +1 after reaching the near side, −1 after the far side, 0 before either */
  zone: -1 | 0 | 1;
  /** when the path crossed the segment towards the near side since it was last on the far side */
  inCrossAt: number | undefined;
  outCrossAt: number | undefined;
  countedIn: boolean;
  countedOut: boolean;
  maxScore: number;
}

interface Geometry {
  width: number;
  height: number;
  a: Point;
  b: Point;
  /** +1 when `towards` is on the positive side of a→b */
  orient: number;
  towards: Point;
  roi: Point[] | undefined;
  band: number;
}

export interface LineCounterLabels {
  /** noun for boxes and texts, e.g. 'person' */
  noun: string;
  /** word for the counted direction, e.g. 'in' */
  counted: string;
  /** word for the other direction, e.g. 'out' */
  wrongWay: string;
}

const LINE_COLOR: Rgb = [0, 200, 255];
const ROI_COLOR: Rgb = [255, 160, 0];
const COUNTED_COLOR: Rgb = [0, 220, 0];
const TRACK_COLOR: Rgb = [255, 230, 0];

export class LineCounter {
  readonly cls: ObjectClass;
  readonly options: LineCountOptions;
  readonly labels: LineCounterLabels;
  #geometry: Geometry | undefined;
  #sides = new Map<number, TrackSide>();
  #pending: CrossingGroup | undefined;
  #counted = 0;
  #wrongWay = 0;
  #latest: readonly Track[] = [];

  constructor(cls: ObjectClass, options: LineCountInput, labels: LineCounterLabels) {
    this.cls = cls;
    this.options = { ...LINE_COUNT_DEFAULTS, ...options };
    this.labels = labels;
  }

  /** total counted in the wanted direction since start */
  get counted(): number {
    return this.#counted;
  }

  /** total crossings the other way since start (not reported, only shown) */
  get wrongWay(): number {
    return this.#wrongWay;
  }

  /** Feeds one frame; returns the groups that are complete as of this frame. */
  process(ctx: FrameContext): CrossingGroup[] {
    const g = this.#geometryFor(ctx.frame.width, ctx.frame.height);
    const out: CrossingGroup[] = [];
    const groupMs = this.options.groupSeconds * 1000;
    if (this.#pending && groupMs > 0 && ctx.frame.at - this.#pending.at >= groupMs) out.push(...this.flush());

    const mine = ctx.tracks.filter((t) => t.cls === this.cls);
    for (const t of mine) {
      if (!t.confirmed) continue;
      let s = this.#sides.get(t.id);
      if (!s) {
        s = { lastAt: -Infinity, prev: undefined, zone: 0, inCrossAt: undefined, outCrossAt: undefined, countedIn: false, countedOut: false, maxScore: 0 };
        this.#sides.set(t.id, s);
      }
      const boxHeight = t.box.y2 - t.box.y1;
      if (t.missed === 0) s.maxScore = Math.max(s.maxScore, sizedScore(t.score, boxHeight));
      const band = Math.min(g.band, this.options.bandHeights * boxHeight);
      for (const p of t.path) {
        if (p.at <= s.lastAt) continue;
        s.lastAt = p.at;
        const crossingAt = this.#step(g, s, { x: p.x, y: p.y }, p.at, band);
        if (crossingAt !== undefined) this.#add(t.id, crossingAt);
      }
    }
    // Forget tracks the tracker dropped; only trust the list on frames where the tracker ran.
    if (ctx.detections !== undefined) {
      const live = new Set(ctx.tracks.map((t) => t.id));
      for (const id of this.#sides.keys()) if (!live.has(id)) this.#sides.delete(id);
    }
    this.#latest = mine;
    if (this.#pending && groupMs === 0) out.push(...this.flush());
    return out;
  }

  /** Hands out the group being collected, if any (end of a file, shutdown). */
  flush(): CrossingGroup[] {
    const p = this.#pending;
    this.#pending = undefined;
    return p ? [p] : [];
  }

  /** One new foot point of a track; returns the crossing time when this point makes the track count. */
  #step(g: Geometry, s: TrackSide, p: Point, at: number, band: number): number | undefined {
    const d = g.orient * signedDistance(p, g.a, g.b);
    const prev = s.prev;
    s.prev = p;
    if (prev && segmentsIntersect(prev, p, g.a, g.b)) {
      const dPrev = g.orient * signedDistance(prev, g.a, g.b);
      if (d > dPrev && s.inCrossAt === undefined) s.inCrossAt = at;
      if (d < dPrev && s.outCrossAt === undefined) s.outCrossAt = at;
    }
    let counted: number | undefined;
    if (d >= band) {
      if (s.zone === -1 && s.inCrossAt !== undefined && !s.countedIn && s.maxScore >= this.options.minScore && (!g.roi || pointInPolygon(p, g.roi))) {
        s.countedIn = true;
        counted = s.inCrossAt;
      }
      s.zone = 1;
      s.outCrossAt = undefined;
    } else if (d <= -band) {
      if (s.zone === 1 && s.outCrossAt !== undefined && !s.countedOut) {
        s.countedOut = true;
        this.#wrongWay++;
      }
      s.zone = -1;
      s.inCrossAt = undefined;
    }
    return counted;
  }

  #add(trackId: number, at: number): void {
    this.#counted++;
    if (!this.#pending) {
      this.#pending = { at, count: 1, trackIds: [trackId] };
      return;
    }
    this.#pending.count++;
    this.#pending.trackIds.push(trackId);
    this.#pending.at = Math.min(this.#pending.at, at);
  }

  #geometryFor(width: number, height: number): Geometry {
    const g = this.#geometry;
    if (g && g.width === width && g.height === height) return g;
    const a = toPixels(this.options.line[0], width, height);
    const b = toPixels(this.options.line[1], width, height);
    const towards = toPixels(this.options.towards, width, height);
    const next: Geometry = {
      width,
      height,
      a,
      b,
      orient: signedDistance(towards, a, b) >= 0 ? 1 : -1,
      towards,
      roi: this.options.roi ? polygonToPixels(this.options.roi, width, height) : undefined,
      band: this.options.minDistance * Math.hypot(width, height),
    };
    this.#geometry = next;
    return next;
  }

  /** The counting line in frame pixels: where the pipeline looks again at small objects. */
  focusLine(width: number, height: number): [Point, Point] {
    const g = this.#geometryFor(width, height);
    return [g.a, g.b];
  }

  /** Line, `towards` arrow and ROI in frame pixels, boxes of the tracks followed now, totals. */
  marks(): Marks {
    const m: Marks = { boxes: [], lines: [], polygons: [], texts: [] };
    const g = this.#geometry;
    const { noun, counted, wrongWay } = this.labels;
    if (g) {
      m.lines.push({ a: g.a, b: g.b, color: LINE_COLOR, label: `${noun} line` });
      const mid = { x: (g.a.x + g.b.x) / 2, y: (g.a.y + g.b.y) / 2 };
      m.lines.push({ a: mid, b: g.towards, color: LINE_COLOR, label: counted });
      if (g.roi) m.polygons.push({ points: g.roi, color: ROI_COLOR, label: `${noun} zone` });
    }
    for (const t of this.#latest) {
      if (!t.confirmed || t.missed > 0) continue;
      const done = this.#sides.get(t.id)?.countedIn === true;
      m.boxes.push({ box: t.box, label: `#${t.id} ${noun}${done ? ` ${counted}` : ''}`, color: done ? COUNTED_COLOR : TRACK_COLOR });
    }
    m.texts.push(`${noun} ${counted}: ${this.#counted}`, `${noun} ${wrongWay}: ${this.#wrongWay}`);
    return m;
  }
}

/** What makes a line count one of the guide's analyses. */
export interface LineCountKind {
  kind: 'person' | 'truck';
  cls: ObjectClass;
  labels: LineCounterLabels;
  /** the event's detail for a group of `count` */
  describe(count: number): string;
}

/** A LineCounter as an Analysis: each group of crossings becomes one event with its count. */
export class LineCountAnalysis implements Analysis {
  readonly kind: 'person' | 'truck';
  readonly needsDetections = true;
  readonly camera: string;
  readonly counter: LineCounter;
  readonly #describe: (count: number) => string;

  constructor(camera: string, options: LineCountInput, what: LineCountKind) {
    this.camera = camera;
    this.kind = what.kind;
    this.counter = new LineCounter(what.cls, options, what.labels);
    this.#describe = what.describe;
  }

  process(ctx: FrameContext): AnalysisEvent[] {
    return this.counter.process(ctx).map((g) => this.#event(g));
  }

  /** The group still being collected, as an event (end of a file, shutdown). */
  flush(): AnalysisEvent[] {
    return this.counter.flush().map((g) => this.#event(g));
  }

  marks(): Marks {
    return this.counter.marks();
  }

  focusLines(width: number, height: number): [Point, Point][] {
    return [this.counter.focusLine(width, height)];
  }

  #event(g: CrossingGroup): AnalysisEvent {
    return { kind: this.kind, camera: this.camera, at: g.at, count: g.count, trackIds: g.trackIds, detail: this.#describe(g.count) };
  }
}
