// The six analyses by name, as the configuration and the pipeline see them: how each one's options
// are read and how it is made for a camera.
import type { TSchema } from '../../src/config/rules.ts';
import type { Analysis, AnalysisKind } from '../types.ts';
import { BELT_OPTIONS, BeltStateAnalysis, type BeltOptions } from './beltState.ts';
import { CameraMovedAnalysis, MOVED_OPTIONS, type MovedOptions } from './cameraMoved.ts';
import { EMPTY_DISPATCH_ROOM_OPTIONS, EmptyDispatchRoom, type EmptyDispatchRoomOptions } from './emptyDispatchRoom.ts';
import { LINE_COUNT_OPTIONS } from './lineCrossing.ts';
import { OCCLUSION_OPTIONS, OcclusionAnalysis, type OcclusionOptions } from './occlusion.ts';
import { type AnalysisOptions, type ReadOptions, readOptions, validateOptions } from './options.ts';
import { polygonArea } from './geometry.ts';
import { PersonsEntering, type PersonsEnteringOptions } from './personsEntering.ts';
import { TrucksLeaving, type TrucksLeavingOptions } from './trucksLeaving.ts';

export interface AnalysisEntry {
  /** whether it needs the detector (and so the tracker) */
  needsDetections: boolean;
  /** the schema of its options (with the defaults) and the rules between them */
  options: AnalysisOptions;
  /** YAML-parsed options (absent, null or true: the defaults) → typed options, or every problem, each naming its path */
  read(raw: unknown, path: string): ReadOptions<unknown>;
  /** the same, throwing ESEAL_ERR_EDGE_ANALYSIS_OPTION with every problem */
  validate(raw: unknown, path: string): unknown;
  create(camera: string, options: unknown): Analysis;
}

function entry<T>(needsDetections: boolean, options: AnalysisOptions<TSchema, T>, create: (camera: string, options: T) => Analysis): AnalysisEntry {
  return {
    needsDetections,
    options,
    read: (raw, path) => readOptions(options, raw, path),
    validate: (raw, path) => validateOptions(options, raw, path),
    create: (camera, o) => create(camera, o as T),
  };
}

/** A belt ROI covering more than this share of the frame is not left out (nothing would be left to watch). */
const MAX_LINKED_SHARE = 0.5;

/**
 * Options that depend on another analysis of the same camera: a running belt moves and changes by
 * design, so the moved and occlusion checks of a belt camera leave the belt's ROI out unless their
 * own `ignore` says otherwise (`ignore: []` keeps the whole view). An ROI of most of the frame (the
 * default is the whole frame) is not left out: the camera could then be covered or turned unseen.
 */
export function linkAnalyses(options: Partial<Record<AnalysisKind, unknown>>): Partial<Record<AnalysisKind, unknown>> {
  const belt = options.belt as BeltOptions | undefined;
  if (!belt || Math.abs(polygonArea(belt.roi)) > MAX_LINKED_SHARE) return options;
  const out = { ...options };
  for (const kind of ['moved', 'occlusion'] as const) {
    const o = out[kind] as { ignore?: unknown } | undefined;
    if (o && o.ignore === undefined) out[kind] = { ...o, ignore: [belt.roi] };
  }
  return out;
}

export const ANALYSES: Record<AnalysisKind, AnalysisEntry> = {
  person: entry(true, LINE_COUNT_OPTIONS, (camera, o: PersonsEnteringOptions) => new PersonsEntering(camera, o)),
  truck: entry(true, LINE_COUNT_OPTIONS, (camera, o: TrucksLeavingOptions) => new TrucksLeaving(camera, o)),
  belt: entry(false, BELT_OPTIONS, (camera, o: BeltOptions) => new BeltStateAnalysis(camera, o)),
  dispatchRoom: entry(true, EMPTY_DISPATCH_ROOM_OPTIONS, (camera, o: EmptyDispatchRoomOptions) => new EmptyDispatchRoom(camera, o)),
  occlusion: entry(false, OCCLUSION_OPTIONS, (camera, o: OcclusionOptions) => new OcclusionAnalysis(camera, o)),
  moved: entry(false, MOVED_OPTIONS, (camera, o: MovedOptions) => new CameraMovedAnalysis(camera, o)),
};
