// The six analyses by name, as the configuration and the pipeline see them: how each one's options
// are checked and how it is made for a camera.
import type { Analysis, AnalysisKind } from '../types.ts';
import { BeltStateAnalysis, validateBeltOptions, type BeltOptions } from './beltState.ts';
import { CameraMovedAnalysis, validateMovedOptions, type MovedOptions } from './cameraMoved.ts';
import { EmptyDispatchRoom, validateEmptyDispatchRoomOptions, type EmptyDispatchRoomOptions } from './emptyDispatchRoom.ts';
import { OcclusionAnalysis, validateOcclusionOptions, type OcclusionOptions } from './occlusion.ts';
import { PersonsEntering, validatePersonsEnteringOptions, type PersonsEnteringOptions } from './personsEntering.ts';
import { TrucksLeaving, validateTrucksLeavingOptions, type TrucksLeavingOptions } from './trucksLeaving.ts';

export interface AnalysisEntry {
  /** whether it needs the detector (and so the tracker) */
  needsDetections: boolean;
  /** YAML-parsed options → typed options; throws an error naming `path` and the rule */
  validate(raw: unknown, path: string): unknown;
  create(camera: string, options: unknown): Analysis;
}

/**
 * A counting line across the middle of the view, counted going down the picture: a start that
 * works for a camera looking along a passage; real sites set their own line.
 */
function withDefaultLine(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const o = raw as Record<string, unknown>;
  if (o['line'] !== undefined || o['towards'] !== undefined) return raw;
  return { line: [[0.02, 0.55], [0.98, 0.55]], towards: [0.5, 1], ...o };
}

/**
 * Options that depend on another analysis of the same camera: a running belt moves and changes by
 * design, so the moved and occlusion checks of a belt camera leave the belt's ROI out unless
 * their own `ignore` says otherwise.
 */
export function linkAnalyses(options: Partial<Record<AnalysisKind, unknown>>): Partial<Record<AnalysisKind, unknown>> {
  const belt = options.belt as BeltOptions | undefined;
  if (!belt) return options;
  const out = { ...options };
  for (const kind of ['moved', 'occlusion'] as const) {
    const o = out[kind] as { ignore?: unknown } | undefined;
    if (o && o.ignore === undefined) out[kind] = { ...o, ignore: [belt.roi] };
  }
  return out;
}

export const ANALYSES: Record<AnalysisKind, AnalysisEntry> = {
  person: {
    needsDetections: true,
    validate: (raw, path) => validatePersonsEnteringOptions(withDefaultLine(raw), path),
    create: (camera, options) => new PersonsEntering(camera, options as PersonsEnteringOptions),
  },
  truck: {
    needsDetections: true,
    validate: (raw, path) => validateTrucksLeavingOptions(withDefaultLine(raw), path),
    create: (camera, options) => new TrucksLeaving(camera, options as TrucksLeavingOptions),
  },
  belt: {
    needsDetections: false,
    validate: (raw, path) => validateBeltOptions(raw, path),
    create: (camera, options) => new BeltStateAnalysis(camera, options as BeltOptions),
  },
  dispatchRoom: {
    needsDetections: true,
    validate: (raw, path) => validateEmptyDispatchRoomOptions(raw, path),
    create: (camera, options) => new EmptyDispatchRoom(camera, options as EmptyDispatchRoomOptions),
  },
  occlusion: {
    needsDetections: false,
    validate: (raw, path) => validateOcclusionOptions(raw, path),
    create: (camera, options) => new OcclusionAnalysis(camera, options as OcclusionOptions),
  },
  moved: {
    needsDetections: false,
    validate: (raw, path) => validateMovedOptions(raw, path),
    create: (camera, options) => new CameraMovedAnalysis(camera, options as MovedOptions),
  },
};
