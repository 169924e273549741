// The calendar of the relay's aggregates and the console: a "day" is the Beijing calendar day (UTC+8, no daylight saving), written
// YYYY-MM-DD, whatever the server's TZ. Hours are whole UTC hours (Beijing's hours start at the same
// instants).
export const BEIJING_OFFSET_MS = 8 * 3600_000;
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The Beijing day of instant `ms`. */
export function beijingDay(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant (ms) Beijing day `day` starts, or undefined when `day` is not a real YYYY-MM-DD date. */
export function beijingDayStart(day: string): number | undefined {
  const m = DAY_RE.exec(day);
  if (!m) return undefined;
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (!Number.isFinite(utc) || new Date(utc).toISOString().slice(0, 10) !== day) return undefined;
  return utc - BEIJING_OFFSET_MS;
}

/** The day after `day` (both YYYY-MM-DD). */
export function nextDay(day: string): string {
  return beijingDay(beijingDayStart(day)! + DAY_MS);
}

/** The start of the hour holding `ms`. */
export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** `day` moved by `n` days (n may be negative). */
export function addDays(day: string, n: number): string {
  return beijingDay(beijingDayStart(day)! + n * DAY_MS);
}

/** The days from `from` to `to`, both included (at most 400). */
export function daysFrom(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to && out.length < 400; d = addDays(d, 1)) out.push(d);
  return out;
}
