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
//       "analyses": {                         // the analyses to run and their options; coordinates
//                                             // are normalised (0…1 of width, height), origin top left
//         "person": { "line": [[0.05, 0.6], [0.95, 0.6]], "towards": [0.5, 0.9] },
//         "truck":  { "line": [[0.5, 0.3], [0.5, 1]], "towards": [0.9, 0.6] },
//                   // line: the counting line; towards: any point on the side a crossing must
//                   // enter to be counted (the shaft, the outside of the gate)
//         "belt":   { "roi": [[0.2, 0.4], [0.8, 0.4], [0.8, 0.6], [0.2, 0.6]], "direction": "right" },
//                   // roi: the belt surface; direction: where its surface moves on screen
//         "dispatchRoom": { "roi": [[…], …], "absentSeconds": 180 },
//                   // absentSeconds is optional (default 180): short clips use a shorter wait
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
import { BELT_STATUS_CODES, type BeltStatusCode } from '../../src/contract/codes.ts';
import type { AnalysisKind } from '../types.ts';
import { EvalTruthInvalid } from './errors.ts';

export const TRUTH_FORMAT = 'eseal-truth/1';

export const ANALYSIS_KINDS: readonly AnalysisKind[] = ['person', 'truck', 'belt', 'dispatchRoom', 'occlusion', 'moved'];
export const CAMERA_ROLES = ['auxiliaryShaft', 'truckGate', 'mainShaft', 'dispatchRoom'] as const;
export type CameraRole = (typeof CAMERA_ROLES)[number];
export const BELT_DIRECTIONS = ['right', 'left', 'up', 'down'] as const;
export type BeltDirection = (typeof BELT_DIRECTIONS)[number];

/** [x, y], each 0…1 of the frame's width and height */
export type NormPoint = [number, number];

export interface LineCrossingConfig {
  line: [NormPoint, NormPoint];
  /** a point on the side that a counted crossing enters */
  towards: NormPoint;
}

export interface BeltConfig {
  roi: NormPoint[];
  direction: BeltDirection;
}

export interface DispatchRoomConfig {
  roi: NormPoint[];
  /** how long the room must stay empty before the event (default 180) */
  absentSeconds?: number;
}

export interface TruthAnalyses {
  person?: LineCrossingConfig;
  truck?: LineCrossingConfig;
  belt?: BeltConfig;
  dispatchRoom?: DispatchRoomConfig;
  occlusion?: Record<string, never>;
  moved?: Record<string, never>;
}

export interface TruthEvent {
  kind: AnalysisKind;
  atSeconds: number;
  /** person/truck: how many crossed together (default 1) */
  count?: number;
  /** belt only, required there */
  beltStatus?: BeltStatusCode;
  /** overrides the scorer's default window for this event */
  toleranceSeconds?: number;
  note?: string;
}

export interface TruthFile {
  format: typeof TRUTH_FORMAT;
  clip: string;
  fps: number;
  width: number;
  height: number;
  frames?: number;
  camera: { role: CameraRole; analyses: TruthAnalyses };
  events: TruthEvent[];
  generator?: string;
  description?: string;
}

const TOP_KEYS = ['format', 'clip', 'fps', 'width', 'height', 'frames', 'camera', 'events', 'generator', 'description'];
const EVENT_KEYS = ['kind', 'atSeconds', 'count', 'beltStatus', 'toleranceSeconds', 'note'];

type Problems = string[];

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], at: string, problems: Problems): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) problems.push(`${at}${at ? '.' : ''}${k}: unknown key (allowed: ${allowed.join(', ') || 'none'})`);
  }
}

function checkPoint(v: unknown, at: string, problems: Problems): v is NormPoint {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 1)) {
    problems.push(`${at}: must be [x, y] with 0 ≤ x, y ≤ 1, got ${JSON.stringify(v)}`);
    return false;
  }
  return true;
}

function checkPolygon(v: unknown, at: string, problems: Problems): void {
  if (!Array.isArray(v) || v.length < 3) {
    problems.push(`${at}: must be a polygon of at least 3 [x, y] points`);
    return;
  }
  v.forEach((p, i) => checkPoint(p, `${at}[${i}]`, problems));
}

function checkLine(v: unknown, at: string, problems: Problems): void {
  if (!isMapping(v)) {
    problems.push(`${at}: must be { line: [[x, y], [x, y]], towards: [x, y] }`);
    return;
  }
  onlyKeys(v, ['line', 'towards'], at, problems);
  const line = v['line'];
  const towards = v['towards'];
  if (!Array.isArray(line) || line.length !== 2) {
    problems.push(`${at}.line: must be two points [[x, y], [x, y]]`);
    return;
  }
  const okA = checkPoint(line[0], `${at}.line[0]`, problems);
  const okB = checkPoint(line[1], `${at}.line[1]`, problems);
  const okT = checkPoint(towards, `${at}.towards`, problems);
  if (!okA || !okB) return;
  const [ax, ay] = line[0] as NormPoint;
  const [bx, by] = line[1] as NormPoint;
  if (ax === bx && ay === by) {
    problems.push(`${at}.line: the two points must differ`);
    return;
  }
  if (okT) {
    const [tx, ty] = towards as NormPoint;
    if ((bx - ax) * (ty - ay) - (by - ay) * (tx - ax) === 0) problems.push(`${at}.towards: must lie off the line, on the counted side`);
  }
}

function checkAnalyses(v: unknown, at: string, problems: Problems): void {
  if (!isMapping(v)) {
    problems.push(`${at}: must be a mapping of analysis kind to options`);
    return;
  }
  onlyKeys(v, ANALYSIS_KINDS, at, problems);
  if (Object.keys(v).length === 0) problems.push(`${at}: names no analysis`);
  for (const kind of ['person', 'truck'] as const) if (kind in v) checkLine(v[kind], `${at}.${kind}`, problems);
  if ('belt' in v) {
    const belt = v['belt'];
    if (!isMapping(belt)) problems.push(`${at}.belt: must be { roi, direction }`);
    else {
      onlyKeys(belt, ['roi', 'direction'], `${at}.belt`, problems);
      checkPolygon(belt['roi'], `${at}.belt.roi`, problems);
      if (!BELT_DIRECTIONS.includes(belt['direction'] as BeltDirection)) {
        problems.push(`${at}.belt.direction: must be one of ${BELT_DIRECTIONS.join(', ')}, got ${JSON.stringify(belt['direction'])}`);
      }
    }
  }
  if ('dispatchRoom' in v) {
    const room = v['dispatchRoom'];
    if (!isMapping(room)) problems.push(`${at}.dispatchRoom: must be { roi, absentSeconds? }`);
    else {
      onlyKeys(room, ['roi', 'absentSeconds'], `${at}.dispatchRoom`, problems);
      checkPolygon(room['roi'], `${at}.dispatchRoom.roi`, problems);
      const s = room['absentSeconds'];
      if (s !== undefined && !(typeof s === 'number' && Number.isFinite(s) && s > 0)) {
        problems.push(`${at}.dispatchRoom.absentSeconds: must be a positive number of seconds, got ${JSON.stringify(s)}`);
      }
    }
  }
  for (const kind of ['occlusion', 'moved'] as const) {
    if (!(kind in v)) continue;
    const opts = v[kind];
    if (!isMapping(opts)) problems.push(`${at}.${kind}: must be {}`);
    else onlyKeys(opts, [], `${at}.${kind}`, problems);
  }
}

function checkEvent(v: unknown, at: string, analyses: unknown, duration: number | undefined, problems: Problems): void {
  if (!isMapping(v)) {
    problems.push(`${at}: must be { kind, atSeconds, … }`);
    return;
  }
  onlyKeys(v, EVENT_KEYS, at, problems);
  const kind = v['kind'] as AnalysisKind;
  if (!ANALYSIS_KINDS.includes(kind)) {
    problems.push(`${at}.kind: must be one of ${ANALYSIS_KINDS.join(', ')}, got ${JSON.stringify(v['kind'])}`);
  } else if (isMapping(analyses) && !(kind in analyses)) {
    problems.push(`${at}.kind: ${kind} is not among camera.analyses, so it could never be reported`);
  }
  const t = v['atSeconds'];
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) problems.push(`${at}.atSeconds: must be a number of seconds ≥ 0, got ${JSON.stringify(t)}`);
  else if (duration !== undefined && t > duration) problems.push(`${at}.atSeconds: ${t} is after the end of the clip (${duration} s)`);
  const count = v['count'];
  if (count !== undefined) {
    if (kind !== 'person' && kind !== 'truck') problems.push(`${at}.count: only person and truck events carry a count`);
    else if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) problems.push(`${at}.count: must be an integer ≥ 1, got ${JSON.stringify(count)}`);
  }
  const status = v['beltStatus'];
  if (kind === 'belt' && status === undefined) problems.push(`${at}.beltStatus: required for belt events (${BELT_STATUS_CODES.join(', ')})`);
  if (status !== undefined) {
    if (kind !== 'belt') problems.push(`${at}.beltStatus: only belt events carry a status`);
    else if (!BELT_STATUS_CODES.includes(status as BeltStatusCode)) problems.push(`${at}.beltStatus: must be one of ${BELT_STATUS_CODES.join(', ')}, got ${JSON.stringify(status)}`);
  }
  const tol = v['toleranceSeconds'];
  if (tol !== undefined && !(typeof tol === 'number' && Number.isFinite(tol) && tol > 0)) {
    problems.push(`${at}.toleranceSeconds: must be a positive number of seconds, got ${JSON.stringify(tol)}`);
  }
  if (v['note'] !== undefined && typeof v['note'] !== 'string') problems.push(`${at}.note: must be a string`);
}

/** Every problem of a would-be truth file, each as `path: rule` (empty when it is valid). */
export function truthProblems(v: unknown): string[] {
  const problems: Problems = [];
  if (!isMapping(v)) return ['(root): must be a JSON object'];
  onlyKeys(v, TOP_KEYS, '', problems);
  if (v['format'] !== TRUTH_FORMAT) problems.push(`format: must be "${TRUTH_FORMAT}", got ${JSON.stringify(v['format'])}`);
  const clip = v['clip'];
  if (typeof clip !== 'string' || !/^[A-Za-z0-9._-]+\.mp4$/.test(clip)) problems.push(`clip: must be a file name ending in .mp4, got ${JSON.stringify(clip)}`);
  const fps = v['fps'];
  if (typeof fps !== 'number' || !Number.isFinite(fps) || fps <= 0) problems.push(`fps: must be a positive number, got ${JSON.stringify(fps)}`);
  for (const k of ['width', 'height'] as const) {
    const n = v[k];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 16) problems.push(`${k}: must be an integer ≥ 16, got ${JSON.stringify(n)}`);
  }
  const frames = v['frames'];
  let duration: number | undefined;
  if (frames !== undefined) {
    if (typeof frames !== 'number' || !Number.isInteger(frames) || frames < 1) problems.push(`frames: must be an integer ≥ 1, got ${JSON.stringify(frames)}`);
    else if (typeof fps === 'number' && fps > 0) duration = frames / fps;
  }
  const camera = v['camera'];
  let analyses: unknown;
  if (!isMapping(camera)) problems.push('camera: must be { role, analyses }');
  else {
    onlyKeys(camera, ['role', 'analyses'], 'camera', problems);
    if (!CAMERA_ROLES.includes(camera['role'] as CameraRole)) problems.push(`camera.role: must be one of ${CAMERA_ROLES.join(', ')}, got ${JSON.stringify(camera['role'])}`);
    analyses = camera['analyses'];
    checkAnalyses(analyses, 'camera.analyses', problems);
  }
  const events = v['events'];
  if (!Array.isArray(events)) problems.push('events: must be a list (empty when nothing should be reported)');
  else events.forEach((e, i) => checkEvent(e, `events[${i}]`, analyses, duration, problems));
  for (const k of ['generator', 'description'] as const) {
    if (v[k] !== undefined && typeof v[k] !== 'string') problems.push(`${k}: must be a string`);
  }
  return problems;
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
      field: first.slice(0, first.indexOf(':')),
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
