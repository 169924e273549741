// Camera occluded (aiTypeCode 04): the view is covered (cloth, paint, a board), blinded (dark or one
// flat colour) or strongly defocused, for holdSeconds. The frame is compared with a reference of
// the scene learnt after a warm-up of stable frames and refreshed slowly while the view is normal:
//   blind    — most of the frame dark, or almost no contrast at all;
//   covered  — most edges of the reference gone AND the picture no longer correlates with it
//              (a passing truck changes the picture but brings edges of its own), either over the
//              whole frame or, tile by tile, in at least coveredShare of the textured tiles: a
//              cloth over most of the lens leaves a strip of the scene whose edges, with the
//              cloth's own border and folds, keep the whole-frame measures above their limits,
//              while each covered tile has plainly lost its content;
//   blurred  — sharpness (Laplacian variance) collapsed AND most edges gone (a smeared lens keeps
//              the layout, so correlation alone would miss it).
// `ignore` regions (a running belt, a road) change by design and are left out of every measure.
// Moderate lighting changes pass: correlation ignores gain and offset, and the edge and sharpness
// tests need a large drop. The reference is never refreshed while the condition holds or is
// building up, so a cover is not learnt as the new normal. Reported at most once per
// reportIntervalSeconds per camera (the guide checks continuously and reports once an hour); the
// event fires when the condition has held for holdSeconds, and again each interval while it lasts.
import type { Analysis, AnalysisEvent, FrameContext, Marks, Point } from '../types.ts';
import { emptyMarks } from '../types.ts';
import { Type } from '../../src/config/rules.ts';
import { darkRatio, edgeFlags, laplacianVariance, ncc, stdDev } from './image/features.ts';
import { IgnoreMask } from './image/ignoreMask.ts';
import { Persistence } from './image/persistence.ts';
import { matchTile, tileGrid, tileShare, type Tile } from './image/tiles.ts';
import { blendInto, copyImage, downscaleFrame, factorFor, type WorkImage } from './image/workImage.ts';
import { IgnoreRegions, Int, Num, defineOptions, regionsPoints, validateOptions } from './options.ts';
import { ReportLimiter } from './reportLimiter.ts';

export interface OcclusionOptions {
  /** the condition must hold this long before it is reported */
  holdSeconds: number;
  /** at most one report per camera in this time (the guide: once an hour) */
  reportIntervalSeconds: number;
  /** stable frames needed before the first reference is taken */
  warmupSeconds: number;
  /** time constant with which the reference follows a normal view (slow lighting, parked vehicles) */
  refreshSeconds: number;
  /** the frame is averaged down to at most this width before measuring */
  workWidth: number;
  /** gradient (gray levels per work pixel) that counts as an edge */
  edgeLevel: number;
  /** covered: edge density at most this share of the reference's … */
  edgeDropRatio: number;
  /** … and correlation with the reference at most this */
  nccMax: number;
  /** blind: at least darkRatioMin of the pixels below darkLevel … */
  darkLevel: number;
  darkRatioMin: number;
  /** … or a standard deviation of the whole frame below this (gray levels) */
  uniformStd: number;
  /** blurred: sharpness at most this share of the reference's (and edges at most blurEdgeRatio of it) */
  blurRatio: number;
  blurEdgeRatio: number;
  /** covered, tile by tile: at least this share of the textured tiles lost their edges and correlation */
  coveredShare: number;
  /** regions left out of every measure (normalised polygons): parts of the view that change by design */
  ignore?: Point[][];
}

/** `analyses.occlusion` in the YAML (what each option means: OcclusionOptions). */
export const OcclusionSchema = Type.Object({
  holdSeconds: Num(0, 3600, 10),
  reportIntervalSeconds: Num(0, 86400, 3600),
  warmupSeconds: Num(0, 600, 5),
  refreshSeconds: Num(10, 86400, 300),
  workWidth: Int(32, 1024, 176),
  edgeLevel: Num(1, 128, 8),
  edgeDropRatio: Num(0, 1, 0.4),
  nccMax: Num(-1, 1, 0.5),
  darkLevel: Num(0, 255, 35),
  darkRatioMin: Num(0.01, 1, 0.85),
  uniformStd: Num(0, 128, 6),
  blurRatio: Num(0, 1, 0.1),
  blurEdgeRatio: Num(0, 1, 0.65),
  coveredShare: Num(0.3, 1, 0.7),
  ignore: IgnoreRegions,
});

export const OCCLUSION_OPTIONS = defineOptions(OcclusionSchema, (o, problem): OcclusionOptions => {
  if (o.warmupSeconds > o.refreshSeconds) problem('warmupSeconds', `must not exceed refreshSeconds (${o.refreshSeconds})`);
  return { ...o, ignore: o.ignore && regionsPoints(o.ignore, 'ignore', problem) };
});

/** Checks `analyses.occlusion` from the YAML; `path` is its config path for error messages. */
export function validateOcclusionOptions(raw: unknown, path: string): OcclusionOptions {
  return validateOptions(OCCLUSION_OPTIONS, raw, path);
}

export const DEFAULT_OCCLUSION_OPTIONS: Readonly<OcclusionOptions> = Object.freeze(validateOcclusionOptions({}, 'occlusion'));

/** What one frame measured against the reference; ratios are current ÷ reference. */
export interface OcclusionMeasures {
  darkRatio: number;
  std: number;
  /** undefined while there is no reference yet */
  edgeRatio: number | undefined;
  sharpnessRatio: number | undefined;
  ncc: number | undefined;
  /** share of the textured tiles that look covered (undefined without a reference or textured tiles) */
  coveredTiles: number | undefined;
  /** why the frame looks occluded, or undefined when it does not */
  reason: 'dark' | 'uniform' | 'covered' | 'blurred' | undefined;
}

interface Reference {
  image: WorkImage;
  edges: number;
  /** the tiles with enough texture to tell covered from not, with their edge density */
  tiles: { tile: Tile; edges: number }[];
  sharpness: number;
  std: number;
  /** when its features were last recomputed after blending */
  measuredAt: number;
}

/** The view is judged on TILE_GRID × TILE_GRID tiles; one needs this share of edge pixels to count. */
const TILE_GRID = 6;
const MIN_TILE_EDGES = 0.05;
/** a covered tile may keep at most this share of its contrast (standard deviation) … or lose its edges */
const TILE_CONTRAST_DROP = 0.5;
/** fewer textured tiles than this: the tile test says nothing */
const MIN_TILES = 4;
/** while learning, a frame this unlike the running mean means a new scene: start over */
const WARMUP_SAME_SCENE = 0.6;
/** the learning mean weighs the last ~25 frames (5 s at 5 fps) */
const WARMUP_MEAN_FRAMES = 25;

export class OcclusionAnalysis implements Analysis {
  readonly kind = 'occlusion' as const;
  readonly needsDetections = false;
  readonly options: Readonly<OcclusionOptions>;
  private readonly limiter: ReportLimiter;
  private readonly persistence: Persistence<boolean>;
  private readonly ignore: IgnoreMask;
  private reference: Reference | undefined;
  /** the view being learnt before the first reference */
  private learning: { mean: WorkImage; since: number; frames: number } | undefined;
  private lastAt: number | undefined;
  /** this occlusion has been reported at least once */
  private reportedEpisode = false;
  /** measures of the latest frame (for logs, marks and tests) */
  latest: OcclusionMeasures | undefined;

  /** `limiter` may be shared by several analyses; by default each instance has its own. */
  constructor(
    readonly camera: string,
    options: Partial<OcclusionOptions> = {},
    limiter?: ReportLimiter,
  ) {
    this.options = { ...DEFAULT_OCCLUSION_OPTIONS, ...options };
    this.limiter = limiter ?? new ReportLimiter(this.options.reportIntervalSeconds);
    this.persistence = new Persistence<boolean>(this.options.holdSeconds * 1000, false);
    this.ignore = new IgnoreMask(this.options.ignore ?? []);
  }

  /** True once a reference view has been learnt. */
  get hasReference(): boolean {
    return this.reference !== undefined;
  }

  /** True while the occlusion is confirmed (held for holdSeconds). */
  get occluded(): boolean {
    return this.persistence.state === true;
  }

  process(ctx: FrameContext): AnalysisEvent[] {
    const { frame } = ctx;
    const o = this.options;
    const img = downscaleFrame(frame.gray, frame.width, frame.height, factorFor(frame.width, o.workWidth));
    const dt = this.lastAt === undefined ? 0 : Math.max(0, frame.at - this.lastAt);
    this.lastAt = frame.at;

    const m = this.measure(img);
    this.latest = m;
    const vote = m.reason !== undefined ? true : this.reference ? false : undefined;
    const changed = this.persistence.update(frame.at, vote);
    const events: AnalysisEvent[] = [];

    if (changed) this.reportedEpisode = false;
    if (this.persistence.state === true) {
      const at = this.limiter.tryReportHeld(this.camera, this.kind, this.persistence.since, frame.at, !this.reportedEpisode);
      if (at !== undefined) {
        events.push({ kind: this.kind, camera: this.camera, at, detail: describe(m, this.reportedEpisode ? 'still occluded' : 'occluded') });
        this.reportedEpisode = true;
      }
    } else if (!this.reference) {
      this.warmUp(img, frame.at, m);
    } else if (vote === false && this.persistence.pending === undefined) {
      this.refresh(img, frame.at, dt);
    }
    return events;
  }

  private measure(img: WorkImage): OcclusionMeasures {
    const o = this.options;
    const use = this.ignore.at(img.width, img.height);
    const dark = darkRatio(img, o.darkLevel, use);
    const std = stdDev(img, use);
    let reason: OcclusionMeasures['reason'] = dark >= o.darkRatioMin ? 'dark' : std < o.uniformStd ? 'uniform' : undefined;
    const ref = this.reference;
    if (!ref) return { darkRatio: dark, std, edgeRatio: undefined, sharpnessRatio: undefined, ncc: undefined, coveredTiles: undefined, reason };
    // Dimmer light lowers every gradient in proportion: scale the edge level and the expected
    // sharpness with the contrast, but by no more than half, so a cover's flatness still counts.
    const gain = Math.min(1, Math.max(0.5, std / Math.max(ref.std, 1)));
    const flags = edgeFlags(img, o.edgeLevel * gain);
    // A featureless reference (a blank wall) would make every ratio huge: floor the denominators.
    const edgeRatio = interiorShare(flags, img.width, img.height, use) / Math.max(ref.edges, 0.02);
    const sharpnessRatio = laplacianVariance(img, use) / Math.max(ref.sharpness * gain * gain, 1);
    const similarity = ncc(img, ref.image, use);
    let coveredTiles: number | undefined;
    if (ref.tiles.length >= MIN_TILES) {
      // Tiles are judged at the reference's own edge level: a cover lowers the frame's contrast and
      // so the gain above, which would let a cloth's soft folds pass for edges; a tile that only
      // got dimmer keeps its correlation and is not counted anyway.
      const tileFlags = gain < 1 ? edgeFlags(img, o.edgeLevel) : flags;
      let covered = 0;
      for (const t of ref.tiles) {
        const match = matchTile(ref.image, img, t.tile, 0, 0, use);
        if (match.ncc > o.nccMax) continue;
        // Its content gone, and nothing as sharp or as contrasted in its place: a cover's seams may
        // keep some edges, its folds some contrast, but not both (a truck in front keeps both).
        const edgesLost = tileShare(tileFlags, img.width, t.tile, use) <= o.edgeDropRatio * Math.max(t.edges, 0.02);
        const contrastLost = match.curStd <= TILE_CONTRAST_DROP * match.refStd;
        if (edgesLost || contrastLost) covered++;
      }
      coveredTiles = covered / ref.tiles.length;
    }
    const wholeCovered = edgeRatio <= o.edgeDropRatio && similarity <= o.nccMax;
    if (!reason && (wholeCovered || (coveredTiles !== undefined && coveredTiles >= o.coveredShare))) reason = 'covered';
    if (!reason && sharpnessRatio <= o.blurRatio && edgeRatio <= o.blurEdgeRatio) reason = 'blurred';
    return { darkRatio: dark, std, edgeRatio, sharpnessRatio, ncc: similarity, coveredTiles, reason };
  }

  /**
   * The first reference: the running mean of the view over warmupSeconds while it is not blind.
   * A mean, not a still frame: on a busy shaft people are always passing, so no two frames agree,
   * but they average out of the background; a change of the whole scene (lights switched) starts over.
   */
  private warmUp(img: WorkImage, at: number, m: OcclusionMeasures): void {
    if (m.reason !== undefined) {
      this.learning = undefined;
      return;
    }
    const l = this.learning;
    if (!l || ncc(l.mean, img, this.ignore.at(img.width, img.height)) < WARMUP_SAME_SCENE) {
      this.learning = { mean: copyImage(img), since: at, frames: 1 };
      return;
    }
    l.frames++;
    blendInto(l.mean, img, 1 / Math.min(l.frames, WARMUP_MEAN_FRAMES));
    if (at - l.since >= this.options.warmupSeconds * 1000) {
      this.setReference(l.mean, at);
      this.learning = undefined;
    }
  }

  private refresh(img: WorkImage, at: number, dt: number): void {
    const ref = this.reference!;
    blendInto(ref.image, img, Math.min(0.1, dt / (this.options.refreshSeconds * 1000)));
    if (at - ref.measuredAt >= 1000) this.setReference(ref.image, at);
  }

  private setReference(image: WorkImage, at: number): void {
    const use = this.ignore.at(image.width, image.height);
    const flags = edgeFlags(image, this.options.edgeLevel);
    // Only tiles with edges can lose them: over a blank wall or sky a cloth's folds may even add
    // some, so such tiles cannot tell, and are left out of the vote.
    const tiles = tileGrid(image.width, image.height, TILE_GRID, TILE_GRID)
      .map((tile) => ({ tile, edges: tileShare(flags, image.width, tile, use), used: use ? tileShare(use, image.width, tile) : 1 }))
      .filter((t) => t.used >= 0.5 && t.edges >= MIN_TILE_EDGES)
      .map(({ tile, edges }) => ({ tile, edges }));
    this.reference = {
      image,
      edges: interiorShare(flags, image.width, image.height, use),
      tiles,
      sharpness: laplacianVariance(image, use),
      std: stdDev(image, use),
      measuredAt: at,
    };
  }

  marks(): Marks {
    const marks = emptyMarks();
    const m = this.latest;
    let text: string;
    if (this.occluded) text = `occlusion: ${m ? describe(m, 'occluded') : 'occluded'}`;
    else if (!this.reference) text = 'occlusion: learning the view';
    else if (m?.reason) text = `occlusion: ${m.reason}?`;
    else text = 'occlusion: clear';
    marks.texts.push(text);
    return marks;
  }
}

/** Share of the interior (not border, not ignored) pixels set in `flags`. */
function interiorShare(flags: Uint8Array, width: number, height: number, use: Uint8Array | undefined): number {
  return tileShare(flags, width, { x: 1, y: 1, w: width - 2, h: height - 2 }, use);
}

function describe(m: OcclusionMeasures, what: string): string {
  const parts = [`${what} (${m.reason ?? 'clearing'})`, `dark ${pct(m.darkRatio)}`, `std ${m.std.toFixed(1)}`];
  if (m.edgeRatio !== undefined) parts.push(`edges ${pct(m.edgeRatio)} of reference`);
  if (m.sharpnessRatio !== undefined) parts.push(`sharpness ${pct(m.sharpnessRatio)}`);
  if (m.ncc !== undefined) parts.push(`ncc ${m.ncc.toFixed(2)}`);
  if (m.coveredTiles !== undefined) parts.push(`${pct(m.coveredTiles)} of the tiles covered`);
  return parts.join(', ');
}

function pct(v: number): string {
  return `${Math.round(v * 100)}%`;
}
