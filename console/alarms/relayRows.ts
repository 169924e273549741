// The relay's aggregates as the console reads them (GET /admin/daily, /admin/hourly, /admin/mines;
// relay/stats/StatsTypes.ts is the truth), and the console's calendar: a "day" is the
// Beijing calendar day (UTC+8), YYYY-MM-DD.
export interface DailyRow {
  day: string;
  mineId: string;
  endpoint: string;
  count: number;
  /** inWellNumber / outMineNumber summed, or the count(4) of evidence file names */
  sum: number;
  beltStatus: Record<string, number>;
  aiTypes: Record<string, number>;
  flagged: number;
  delivered: number;
  late: number;
  latencySumMs: number;
  latencyMaxMs: number;
  dead: number;
  rejected: number;
  firstAt: number;
  lastAt: number;
}

export interface HourlyRow {
  /** ms, the start of the hour */
  hour: number;
  endpoint: string;
  count: number;
  late: number;
}

export interface CameraRow {
  cameraId: string;
  lastSeenAt: number;
  /** the last camera/online-offine: true online (alarm 1), false offline (alarm 0) */
  online?: boolean;
  onlineChangedAt?: number;
  liveUrl?: string;
}

export interface MineRow {
  mineId: string;
  status?: string;
  accounts: string[];
  lastSeenAt?: number;
  cameras: CameraRow[];
  /** endpoint → calls on the day asked */
  today: Record<string, number>;
  flagged: number;
  rejected: number;
  late: number;
  dead: number;
  latencyMaxMs: number;
}

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
const BEIJING_OFFSET_MS = 8 * HOUR_MS;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The Beijing day of instant `ms`. */
export function beijingDay(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant Beijing day `day` starts, or undefined when `day` is no real YYYY-MM-DD date. */
export function dayStart(day: string): number | undefined {
  const m = DAY_RE.exec(day);
  if (!m) return undefined;
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (!Number.isFinite(utc) || new Date(utc).toISOString().slice(0, 10) !== day) return undefined;
  return utc - BEIJING_OFFSET_MS;
}

/** `day` moved by `n` days (n may be negative). */
export function addDays(day: string, n: number): string {
  return beijingDay(dayStart(day)! + n * DAY_MS);
}

/** The days from `from` to `to`, both included. */
export function daysFrom(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to && out.length < 400; d = addDays(d, 1)) out.push(d);
  return out;
}

/** A day parameter: absent is `fallback`; a bad one names the field. */
export function readDay(value: unknown, field: string, fallback: string, invalid: (msg: string, field: string) => Error): string {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || dayStart(value) === undefined) {
    throw invalid(`${field}: a day YYYY-MM-DD (Beijing time), got ${JSON.stringify(String(value).slice(0, 40))}`, field);
  }
  return value;
}
