// The time a GB/T 28181 server sends in the 200 to REGISTER (`Date:`) and in MANSCDP bodies:
// `yyyy-MM-ddTHH:mm:ss.SSS`, always Beijing time (UTC+8), as the national guide requires.

const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** `2024-05-01T08:00:00.000` for the instant `at`, in Beijing time. */
export function formatSipTime(at: number | Date = Date.now()): string {
  const d = new Date(+at + BEIJING_OFFSET_MS);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}`
  );
}

const SIP_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/;

/** Instant of a `yyyy-MM-ddTHH:mm:ss[.SSS]` Beijing time; undefined when it is not one. */
export function parseSipTime(text: string): number | undefined {
  const m = SIP_TIME.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? '0').padEnd(3, '0'));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - BEIJING_OFFSET_MS;
}
