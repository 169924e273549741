// Scores what the pipeline reported on a clip against the clip's ground truth, per analysis kind.
//
// Person and truck events carry a count: an event with count N stands for N crossings, so both
// sides are expanded into units of one and matched one to one; a pipeline that reports two people
// as one event of count 2 scores the same as one that reports two events. Matching is optimal
// (most matches first, then least total time error), so an early extra event cannot steal the
// match of a later true one the way a greedy pass can.
//
// Windows (a detected event at d may match a truth event at t), defaults in seconds:
//   person, truck   t − 3 ≤ d ≤ t + 3 + groupSeconds (2): a counter may hold a group back
//   belt            |d − t| ≤ 6, and only with the same status
//   dispatchRoom    |d − t| ≤ 10
//   occlusion/moved t − 1 ≤ d ≤ t + 20: the analyses wait ~10 s before they report
// A truth event's toleranceSeconds replaces the kind's tolerance for that event.
import { BELT_STATUS_CODES, type BeltStatusCode } from '../../src/contract/codes.ts';
import { matchWithLimit } from '../track/assignment.ts';
import type { AnalysisKind } from '../types.ts';
import { EvalDetectedInvalid } from './errors.ts';
import { ANALYSIS_KINDS, type TruthFile } from './truth.ts';

export interface DetectedEvent {
  kind: AnalysisKind;
  atSeconds: number;
  count?: number;
  beltStatus?: BeltStatusCode;
}

export interface ScoreOptions {
  /** per kind: seconds either side (person, truck, belt, dispatchRoom) or after (occlusion, moved) */
  tolerance?: Partial<Record<AnalysisKind, number>>;
  /** how much later than the tolerance a person/truck event may come (a counted group) */
  groupSeconds?: number;
  /** how much earlier than the truth an occlusion/moved event may come (frame rounding) */
  earlySeconds?: number;
}

export const DEFAULT_TOLERANCE: Readonly<Record<AnalysisKind, number>> = {
  person: 3,
  truck: 3,
  belt: 6,
  dispatchRoom: 10,
  occlusion: 20,
  moved: 20,
};
export const DEFAULT_GROUP_SECONDS = 2;
export const DEFAULT_EARLY_SECONDS = 1;

export interface KindScore {
  /** truth units matched by a detected unit */
  tp: number;
  /** detected units that matched nothing */
  fp: number;
  /** truth units that nothing matched */
  fn: number;
  /** tp / (tp + fp), 1 when nothing was detected */
  precision: number;
  /** tp / (tp + fn), 1 when nothing was to be found */
  recall: number;
  /** clips that configured this analysis */
  clips: number;
}

export interface EventMatch {
  clip: string;
  kind: AnalysisKind;
  /** index into truth.events */
  truthIndex: number;
  /** index into the detected list */
  detectedIndex: number;
  truthAt: number;
  detectedAt: number;
}

export interface Unmatched {
  clip: string;
  kind: AnalysisKind;
  /** index into truth.events (missed) or into the detected list (extra) */
  index: number;
  atSeconds: number;
  beltStatus?: BeltStatusCode;
}

export interface ClipScore {
  clip: string;
  perKind: Record<AnalysisKind, KindScore>;
  /** one per matched unit (a count-2 event matched twice appears twice) */
  matches: EventMatch[];
  /** truth units nobody reported */
  missed: Unmatched[];
  /** detected units that matched no truth */
  extra: Unmatched[];
}

interface Unit {
  index: number;
  at: number;
  status: BeltStatusCode | undefined;
  tolerance: number | undefined;
}

// A finite stand-in for "any pair inside its window is worth matching": far above every real cost.
const MATCH_LIMIT = 1e6;

function checkDetected(detected: readonly DetectedEvent[]): void {
  detected.forEach((e, i) => {
    const at = `detected[${i}]`;
    if (!ANALYSIS_KINDS.includes(e.kind)) throw EvalDetectedInvalid(`${at}.kind: unknown kind ${JSON.stringify(e.kind)}`, { field: `${at}.kind` });
    if (typeof e.atSeconds !== 'number' || !Number.isFinite(e.atSeconds)) {
      throw EvalDetectedInvalid(`${at}.atSeconds: must be a finite number, got ${JSON.stringify(e.atSeconds)}`, { field: `${at}.atSeconds` });
    }
    if (e.count !== undefined && !(Number.isInteger(e.count) && e.count >= 0)) {
      throw EvalDetectedInvalid(`${at}.count: must be an integer ≥ 0, got ${JSON.stringify(e.count)}`, { field: `${at}.count` });
    }
    if (e.beltStatus !== undefined && !BELT_STATUS_CODES.includes(e.beltStatus)) {
      throw EvalDetectedInvalid(`${at}.beltStatus: must be one of ${BELT_STATUS_CODES.join(', ')}, got ${JSON.stringify(e.beltStatus)}`, { field: `${at}.beltStatus` });
    }
  });
}

function emptyKind(): KindScore {
  return { tp: 0, fp: 0, fn: 0, precision: 1, recall: 1, clips: 0 };
}

function finish(k: KindScore): KindScore {
  return { ...k, precision: k.tp + k.fp === 0 ? 1 : k.tp / (k.tp + k.fp), recall: k.tp + k.fn === 0 ? 1 : k.tp / (k.tp + k.fn) };
}

function emptyPerKind(): Record<AnalysisKind, KindScore> {
  return Object.fromEntries(ANALYSIS_KINDS.map((k) => [k, emptyKind()])) as Record<AnalysisKind, KindScore>;
}

/** Expands counted events into units of one (a missing count is 1; a detected count of 0 adds nothing). */
function units(kind: AnalysisKind, events: readonly { atSeconds: number; count?: number; beltStatus?: BeltStatusCode; toleranceSeconds?: number }[], indices: readonly number[]): Unit[] {
  const out: Unit[] = [];
  for (const index of indices) {
    const e = events[index]!;
    // Only counters multiply; an event of another kind is one finding whatever it says.
    const n = kind === 'person' || kind === 'truck' ? (e.count ?? 1) : 1;
    for (let i = 0; i < n; i++) out.push({ index, at: e.atSeconds, status: e.beltStatus, tolerance: e.toleranceSeconds });
  }
  return out;
}

/** Seconds by which d may precede and follow t for a truth unit of this kind. */
function window(kind: AnalysisKind, truth: Unit, options: ScoreOptions): [number, number] {
  const tol = truth.tolerance ?? options.tolerance?.[kind] ?? DEFAULT_TOLERANCE[kind];
  switch (kind) {
    case 'person':
    case 'truck':
      return [tol, tol + (options.groupSeconds ?? DEFAULT_GROUP_SECONDS)];
    case 'occlusion':
    case 'moved':
      return [options.earlySeconds ?? DEFAULT_EARLY_SECONDS, tol];
    default:
      return [tol, tol];
  }
}

/** Scores one clip. `detected` times are seconds from the clip's start, like the truth's. */
export function scoreEvents(truth: TruthFile, detected: readonly DetectedEvent[], options: ScoreOptions = {}): ClipScore {
  checkDetected(detected);
  const clip = truth.clip;
  const perKind = emptyPerKind();
  const matches: EventMatch[] = [];
  const missed: Unmatched[] = [];
  const extra: Unmatched[] = [];
  for (const kind of ANALYSIS_KINDS) {
    const score = perKind[kind];
    if (truth.camera.analyses[kind] !== undefined) score.clips = 1;
    const truthIdx = truth.events.flatMap((e, i) => (e.kind === kind ? [i] : []));
    const detIdx = detected.flatMap((e, i) => (e.kind === kind ? [i] : []));
    const truthUnits = units(kind, truth.events, truthIdx);
    const detUnits = units(kind, detected, detIdx);
    const cost = truthUnits.map((t) => {
      const [before, after] = window(kind, t, options);
      return detUnits.map((d) => {
        if (kind === 'belt' && d.status !== t.status) return Infinity;
        const delta = d.at - t.at;
        return delta >= -before && delta <= after ? Math.abs(delta) : Infinity;
      });
    });
    // A matrix with no rows cannot say how many columns it has: that case is answered here.
    const m =
      truthUnits.length === 0
        ? { matches: [] as [number, number][], unmatchedRows: [] as number[], unmatchedCols: detUnits.map((_, i) => i) }
        : matchWithLimit(cost, MATCH_LIMIT);
    for (const [ti, di] of m.matches) {
      const t = truthUnits[ti]!;
      const d = detUnits[di]!;
      matches.push({ clip, kind, truthIndex: t.index, detectedIndex: d.index, truthAt: t.at, detectedAt: d.at });
    }
    for (const ti of m.unmatchedRows) {
      const t = truthUnits[ti]!;
      missed.push({ clip, kind, index: t.index, atSeconds: t.at, ...(t.status ? { beltStatus: t.status } : {}) });
    }
    for (const di of m.unmatchedCols) {
      const d = detUnits[di]!;
      extra.push({ clip, kind, index: d.index, atSeconds: d.at, ...(d.status ? { beltStatus: d.status } : {}) });
    }
    perKind[kind] = finish({ ...score, tp: m.matches.length, fn: m.unmatchedRows.length, fp: m.unmatchedCols.length });
  }
  const byTime = (a: { truthAt?: number; atSeconds?: number }, b: { truthAt?: number; atSeconds?: number }): number =>
    (a.truthAt ?? a.atSeconds ?? 0) - (b.truthAt ?? b.atSeconds ?? 0);
  return { clip, perKind, matches: matches.sort(byTime), missed: missed.sort(byTime), extra: extra.sort(byTime) };
}

/** Sums the counts of several clips (precision and recall recomputed from the sums). */
export function aggregate(scores: readonly ClipScore[], label = `${scores.length} clips`): ClipScore {
  const perKind = emptyPerKind();
  for (const s of scores) {
    for (const kind of ANALYSIS_KINDS) {
      const into = perKind[kind];
      const from = s.perKind[kind];
      into.tp += from.tp;
      into.fp += from.fp;
      into.fn += from.fn;
      into.clips += from.clips;
    }
  }
  for (const kind of ANALYSIS_KINDS) perKind[kind] = finish(perKind[kind]);
  return {
    clip: label,
    perKind,
    matches: scores.flatMap((s) => s.matches),
    missed: scores.flatMap((s) => s.missed),
    extra: scores.flatMap((s) => s.extra),
  };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/**
 * A plain-text table: with one score, a row per kind that was configured or had events; with a
 * list, those rows for every clip and then the totals (`aggregate`).
 */
export function formatScoreTable(scores: ClipScore | readonly ClipScore[]): string {
  const list = Array.isArray(scores) ? (scores as readonly ClipScore[]) : [scores as ClipScore];
  const rows: string[][] = [['clip', 'kind', 'clips', 'tp', 'fp', 'fn', 'precision', 'recall']];
  const addRows = (s: ClipScore): void => {
    for (const kind of ANALYSIS_KINDS) {
      const k = s.perKind[kind];
      if (k.clips === 0 && k.tp + k.fp + k.fn === 0) continue;
      rows.push([s.clip, kind, String(k.clips), String(k.tp), String(k.fp), String(k.fn), pct(k.precision), pct(k.recall)]);
    }
  };
  list.forEach(addRows);
  if (Array.isArray(scores) && list.length > 1) {
    rows.push([]);
    addRows(aggregate(list, 'all'));
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => (r.length === 0 ? widths.map((w) => '-'.repeat(w)).join('  ') : r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')))
    .join('\n');
}

/** One event of a clip in the JSON report: what was reported, or what the truth says should have been. */
export interface JsonEvent {
  kind: AnalysisKind;
  atSeconds: number;
  count?: number;
  beltStatus?: BeltStatusCode;
  /** truth events only: the situation it stands for */
  note?: string;
  /** units of this event matched (a count-2 event may match 0, 1 or 2) */
  matchedUnits: number;
  /** every unit of it matched */
  matched: boolean;
  /** the other side's indices it was matched with (into `truth` or `detected`) */
  matchedWith: number[];
}

export interface JsonClipReport {
  clip: string;
  frames?: number;
  elapsedMs?: number;
  /** what the pipeline reported, in order */
  detected: JsonEvent[];
  /** the truth's events, in the truth file's order */
  truth: JsonEvent[];
  perKind: Record<AnalysisKind, KindScore>;
}

export interface JsonReport {
  format: 'eseal-eval/1';
  clips: JsonClipReport[];
  /** all clips together (`aggregate`) */
  total: Record<AnalysisKind, KindScore>;
  /** the --target percentage and whether every kind with events reached it */
  target: number;
  pass: boolean;
}

function unitsOf(kind: AnalysisKind, count: number | undefined): number {
  return kind === 'person' || kind === 'truck' ? (count ?? 1) : 1;
}

/** One clip's events, reported and true, each marked matched or not (`eseal edge eval --json`). */
export function clipReport(
  truth: TruthFile,
  detected: readonly DetectedEvent[],
  score: ClipScore,
  run: { frames?: number; elapsedMs?: number } = {},
): JsonClipReport {
  const side = <E extends { kind: AnalysisKind; atSeconds: number; count?: number; beltStatus?: BeltStatusCode; note?: string }>(
    events: readonly E[],
    key: 'truthIndex' | 'detectedIndex',
    other: 'truthIndex' | 'detectedIndex',
  ): JsonEvent[] =>
    events.map((e, i) => {
      const mine = score.matches.filter((m) => m[key] === i);
      return {
        kind: e.kind,
        atSeconds: e.atSeconds,
        ...(e.count === undefined ? {} : { count: e.count }),
        ...(e.beltStatus === undefined ? {} : { beltStatus: e.beltStatus }),
        ...(e.note === undefined ? {} : { note: e.note }),
        matched: mine.length >= unitsOf(e.kind, e.count),
        matchedUnits: mine.length,
        matchedWith: [...new Set(mine.map((m) => m[other]))],
      };
    });
  return {
    clip: truth.clip,
    ...(run.frames === undefined ? {} : { frames: run.frames }),
    ...(run.elapsedMs === undefined ? {} : { elapsedMs: run.elapsedMs }),
    detected: side(detected, 'detectedIndex', 'truthIndex'),
    truth: side(truth.events, 'truthIndex', 'detectedIndex'),
    perKind: score.perKind,
  };
}

/** Whether every kind that had events reaches `target` percent precision and recall; the kinds below it. */
export function belowTarget(total: Record<AnalysisKind, KindScore>, target: number): AnalysisKind[] {
  return (Object.entries(total) as [AnalysisKind, KindScore][])
    .filter(([, k]) => k.tp + k.fp + k.fn > 0 && (k.precision * 100 < target || k.recall * 100 < target))
    .map(([kind]) => kind);
}

/** The whole `--json` report of a run over one or more clips. */
export function jsonReport(clips: readonly { report: JsonClipReport; score: ClipScore }[], target: number): JsonReport {
  const total = aggregate(clips.map((c) => c.score)).perKind;
  return { format: 'eseal-eval/1', clips: clips.map((c) => c.report), total, target, pass: belowTarget(total, target).length === 0 };
}
