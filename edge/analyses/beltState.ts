// Conveyor belt state (aiTypeCode 03): running or stopped, with or without coal.
//
// Running vs stopped — block matching between consecutive frames inside the ROI, searching only
// along the belt's direction of travel. The belt is running when most textured blocks agree on one
// displacement of at least minSpeedPx per frame along the axis; stopped when most stay put. This
// sees an empty belt run (its surface texture moves), while a lighting change (zero-mean matching:
// no displacement) or a person crossing (a few blocks, moving across the axis) does not start it.
//
// Coal vs no coal — two measures of the ROI, both insensitive to the lamp's brightness: edge
// density (gradients of at least edgeLevel × the ROI's mean brightness) and dark ratio (pixels below
// darkLevel × the ROI's 90th percentile, i.e. the bare belt's brightness). Coal adds both: lumps
// are dark and edged. "With coal" means coal over a good part of the belt in view, not a few
// lumps: the ROI is cut into `cells` slices across the direction of travel, a slice carries coal
// when its measures lie clearly above the empty belt's (stripScore margins), and the belt is
// loaded while more than coalShare of the slices do (empty below coalShare − coalHysteresis).
// A whole-ROI average would instead cross a fixed margin as soon as the first lumps ride in,
// and never come back below it while a thinning tail of coal passes. The measures are compared
// with an empty-belt baseline:
//   * baselineImage (a JPEG of the camera's view with an empty belt), when configured; or
//   * learnt: the least-loaded stable stretch seen. A stopped belt is learnt from its first
//     seconds: stoppedLearnSeconds (1.5 s) of frames that are not moving, over which both measures
//     stay within one coal margin (a flickering lamp shakes the edge count a little; nothing rides
//     in while the belt stands). A running belt needs learnSeconds (10 s) within half a margin (a
//     belt carrying coal fluctuates, an empty one is steady). The first candidate becomes the
//     baseline and any later one that is clearly emptier replaces it, since coal only ever adds
//     load. So a belt that stands empty for a moment before its first start knows its empty
//     surface when it starts, and reports that start, and every coal change after it, on time.
//     Until a baseline exists the coal state is unknown and a start is reported, dated when it
//     began, once it is known (a belt first seen running with coal on it: configure baselineImage;
//     one first seen stopped with coal on it learns the coal as "empty" until an emptier stretch
//     comes, and reports no coal on it until then).
//   Either way, while the belt runs empty the baseline follows slow lighting drift (time constant
//   adaptSeconds).
//
// Events (the guide's beltStatus, table 5-4; 5.1.2 asks for the start, with its coal state, and for
// every change between coal and no coal while running):
//   stopped → running with coal           0001   (also a belt first seen running after start-up,
//   stopped → running without coal        0002    so the platform learns its state)
//   running, no coal → coal               0001
//   running, coal → no coal               0002
//   running with coal → stopped           0003
//   running without coal → stopped        nothing: the guide has no code for a stopped empty belt
//                                                  (0003 is "stopped with coal"), and sending 0003
//                                                  would say coal lies on it
//   a change of coal while stopped        nothing (the guide asks for changes while running; the
//                                                  next start reports the state)
// Start/stop must persist startStopSeconds, a coal change coalSeconds; the event's time is when
// the new state began.
import { existsSync, readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import type { BeltStatusCode } from '../../src/contract/codes.ts';
import { Pattern, Type } from '../../src/config/rules.ts';
import { resizeGray, type GrayImage } from '../frame/image.ts';
import { polygonMask } from '../frame/mask.ts';
import type { Analysis, AnalysisEvent, FrameContext, Marks, Point } from '../types.ts';
import { emptyMarks } from '../types.ts';
import { blockGrid, matchAlongAxis, summariseAxisMotion, type AxisMotion, type Block } from './image/blockMatching.ts';
import { edgeFlags, meanBrightness, percentile } from './image/features.ts';
import { Persistence } from './image/persistence.ts';
import { downscaleRegion, factorFor, type WorkImage } from './image/workImage.ts';
import { BeltBaselineUnreadable } from './errors.ts';
import { Direction, Int, Num, Region, WHOLE_FRAME, defineOptions, directionDegrees, regionPoints, validateOptions } from './options.ts';

export interface BeltOptions {
  /** the belt surface, normalised polygon (a rectangle {x1,y1,x2,y2} in the YAML becomes 4 points) */
  roi: Point[];
  /** direction of travel in image coordinates, degrees: 0 right, 90 down, 180 left, 270 up */
  direction: number;
  /** count movement against `direction` as running too (reversible belts) */
  reversible: boolean;
  /** a start or a stop must persist this long */
  startStopSeconds: number;
  /** a change of coal / no coal must persist this long */
  coalSeconds: number;
  /** the ROI is averaged down until its longer side is at most this (work pixels) */
  workSize: number;
  /** slowest belt speed that counts as running, frame pixels per frame */
  minSpeedPx: number;
  /** fastest belt speed that can be measured, frame pixels per frame (the search range) */
  maxSpeedPx: number;
  /** block side, work pixels */
  blockSize: number;
  maxBlocks: number;
  /** blocks flatter than this (mean absolute deviation, gray levels) are not matched */
  minTexture: number;
  /** running: at least this share of the matched blocks moved together along the axis */
  runningShare: number;
  /** stopped: at least this share of the matched blocks stayed put */
  stoppedShare: number;
  /** no decision when fewer than this share of the blocks could be matched */
  minValidShare: number;
  /** an edge is a gradient of at least this × the ROI's mean brightness per work pixel */
  edgeLevel: number;
  /** a pixel is dark below this × the ROI's 90th percentile */
  darkLevel: number;
  /** slices of the ROI across the direction of travel, for the share of the belt carrying coal */
  cells: number;
  /** a slice carries coal when its load is this many margins (below) above the empty belt */
  stripScore: number;
  /** the belt is loaded ("with coal") while more than this share of the slices carry coal … */
  coalShare: number;
  /** … and empty once fewer than coalShare − coalHysteresis do */
  coalHysteresis: number;
  /** coal: edge density at least this much above the baseline … */
  coalEdgeMargin: number;
  /** … or dark ratio at least this much above it */
  coalDarkMargin: number;
  /** JPEG of the camera's view with the belt empty; absent: learn the baseline */
  baselineImage: string | undefined;
  /** a stretch of a running belt must be this long and steady to become a learnt baseline */
  learnSeconds: number;
  /** … of a stopped belt, this long */
  stoppedLearnSeconds: number;
  /** time constant with which the baseline follows slow lighting change while the belt runs empty */
  adaptSeconds: number;
}

/** `analyses.belt` in the YAML (what each option means: BeltOptions). */
export const BeltSchema = Type.Object({
  roi: Region({ default: WHOLE_FRAME }),
  direction: Direction({ default: 'right' }),
  reversible: Type.Boolean({ default: false }),
  startStopSeconds: Num(0, 600, 3),
  coalSeconds: Num(0, 600, 5),
  workSize: Int(48, 512, 192),
  minSpeedPx: Num(0.25, 100, 2),
  maxSpeedPx: Num(1, 400, 48),
  blockSize: Int(4, 32, 12),
  maxBlocks: Int(4, 256, 48),
  minTexture: Num(0, 64, 2),
  runningShare: Num(0.1, 1, 0.6),
  stoppedShare: Num(0.1, 1, 0.6),
  minValidShare: Num(0, 1, 0.25),
  edgeLevel: Num(0.01, 2, 0.12),
  darkLevel: Num(0.05, 1, 0.5),
  cells: Int(1, 64, 16),
  stripScore: Num(0.5, 50, 2),
  coalShare: Num(0.05, 0.95, 0.5),
  coalHysteresis: Num(0, 0.5, 0.1),
  coalEdgeMargin: Num(0.005, 1, 0.05),
  coalDarkMargin: Num(0.005, 1, 0.06),
  baselineImage: Pattern(/^(|.*\.[jJ][pP][eE]?[gG])$/, 'the path of an existing JPEG file (.jpg, .jpeg)', { default: '' }),
  learnSeconds: Num(1, 3600, 10),
  stoppedLearnSeconds: Num(0.5, 3600, 1.5),
  adaptSeconds: Num(10, 86400, 600),
});

export const BELT_OPTIONS = defineOptions(BeltSchema, (o, problem): BeltOptions => {
  if (o.baselineImage !== '' && !existsSync(o.baselineImage)) {
    problem('baselineImage', `must be the path of an existing JPEG file (.jpg, .jpeg); there is none at ${JSON.stringify(o.baselineImage)}`);
  }
  if (o.coalHysteresis >= o.coalShare) problem('coalHysteresis', `must be below coalShare (${o.coalShare})`);
  if (o.maxSpeedPx <= o.minSpeedPx) problem('maxSpeedPx', `must exceed minSpeedPx (${o.minSpeedPx})`);
  return {
    ...o,
    roi: regionPoints(o.roi, 'roi', problem),
    direction: directionDegrees(o.direction),
    baselineImage: o.baselineImage === '' ? undefined : o.baselineImage,
  };
});

/** Checks `analyses.belt` from the YAML; `path` is its config path for error messages. */
export function validateBeltOptions(raw: unknown, path: string): BeltOptions {
  return validateOptions(BELT_OPTIONS, raw, path);
}

export const DEFAULT_BELT_OPTIONS: Readonly<BeltOptions> = Object.freeze(validateBeltOptions({}, 'belt'));

export type BeltRun = 'running' | 'stopped';
export type BeltLoad = 'coal' | 'empty';

/** The two load measures of the ROI. */
export interface BeltLoadMeasures {
  edges: number;
  dark: number;
}

/** The load measures of the whole ROI and of each slice across it. */
interface LoadMeasures extends BeltLoadMeasures {
  cells: BeltLoadMeasures[];
}

/** What the latest frame showed (for marks, logs and tests). */
export interface BeltMeasures extends BeltLoadMeasures {
  motion: AxisMotion | undefined;
  /** belt speed along the axis, frame pixels per frame (median of the moving blocks) */
  speedPx: number;
  runVote: BeltRun | undefined;
  loadVote: BeltLoad | undefined;
  /** share of the slices of the ROI that carry coal (undefined without a baseline) */
  coalCover: number | undefined;
}

/** Where the ROI lies for one frame size, and what is precomputed for it. */
interface Layout {
  width: number;
  height: number;
  /** crop of the frame (ROI bounding box plus the search margin), frame pixels */
  x0: number;
  y0: number;
  w: number;
  h: number;
  factor: number;
  mask: Uint8Array;
  /** slice of each work pixel across the direction of travel (0…cells−1), CELL_NONE outside the ROI */
  cell: Uint8Array;
  blocks: Block[];
  maxShift: number;
  polygon: Point[];
}

interface Stretch {
  at: number;
  edges: number;
  dark: number;
  /** the belt was not moving on this frame */
  still: boolean;
}

const STATUS: Record<BeltLoad, Extract<BeltStatusCode, '0001' | '0002'>> = { coal: '0001', empty: '0002' };

export class BeltStateAnalysis implements Analysis {
  readonly kind = 'belt' as const;
  readonly needsDetections = false;
  readonly options: Readonly<BeltOptions>;
  private readonly run: Persistence<BeltRun>;
  private readonly load: Persistence<BeltLoad>;
  private layout: Layout | undefined;
  private previous: WorkImage | undefined;
  private lastAt: number | undefined;
  private baselineGray: GrayImage | undefined;
  /** the empty belt's measures */
  baseline: BeltLoadMeasures | undefined;
  private stretch: Stretch[] = [];
  private stretchStart: number | undefined;
  /** start time of a start not reported yet because the coal state was unknown */
  private startPending: number | undefined;
  private reportedLoad: BeltLoad | undefined;
  latest: BeltMeasures | undefined;

  constructor(
    readonly camera: string,
    options: Partial<BeltOptions> = {},
  ) {
    this.options = { ...DEFAULT_BELT_OPTIONS, ...options };
    this.run = new Persistence<BeltRun>(this.options.startStopSeconds * 1000);
    this.load = new Persistence<BeltLoad>(this.options.coalSeconds * 1000);
    if (this.options.baselineImage !== undefined) this.baselineGray = readJpegGray(this.options.baselineImage);
  }

  /** The confirmed state: undefined until one has persisted. */
  get state(): { run: BeltRun | undefined; load: BeltLoad | undefined } {
    return { run: this.run.state, load: this.load.state };
  }

  process(ctx: FrameContext): AnalysisEvent[] {
    const { frame } = ctx;
    const o = this.options;
    const layout = this.layoutFor(frame.width, frame.height);
    const cur = downscaleRegion(frame.gray, frame.width, layout.x0, layout.y0, layout.w, layout.h, layout.factor);
    if (this.baselineGray) {
      // The reference picture goes through the same resize, crop and averaging as the frames.
      const same = resizeGray(this.baselineGray, frame.width, frame.height, 'area');
      this.baseline = totalOf(this.measureLoad(downscaleRegion(same.data, frame.width, layout.x0, layout.y0, layout.w, layout.h, layout.factor), layout));
      this.baselineGray = undefined;
    }
    const dt = this.lastAt === undefined ? Infinity : frame.at - this.lastAt;
    this.lastAt = frame.at;

    // Running or stopped, from this frame and the previous one (not across a gap in the stream).
    let motion: AxisMotion | undefined;
    let runVote: BeltRun | undefined;
    if (this.previous && dt > 0 && dt <= 2000) {
      const moves = matchAlongAxis(this.previous, cur, layout.blocks, Math.cos(rad(o.direction)), Math.sin(rad(o.direction)), {
        size: o.blockSize,
        maxShift: layout.maxShift,
        minTexture: o.minTexture,
        distinctness: 0.5,
      });
      motion = summariseAxisMotion(moves, o.minSpeedPx / layout.factor);
      runVote = this.runVoteOf(motion);
    }
    this.previous = cur;

    const full = this.measureLoad(cur, layout);
    const measures = totalOf(full);
    if (!(dt <= 2000)) this.stretchStart = undefined;
    // Not moving: voted stopped, or undecided (a flickering lamp) while no start is under way.
    const still = runVote === 'stopped' || (runVote === undefined && this.run.state !== 'running' && this.run.pending !== 'running');
    this.learn(frame.at, measures, still);
    const coalCover = this.baseline ? this.coalCoverOf(full, this.baseline) : undefined;
    const loadVote = this.loadVoteOf(coalCover);
    this.latest = { ...measures, motion, speedPx: (motion?.median ?? 0) * layout.factor, runVote, loadVote, coalCover };

    const wasRunning = this.run.state === 'running';
    const runChanged = this.run.update(frame.at, runVote);
    this.load.update(frame.at, loadVote);
    if (this.run.state === 'running' && this.load.state === 'empty' && loadVote === 'empty') this.adapt(measures, dt);

    const events: AnalysisEvent[] = [];
    if (runChanged && this.run.state === 'running') {
      this.startPending = this.run.since;
    } else if (runChanged && this.run.state === 'stopped' && wasRunning) {
      this.startPending = undefined;
      this.reportedLoad = undefined;
      if (this.load.state === 'coal') events.push(this.event(this.run.since, '0003', 'belt stopped with coal on it'));
    }
    if (this.run.state === 'running' && this.load.state !== undefined) {
      if (this.startPending !== undefined) {
        events.push(this.event(this.startPending, STATUS[this.load.state], `belt started, ${this.load.state === 'coal' ? 'with' : 'without'} coal`));
        this.startPending = undefined;
        this.reportedLoad = this.load.state;
      } else if (this.load.state !== this.reportedLoad) {
        events.push(this.event(this.load.since, STATUS[this.load.state], `belt running, ${this.load.state === 'coal' ? 'coal arrived' : 'coal gone'}`));
        this.reportedLoad = this.load.state;
      }
    }
    return events;
  }

  private event(at: number, beltStatus: BeltStatusCode, what: string): AnalysisEvent {
    const m = this.latest;
    const detail = m ? `${what} (speed ${m.speedPx.toFixed(1)} px/frame, coal on ${pct(m.coalCover ?? 0)} of the belt, edges ${pct(m.edges)}, dark ${pct(m.dark)}${this.baseline ? `; empty belt: edges ${pct(this.baseline.edges)}, dark ${pct(this.baseline.dark)}` : ''})` : what;
    return { kind: this.kind, camera: this.camera, at, beltStatus, detail };
  }

  private runVoteOf(m: AxisMotion): BeltRun | undefined {
    const o = this.options;
    if (m.valid < Math.max(3, o.minValidShare * m.blocks)) return undefined;
    if (m.consistent >= o.runningShare * m.valid && (o.reversible || m.median > 0)) return 'running';
    if (m.still >= o.stoppedShare * m.valid) return 'stopped';
    return undefined;
  }

  private measureLoad(img: WorkImage, layout: Layout): LoadMeasures {
    const o = this.options;
    const mean = meanBrightness(img, layout.mask);
    const edges = edgeFlags(img, o.edgeLevel * Math.max(mean, 16));
    const darkBelow = o.darkLevel * Math.max(percentile(img, 0.9, layout.mask), 16);
    const n = new Float64Array(o.cells);
    const e = new Float64Array(o.cells);
    const d = new Float64Array(o.cells);
    const { width: w, height: h, data } = img;
    // Interior pixels only, as edge density counts them.
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        const i = y * w + x;
        const c = layout.cell[i]!;
        if (c === CELL_NONE) continue;
        n[c]!++;
        e[c]! += edges[i]!;
        if (data[i]! < darkBelow) d[c]!++;
      }
    }
    const cells: BeltLoadMeasures[] = [];
    for (let c = 0; c < o.cells; c++) if (n[c]! > 0) cells.push({ edges: e[c]! / n[c]!, dark: d[c]! / n[c]! });
    let sn = 0;
    let se = 0;
    let sd = 0;
    for (let c = 0; c < o.cells; c++) {
      sn += n[c]!;
      se += e[c]!;
      sd += d[c]!;
    }
    return { edges: sn ? se / sn : 0, dark: sn ? sd / sn : 0, cells };
  }

  /** How far above the empty belt the load is, in margins: ≥ 1 is coal. */
  private loadScore(m: BeltLoadMeasures, base: BeltLoadMeasures): number {
    return Math.max((m.edges - base.edges) / this.options.coalEdgeMargin, (m.dark - base.dark) / this.options.coalDarkMargin);
  }

  /** Share of the slices whose load is clearly above the empty belt's. */
  private coalCoverOf(m: LoadMeasures, base: BeltLoadMeasures): number {
    if (!m.cells.length) return 0;
    let coal = 0;
    for (const c of m.cells) if (this.loadScore(c, base) >= this.options.stripScore) coal++;
    return coal / m.cells.length;
  }

  private loadVoteOf(coalCover: number | undefined): BeltLoad | undefined {
    if (coalCover === undefined) return undefined;
    const o = this.options;
    return coalCover > o.coalShare ? 'coal' : coalCover < o.coalShare - o.coalHysteresis ? 'empty' : undefined;
  }

  /** Learns the baseline from the least-loaded steady stretch (see the header); not with a configured image. */
  private learn(at: number, m: BeltLoadMeasures, still: boolean): void {
    if (this.options.baselineImage !== undefined) return;
    const o = this.options;
    const span = o.learnSeconds * 1000;
    const stillSpan = o.stoppedLearnSeconds * 1000;
    if (this.stretchStart === undefined) {
      this.stretchStart = at;
      this.stretch = [];
    }
    this.stretch.push({ at, ...m, still });
    while (this.stretch.length && this.stretch[0]!.at < at - Math.max(span, stillSpan)) this.stretch.shift();
    // A standing belt: the frames of the last stoppedLearnSeconds, all still.
    let k = this.stretch.length;
    while (k > 0 && this.stretch[k - 1]!.still && this.stretch[k - 1]!.at >= at - stillSpan) k--;
    // Still over the whole span: the frame just before it was still too.
    const stillWhole = k > 0 && k < this.stretch.length && this.stretch[k - 1]!.still;
    if (stillWhole && this.offer(this.stretch.slice(k), 1)) return;
    if (at - this.stretchStart < span) return;
    this.offer(this.stretch.filter((s) => s.at >= at - span), 0.5);
  }

  /** Takes the stretch's mean as the baseline when it is steady within `band` margins and the first or clearly emptier. */
  private offer(stretch: readonly Stretch[], band: number): boolean {
    if (!stretch.length) return false;
    let minE = Infinity;
    let maxE = -Infinity;
    let minD = Infinity;
    let maxD = -Infinity;
    let sumE = 0;
    let sumD = 0;
    for (const s of stretch) {
      minE = Math.min(minE, s.edges);
      maxE = Math.max(maxE, s.edges);
      minD = Math.min(minD, s.dark);
      maxD = Math.max(maxD, s.dark);
      sumE += s.edges;
      sumD += s.dark;
    }
    const o = this.options;
    if (maxE - minE > o.coalEdgeMargin * band || maxD - minD > o.coalDarkMargin * band) return false;
    const candidate = { edges: sumE / stretch.length, dark: sumD / stretch.length };
    if (this.baseline && this.loadScore(this.baseline, candidate) < 0.5) return false;
    this.baseline = candidate;
    return true;
  }

  /** While the belt runs empty, the baseline follows slow drift of the measures. */
  private adapt(m: BeltLoadMeasures, dt: number): void {
    const b = this.baseline!;
    const a = Math.min(0.05, Math.max(0, dt) / (this.options.adaptSeconds * 1000));
    this.baseline = { edges: b.edges + a * (m.edges - b.edges), dark: b.dark + a * (m.dark - b.dark) };
  }

  private layoutFor(width: number, height: number): Layout {
    if (this.layout && this.layout.width === width && this.layout.height === height) return this.layout;
    const o = this.options;
    const polygon = o.roi.map((p) => ({ x: p.x * width, y: p.y * height }));
    const bx1 = Math.max(0, Math.floor(Math.min(...polygon.map((p) => p.x))));
    const by1 = Math.max(0, Math.floor(Math.min(...polygon.map((p) => p.y))));
    const bx2 = Math.min(width, Math.ceil(Math.max(...polygon.map((p) => p.x))));
    const by2 = Math.min(height, Math.ceil(Math.max(...polygon.map((p) => p.y))));
    const factor = factorFor(Math.max(bx2 - bx1, by2 - by1), o.workSize);
    const maxShift = Math.max(1, Math.ceil(o.maxSpeedPx / factor));
    // Blocks lie in the ROI; the search may look past it, into a margin where the frame allows.
    const margin = maxShift * factor;
    const x0 = Math.max(0, bx1 - margin);
    const y0 = Math.max(0, by1 - margin);
    const w = Math.floor((Math.min(width, bx2 + margin) - x0) / factor) * factor;
    const h = Math.floor((Math.min(height, by2 + margin) - y0) / factor) * factor;
    const cw = w / factor;
    const ch = h / factor;
    const mask = polygonMask(cw, ch, [polygon.map((p) => ({ x: (p.x - x0) / w, y: (p.y - y0) / h }))]).data;
    const blocks = blockGrid(cw, ch, o.blockSize, mask, 0, o.maxBlocks);
    this.layout = { width, height, x0, y0, w, h, factor, mask, cell: cellsAlong(mask, cw, ch, rad(o.direction), o.cells), blocks, maxShift, polygon };
    return this.layout;
  }

  marks(): Marks {
    const marks = emptyMarks();
    if (this.layout) marks.polygons.push({ points: this.layout.polygon, color: [255, 200, 0], label: 'belt' });
    const run = this.run.state ?? 'unknown';
    const load = !this.baseline ? 'learning the empty belt' : this.load.state === 'coal' ? 'coal' : this.load.state === 'empty' ? 'no coal' : 'coal unknown';
    marks.texts.push(`belt: ${run}, ${load}`);
    return marks;
  }
}

const CELL_NONE = 255;

/** Numbers the mask's pixels by slice (0…cells−1) along the direction `angle`, CELL_NONE outside. */
function cellsAlong(mask: Uint8Array, width: number, height: number, angle: number, cells: number): Uint8Array {
  const ux = Math.cos(angle);
  const uy = Math.sin(angle);
  let lo = Infinity;
  let hi = -Infinity;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      const t = x * ux + y * uy;
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
    }
  }
  const out = new Uint8Array(width * height).fill(CELL_NONE);
  const span = Math.max(hi - lo, 1e-9);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (mask[i]) out[i] = Math.min(cells - 1, Math.floor((((x * ux + y * uy) - lo) / span) * cells));
    }
  }
  return out;
}

function totalOf(m: LoadMeasures): BeltLoadMeasures {
  return { edges: m.edges, dark: m.dark };
}

function rad(deg: number): number {
  return (deg * Math.PI) / 180;
}

function pct(v: number): string {
  return `${Math.round(v * 100)}%`;
}

/** Decodes a JPEG to 8-bit luma (BT.601), synchronously: done once, when the analysis is made. */
function readJpegGray(path: string): GrayImage {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(readFileSync(path), { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
  } catch (err) {
    throw BeltBaselineUnreadable(`cannot read the empty-belt image ${path}: ${(err as Error).message}`, { cause: err, field: 'baselineImage' });
  }
  const data = new Uint8Array(img.width * img.height);
  for (let i = 0, j = 0; i < data.length; i++, j += 4) data[i] = (77 * img.data[j]! + 150 * img.data[j + 1]! + 29 * img.data[j + 2]! + 128) >> 8;
  return { width: img.width, height: img.height, data };
}
