// Camera moved (aiTypeCode 05): the view has turned away from the one learnt at start-up. Phase
// correlation of the current frame (averaged down, resampled to fftSize², Hann-windowed) against
// the reference gives the translation and the height of the correlation peak:
//   a clear peak at a shift of minShiftPercent of the width or more: the camera was panned/tilted;
//   a collapsed peak while the frame is not occluded (it still has edges and contrast): the view
//   was rotated, zoomed or turned to a different scene.
// A camera move displaces the whole view, so either finding must be confirmed tile by tile: the
// reference and the frame are compared on a grid of tiles, and at least agreeShare of the textured
// tiles must match better at the found shift than in place (shifted), or no longer match in place
// (changed). A strong shift or a collapse confined to part of the view (a belt, a truck filling a
// corner) is not a move; when most tiles still match in place, the camera is in place. `ignore`
// regions (a running belt, a road) are left out of both the correlation and the tiles.
// Either must hold for holdSeconds. Small shifts (vibration of the mount, ~1%) give a clear peak
// near 0 and are normal. Reported at most once per reportIntervalSeconds per camera; a move that
// could not be reported yet stays pending until it may be. Once reported, the new view becomes the
// reference when it has been steady for settleSeconds, so the same move is not reported forever.
import type { Analysis, AnalysisEvent, FrameContext, Marks, Point } from '../types.ts';
import { emptyMarks } from '../types.ts';
import { Type } from '../../src/config/rules.ts';
import { edgeDensity, stdDev } from './image/features.ts';
import { IgnoreMask } from './image/ignoreMask.ts';
import { Persistence } from './image/persistence.ts';
import { correlate, spectrumOf, type Shift, type Spectrum } from './image/phaseCorrelation.ts';
import { matchTile, tileGrid, type Tile } from './image/tiles.ts';
import { blendInto, downscaleFrame, factorFor, resample, type WorkImage } from './image/workImage.ts';
import { IgnoreRegions, Int, Num, defineOptions, regionsPoints, validateOptions } from './options.ts';
import { ReportLimiter } from './reportLimiter.ts';

export interface MovedOptions {
  /** the condition must hold this long before it is reported */
  holdSeconds: number;
  /** at most one report per camera in this time (the guide: once an hour) */
  reportIntervalSeconds: number;
  /** a shift of at least this share of the frame width (percent) is a move */
  minShiftPercent: number;
  /** side of the square the frame is resampled to for the FFT */
  fftSize: 128 | 256;
  /** a correlation peak at least this high is clear (the shift it gives is trusted) */
  minPeak: number;
  /** a peak below this has collapsed: the view no longer resembles the reference */
  collapsePeak: number;
  /** stable frames needed before the first reference is taken */
  warmupSeconds: number;
  /** after a reported move, the new view must be steady this long before it becomes the reference */
  settleSeconds: number;
  /** time constant with which the reference follows a normal view */
  refreshSeconds: number;
  /** the frame is averaged down to at most this width first (shared with occlusion) */
  workWidth: number;
  /** a move must be borne out by at least this share of the textured tiles */
  agreeShare: number;
  /** regions left out (normalised polygons): parts of the view that move by design */
  ignore?: Point[][];
}

/** `analyses.moved` in the YAML (what each option means: MovedOptions). */
export const MovedSchema = Type.Object({
  holdSeconds: Num(0, 3600, 10),
  reportIntervalSeconds: Num(0, 86400, 3600),
  minShiftPercent: Num(0.5, 40, 3),
  fftSize: Type.Union([Type.Literal(128), Type.Literal(256)], { default: 128 }),
  minPeak: Num(0.01, 1, 0.15),
  collapsePeak: Num(0, 1, 0.07),
  warmupSeconds: Num(0, 600, 3),
  settleSeconds: Num(0, 600, 5),
  refreshSeconds: Num(10, 86400, 600),
  workWidth: Int(32, 1024, 176),
  agreeShare: Num(0.3, 1, 0.6),
  ignore: IgnoreRegions,
});

export const MOVED_OPTIONS = defineOptions(MovedSchema, (o, problem): MovedOptions => {
  if (o.collapsePeak >= o.minPeak) problem('collapsePeak', `must be below minPeak (${o.minPeak})`);
  return { ...o, ignore: o.ignore && regionsPoints(o.ignore, 'ignore', problem) };
});

/** Checks `analyses.moved` from the YAML; `path` is its config path for error messages. */
export function validateMovedOptions(raw: unknown, path: string): MovedOptions {
  return validateOptions(MOVED_OPTIONS, raw, path);
}

export const DEFAULT_MOVED_OPTIONS: Readonly<MovedOptions> = Object.freeze(validateMovedOptions({}, 'moved'));

export interface MovedMeasures {
  /** shift against the reference in percent of the frame width (x, y) and its length */
  dxPercent: number;
  dyPercent: number;
  shiftPercent: number;
  peak: number;
  /** with a collapsed peak: the frame looked occluded (too flat or too few edges), so the collapse proves nothing; undefined when not checked */
  occluded: boolean | undefined;
  /** textured tiles compared, and the shares that match in place and (when shifted) at the shift */
  tiles: number;
  inPlace: number;
  atShift: number | undefined;
  reason: 'shifted' | 'changed' | undefined;
}

interface Reference {
  image: WorkImage;
  /** the tiles with enough texture (and not ignored) to be compared */
  tiles: Tile[];
  spectrum: Spectrum;
  edges: number;
  measuredAt: number;
}

const EDGE_LEVEL = 8;
const TILE_GRID = 4;
/** a tile needs this much contrast (gray levels) in the reference to be compared */
const MIN_TILE_STD = 4;
/** a tile matches when its correlation reaches this; it has lost its match below TILE_LOST */
const TILE_MATCH = 0.6;
const TILE_LOST = 0.4;
/** fewer textured tiles than this: trust the whole-frame correlation alone */
const MIN_TILES = 4;

export class CameraMovedAnalysis implements Analysis {
  readonly kind = 'moved' as const;
  readonly needsDetections = false;
  readonly options: Readonly<MovedOptions>;
  private readonly limiter: ReportLimiter;
  private readonly persistence: Persistence<boolean>;
  private readonly ignore: IgnoreMask;
  private reference: Reference | undefined;
  private previous: Spectrum | undefined;
  private steadySince: number | undefined;
  private reported = false;
  private lastAt: number | undefined;
  latest: MovedMeasures | undefined;

  /** `limiter` may be shared by several analyses; by default each instance has its own. */
  constructor(
    readonly camera: string,
    options: Partial<MovedOptions> = {},
    limiter?: ReportLimiter,
  ) {
    this.options = { ...DEFAULT_MOVED_OPTIONS, ...options };
    this.limiter = limiter ?? new ReportLimiter(this.options.reportIntervalSeconds);
    this.persistence = new Persistence<boolean>(this.options.holdSeconds * 1000, false);
    this.ignore = new IgnoreMask(this.options.ignore ?? []);
  }

  get hasReference(): boolean {
    return this.reference !== undefined;
  }

  /** True while a move is confirmed and its new view not yet adopted. */
  get moved(): boolean {
    return this.persistence.state === true;
  }

  process(ctx: FrameContext): AnalysisEvent[] {
    const { frame } = ctx;
    const o = this.options;
    const small = downscaleFrame(frame.gray, frame.width, frame.height, factorFor(frame.width, o.workWidth));
    const image = resample(small, o.fftSize, o.fftSize);
    fillIgnored(image, this.ignore.at(o.fftSize, o.fftSize));
    const spectrum = spectrumOf(image);
    const dt = this.lastAt === undefined ? 0 : Math.max(0, frame.at - this.lastAt);
    this.lastAt = frame.at;
    const previous = this.previous;
    this.previous = spectrum;
    // Steady: this frame is where the last one was (clear peak, under half a percent away). Only
    // needed while learning a view, so computed on demand (it costs an inverse FFT).
    const steady = (): boolean => previous !== undefined && stdDev(image, this.ignore.at(o.fftSize, o.fftSize)) >= 6 && this.isNear(correlate(previous, spectrum), 0.5, frame.width, frame.height);

    if (!this.reference) {
      this.settle(image, spectrum, frame.at, steady, o.warmupSeconds);
      return [];
    }
    const m = this.measure(image, spectrum, frame.width, frame.height);
    this.latest = m;
    const inPlace = (m.peak >= o.minPeak && m.shiftPercent < o.minShiftPercent / 2) || (m.tiles >= MIN_TILES && m.inPlace >= o.agreeShare);
    const vote = m.reason !== undefined ? true : inPlace ? false : undefined;
    const changed = this.persistence.update(frame.at, vote);
    if (changed && this.persistence.state === false) this.reported = false;
    const events: AnalysisEvent[] = [];

    if (this.persistence.state === true) {
      if (!this.reported) {
        const at = this.limiter.tryReportHeld(this.camera, this.kind, this.persistence.since, frame.at, true);
        if (at !== undefined) {
          this.reported = true;
          this.steadySince = undefined;
          events.push({ kind: this.kind, camera: this.camera, at, detail: describe(m) });
        }
      }
      if (this.reported) this.settle(image, spectrum, frame.at, steady, o.settleSeconds);
    } else if (vote === false && this.persistence.pending === undefined && m.shiftPercent < 0.5) {
      this.refresh(image, frame.at, dt);
    }
    return events;
  }

  private isNear(s: Shift, percent: number, width: number, height: number): boolean {
    return s.peak >= this.options.minPeak && shiftPercentOf(s, this.options.fftSize, width, height).length < percent;
  }

  private measure(image: WorkImage, spectrum: Spectrum, width: number, height: number): MovedMeasures {
    const o = this.options;
    const ref = this.reference!;
    const use = this.ignore.at(o.fftSize, o.fftSize);
    const s = correlate(ref.spectrum, spectrum);
    const shift = shiftPercentOf(s, o.fftSize, width, height);
    // Tile by tile: does each still match in place, and does it match at the shift found?
    const shifted = s.peak >= o.minPeak && shift.length >= o.minShiftPercent;
    let inPlace = 0;
    let lost = 0;
    let atShift = 0;
    let compared = 0;
    for (const tile of ref.tiles) {
      const still = matchTile(ref.image, image, tile, 0, 0, use).ncc;
      inPlace += still >= TILE_MATCH ? 1 : 0;
      lost += still < TILE_LOST ? 1 : 0;
      if (shifted) {
        const moved = matchTile(ref.image, image, tile, s.dx, s.dy, use);
        if (moved.used < 0.25) continue;
        atShift += moved.ncc >= TILE_MATCH && moved.ncc >= still + 0.1 ? 1 : 0;
      }
      compared++;
    }
    const n = ref.tiles.length;
    const few = n < MIN_TILES;
    let reason: MovedMeasures['reason'];
    let occluded: boolean | undefined;
    if (shifted && (few || atShift >= o.agreeShare * Math.max(compared, 1))) reason = 'shifted';
    else if (s.peak < o.collapsePeak && (few || lost >= o.agreeShare * n)) {
      occluded = stdDev(image, use) < 6 || edgeDensity(image, EDGE_LEVEL, use) < 0.4 * Math.max(ref.edges, 0.02);
      if (!occluded) reason = 'changed';
    }
    return {
      dxPercent: shift.x,
      dyPercent: shift.y,
      shiftPercent: shift.length,
      peak: s.peak,
      occluded,
      tiles: n,
      inPlace: n ? inPlace / n : 0,
      atShift: shifted ? atShift / Math.max(compared, 1) : undefined,
      reason,
    };
  }

  /** Takes the view as reference once it has been steady for `seconds` (warm-up, or after a move). */
  private settle(image: WorkImage, spectrum: Spectrum, at: number, steady: () => boolean, seconds: number): void {
    if (!steady()) {
      this.steadySince = at;
      return;
    }
    this.steadySince ??= at;
    if (at - this.steadySince < seconds * 1000) return;
    this.reference = { image, tiles: this.tilesOf(image), spectrum, edges: edgeDensity(image, EDGE_LEVEL, this.ignore.at(image.width, image.height)), measuredAt: at };
    this.persistence.reset(false);
    this.reported = false;
    this.steadySince = undefined;
  }

  private refresh(image: WorkImage, at: number, dt: number): void {
    const ref = this.reference!;
    blendInto(ref.image, image, Math.min(0.1, dt / (this.options.refreshSeconds * 1000)));
    // A new spectrum costs an FFT: once a second is plenty for a time constant of minutes.
    if (at - ref.measuredAt >= 1000) {
      const use = this.ignore.at(ref.image.width, ref.image.height);
      this.reference = { image: ref.image, tiles: this.tilesOf(ref.image), spectrum: spectrumOf(ref.image), edges: edgeDensity(ref.image, EDGE_LEVEL, use), measuredAt: at };
    }
  }

  /** The tiles of the view worth comparing: mostly not ignored, and with some contrast. */
  private tilesOf(image: WorkImage): Tile[] {
    const use = this.ignore.at(image.width, image.height);
    return tileGrid(image.width, image.height, TILE_GRID, TILE_GRID).filter((tile) => {
      const self = matchTile(image, image, tile, 0, 0, use);
      return self.used >= 0.5 && self.refStd >= MIN_TILE_STD;
    });
  }

  marks(): Marks {
    const marks = emptyMarks();
    const m = this.latest;
    let text: string;
    if (!this.reference) text = 'moved: learning the view';
    else if (this.moved && m) text = `moved: ${describe(m)}${this.reported ? ', settling' : ''}`;
    else if (m?.reason) text = `moved: ${m.reason}?`;
    else text = 'moved: in place';
    marks.texts.push(text);
    return marks;
  }
}

/**
 * Sets ignored pixels to the mean of the others, so they add nothing to the (mean-subtracted)
 * spectrum: the same flat patch in the reference and the frame, whatever moved there.
 */
function fillIgnored(image: WorkImage, use: Uint8Array | undefined): void {
  if (!use) return;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < use.length; i++) {
    if (!use[i]) continue;
    sum += image.data[i]!;
    n++;
  }
  const mean = n ? sum / n : 0;
  for (let i = 0; i < use.length; i++) if (!use[i]) image.data[i] = mean;
}

/** The shift in percent of the frame width (x, y and length), from work pixels of the fftSize² image. */
function shiftPercentOf(s: Shift, size: number, width: number, height: number): { x: number; y: number; length: number } {
  const x = ((s.dx * width) / size / width) * 100;
  const y = ((s.dy * height) / size / width) * 100;
  return { x, y, length: Math.hypot(x, y) };
}

function describe(m: MovedMeasures): string {
  const what = m.reason === 'changed' ? 'view changed (no correlation with the reference)' : `view shifted by ${m.shiftPercent.toFixed(1)}% of the width`;
  return `${what}, dx ${m.dxPercent.toFixed(1)}%, dy ${m.dyPercent.toFixed(1)}%, peak ${m.peak.toFixed(2)}`;
}
