// The console data API's query parameters: each bounded, each refusal naming the field and its rule.
import { InvalidField, LANES, endpointById } from '../../src/contract/index.ts';
import type { QueueItemState } from '../../src/store/QueueStoreTypes.ts';
import { DAY_MS, beijingDay, beijingDayStart } from '../stats/beijingDay.ts';

export type Query = Record<string, string | string[] | undefined>;

export const DAILY_MAX_DAYS = 31;
export const DAILY_ALL_MINES_MAX_DAYS = 7;
export const HOURLY_MAX_DAYS = 8;
export const ITEMS_MAX_LIMIT = 1000;
export const ITEMS_DEFAULT_LIMIT = 100;
const STATES: readonly QueueItemState[] = ['ready', 'leased', 'dead', 'done'];
const ID_RE = /^[0-9A-Za-z_-]{1,32}$/;

function one(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw InvalidField(`${name}: given more than once`, { field: name });
  return v === '' ? undefined : v;
}

function quoted(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}

export function dayParam(q: Query, name: string, fallback?: string): string {
  const v = one(q, name) ?? fallback;
  if (v === undefined) throw InvalidField(`${name}: required, a day YYYY-MM-DD (Beijing time)`, { field: name });
  if (beijingDayStart(v) === undefined) throw InvalidField(`${name}: a day YYYY-MM-DD (Beijing time), got ${quoted(v)}`, { field: name });
  return v;
}

/** from..to (inclusive days), at most `maxDays` days; both default to today (Beijing). */
export function dayRange(q: Query, maxDays: number, now = Date.now()): { from: string; to: string; days: string[] } {
  const today = beijingDay(now);
  const from = dayParam(q, 'from', today);
  const to = dayParam(q, 'to', one(q, 'from') ?? today);
  const a = beijingDayStart(from)!;
  const b = beijingDayStart(to)!;
  if (b < a) throw InvalidField(`to: not before from (${from}), got ${to}`, { field: 'to' });
  const n = Math.round((b - a) / DAY_MS) + 1;
  if (n > maxDays) throw InvalidField(`to: at most ${maxDays} days from \`from\` (inclusive), got ${n} days`, { field: 'to' });
  const days: string[] = [];
  for (let i = 0; i < n; i++) days.push(beijingDay(a + i * DAY_MS));
  return { from, to, days };
}

export function idParam(q: Query, name: string, required = false): string | undefined {
  const v = one(q, name);
  if (v === undefined) {
    if (required) throw InvalidField(`${name}: required`, { field: name });
    return undefined;
  }
  if (!ID_RE.test(v)) throw InvalidField(`${name}: 1 to 32 letters, digits, '-' or '_', got ${quoted(v)}`, { field: name });
  return v;
}

export function endpointParam(q: Query): string | undefined {
  const v = one(q, 'endpoint');
  if (v === undefined) return undefined;
  if (!endpointById(v)) throw InvalidField(`endpoint: an endpoint id such as infoReport/person or fileOperator/personVideo, got ${quoted(v)}`, { field: 'endpoint' });
  return v;
}

export function laneParam(q: Query): string | undefined {
  const v = one(q, 'lane');
  if (v === undefined) return undefined;
  if (!(v in LANES)) throw InvalidField(`lane: one of ${Object.keys(LANES).join(', ')}, got ${quoted(v)}`, { field: 'lane' });
  return v;
}

export function stateParam(q: Query): QueueItemState | undefined {
  const v = one(q, 'state');
  if (v === undefined) return undefined;
  if (!STATES.includes(v as QueueItemState)) throw InvalidField(`state: one of ${STATES.join(', ')}, got ${quoted(v)}`, { field: 'state' });
  return v as QueueItemState;
}

/** a whole number from `min` to `max` (ms times, seqs, limits) */
export function intParam(q: Query, name: string, min: number, max: number, rule: string): number | undefined {
  const v = one(q, name);
  if (v === undefined) return undefined;
  const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw InvalidField(`${name}: ${rule}, got ${quoted(v)}`, { field: name });
  return n;
}

export function seqOf(raw: string | undefined): number {
  const v = raw ?? '';
  if (!/^\d{1,15}$/.test(v) || Number(v) < 1) throw InvalidField(`seq: a whole number ≥ 1, got ${quoted(v)}`, { field: 'seq' });
  return Number(v);
}
