// The ground truth of one evaluation clip: what a perfect pipeline would report for it, and the
// analysis configuration it should run with. One JSON file beside each clip (`<clip>.truth.json`):
//
//   {
//     "format": "eseal-truth/1",
//     "clip": "persons-crossings.mp4",        // file name of the clip, in the same folder
//     "fps": 5, "width": 704, "height": 576,  // what the clip was encoded at
//     "frames": 150,                          // optional: frame count; duration = frames / fps
//     "camera": {
//       "role": "auxiliaryShaft",             // auxiliaryShaft | truckGate | mainShaft | dispatchRoom
//       "analyses": {                         // the analyses to run, with the options of
//                                             // edge.cameras[].analyses (the same schemas and rules:
//                                             // edge/analyses/*); coordinates are normalised (0…1 of
//                                             // width, height), origin top left
//         "person": { "line": [[0.05, 0.6], [0.95, 0.6]], "towards": [0.5, 0.9] },
//         "truck":  { "line": [[0.5, 0.3], [0.5, 1]], "towards": [0.9, 0.6] },
//                   // line: the counting line; towards: any point on the side a crossing must
//                   // enter to be counted (the shaft, the outside of the gate)
//         "belt":   { "roi": [[0.2, 0.4], [0.8, 0.4], [0.8, 0.6], [0.2, 0.6]], "direction": "right" },
//                   // roi: the belt surface; direction: where its surface moves on screen
//         "dispatchRoom": { "roi": [[…], …], "emptySeconds": 180 },
//                   // short clips use a shorter wait than the default 180 s
//         "occlusion": {}, "moved": {}
//       }
//     },
//     "events": [                             // what should be reported, any order
//       { "kind": "person", "atSeconds": 7.4 },               // one person crossed at 7.4 s
//       { "kind": "person", "atSeconds": 15.2, "count": 2 },  // two together
//       { "kind": "belt", "atSeconds": 30, "beltStatus": "0001" },
//       { "kind": "occlusion", "atSeconds": 12, "toleranceSeconds": 25, "note": "…" }
//     ],                                      // count: person/truck only (default 1);
//                                             // beltStatus: belt only, required there;
//                                             // toleranceSeconds: overrides the scorer's default
//     "generator": "persons/1 set/1",          // optional: what built the clip (the build cache key)
//     "description": "…"                      // optional, for people
//   }
//
// Times are seconds from the start of the clip: frame n is shown at n / fps.
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { BELT_STATUS_CODES } from '../../src/contract/codes.ts';
import { OneOf, Pattern, Type, check, pathOf, type Static } from '../../src/config/rules.ts';
import { BeltSchema } from '../analyses/beltState.ts';
import { MovedSchema } from '../analyses/cameraMoved.ts';
import { EmptyDispatchRoomSchema } from '../analyses/emptyDispatchRoom.ts';
import { LineCountSchema } from '../analyses/lineCrossing.ts';
import { OcclusionSchema } from '../analyses/occlusion.ts';
import { finishOptions } from '../analyses/options.ts';
import { ANALYSES } from '../analyses/registry.ts';
import type { AnalysisKind } from '../types.ts';
import { EvalTruthInvalid } from './errors.ts';

export const TRUTH_FORMAT = 'eseal-truth/1';

export const ANALYSIS_KINDS: readonly AnalysisKind[] = ['person', 'truck', 'belt', 'dispatchRoom', 'occlusion', 'moved'];
export const CAMERA_ROLES = ['auxiliaryShaft', 'truckGate', 'mainShaft', 'dispatchRoom'] as const;
export type CameraRole = (typeof CAMERA_ROLES)[number];

/** The analyses to run, with the options of edge.cameras[].analyses (the same schemas). */
const TruthAnalysesSchema = Type.Object(
  {
    person: Type.Optional(LineCountSchema),
    truck: Type.Optional(LineCountSchema),
    belt: Type.Optional(BeltSchema),
    dispatchRoom: Type.Optional(EmptyDispatchRoomSchema),
    occlusion: Type.Optional(OcclusionSchema),
    moved: Type.Optional(MovedSchema),
  },
  { minProperties: 1, hint: 'a mapping of analysis kind to its options' },
);

const TruthEventSchema = Type.Object({
  kind: OneOf(ANALYSIS_KINDS),
  /** seconds from the start of the clip */
  atSeconds: Type.Number({ minimum: 0 }),
  /** person/truck: how many crossed together (default 1) */
  count: Type.Optional(Type.Integer({ minimum: 1 })),
  /** belt only, required there */
  beltStatus: Type.Optional(OneOf(BELT_STATUS_CODES)),
  /** overrides the scorer's default window for this event */
  toleranceSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  note: Type.Optional(Type.String()),
});

const TruthSchema = Type.Object({
  format: Type.Literal(TRUTH_FORMAT),
  clip: Pattern(/^[A-Za-z0-9._-]+\.mp4$/, 'a file name ending in .mp4 (letters, digits, . _ -)'),
  fps: Type.Number({ exclusiveMinimum: 0 }),
  width: Type.Integer({ minimum: 16 }),
  height: Type.Integer({ minimum: 16 }),
  /** the clip's frame count: its duration is frames / fps */
  frames: Type.Optional(Type.Integer({ minimum: 1 })),
  camera: Type.Object({ role: OneOf(CAMERA_ROLES), analyses: TruthAnalysesSchema }),
  /** what should be reported, in any order (empty when nothing should be) */
  events: Type.Array(TruthEventSchema),
  /** what built the clip (the build cache key) */
  generator: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
});

type CheckedTruth = Static<typeof TruthSchema>;
type CheckedAnalyses = Static<typeof TruthAnalysesSchema>;

/** What a truth file may name of each analysis: any of its options (the rest take their defaults). */
export type TruthAnalyses = { [K in keyof CheckedAnalyses]?: Partial<NonNullable<CheckedAnalyses[K]>> };
export type TruthEvent = Static<typeof TruthEventSchema>;
export type TruthFile = Omit<CheckedTruth, 'camera'> & { camera: { role: CameraRole; analyses: TruthAnalyses } };

/** Whether a problem is at `path` or inside it. */
function within(problem: string, path: string): boolean {
  const at = pathOf(problem);
  return at === path || at.startsWith(`${path}.`) || at.startsWith(`${path}[`);
}

/** The rules between fields: those of each analysis's options, and which events its analyses can report. */
function crossProblems(truth: CheckedTruth, schemaProblems: readonly string[]): string[] {
  const problems: string[] = [];
  const analyses = truth.camera?.analyses;
  if (analyses && typeof analyses === 'object') {
    for (const kind of ANALYSIS_KINDS) {
      const path = `camera.analyses.${kind}`;
      if (analyses[kind] === undefined || schemaProblems.some((p) => within(p, path))) continue;
      problems.push(...finishOptions(ANALYSES[kind].options, analyses[kind], path).problems);
    }
  }
  const duration = Number.isInteger(truth.frames) && truth.fps > 0 ? truth.frames! / truth.fps : undefined;
  (Array.isArray(truth.events) ? truth.events : []).forEach((e, i) => {
    const at = `events[${i}]`;
    if (schemaProblems.some((p) => within(p, at))) return;
    if (analyses && typeof analyses === 'object' && analyses[e.kind] === undefined) {
      problems.push(`${at}.kind: ${e.kind} is not among camera.analyses, so it could never be reported`);
    }
    if (duration !== undefined && e.atSeconds > duration) problems.push(`${at}.atSeconds: ${e.atSeconds} is after the end of the clip (${duration} s)`);
    if (e.count !== undefined && e.kind !== 'person' && e.kind !== 'truck') problems.push(`${at}.count: only person and truck events carry a count`);
    if (e.kind === 'belt' && e.beltStatus === undefined) problems.push(`${at}.beltStatus: required for belt events (${BELT_STATUS_CODES.join(', ')})`);
    if (e.kind !== 'belt' && e.beltStatus !== undefined) problems.push(`${at}.beltStatus: only belt events carry a status`);
  });
  return problems;
}

/** Every problem of a would-be truth file, each as `path: rule` (empty when it is valid). */
export function truthProblems(v: unknown): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return ['(root): must be a JSON object'];
  const { value, problems } = check(TruthSchema, v, '');
  return [...problems, ...crossProblems(value, problems)];
}

/**
 * Checks a parsed JSON value and returns it typed; throws EvalTruthInvalid naming every bad field
 * (`field` is the first one's path), prefixed with `source` (a file name) when given.
 */
export function parseTruth(v: unknown, source?: string): TruthFile {
  const problems = truthProblems(v);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw EvalTruthInvalid(`${source ? `${source}: ` : ''}${problems.join('; ')}`, {
      field: pathOf(first),
      detail: { problems, ...(source ? { source } : {}) },
    });
  }
  return v as unknown as TruthFile;
}

/** Reads and checks a truth file; bad JSON is reported like a bad field, at `(root)`. */
export async function readTruthFile(path: string): Promise<TruthFile> {
  const text = await readFile(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw EvalTruthInvalid(`${path}: (root): not JSON: ${(err as Error).message}`, { field: '(root)', cause: err });
  }
  return parseTruth(parsed, path);
}

/** Checks, then writes with two-space indentation (the files are read by people too). */
export async function writeTruthFile(path: string, truth: TruthFile): Promise<void> {
  parseTruth(truth, path);
  // temp + rename: a reader (another test process building the same set) never sees half a file
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(truth, null, 2)}\n`);
  await rename(temp, path);
}

/** The clip's length in seconds when the truth says how many frames it has. */
export function truthDuration(truth: TruthFile): number | undefined {
  return truth.frames === undefined ? undefined : truth.frames / truth.fps;
}
