// Times in the national API are Beijing time (UTC+8, no daylight saving), 24-hour, whatever the
// server's own timezone: `yyyy-MM-dd HH:mm:ss` in JSON, `yyyyMMddHHmmss` in file names (5.3.5).

const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

const JSON_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const FILE_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function beijingParts(ms: number) {
  const d = new Date(ms + BEIJING_OFFSET_MS);
  return {
    y: d.getUTCFullYear(),
    mo: d.getUTCMonth() + 1,
    d: d.getUTCDate(),
    h: d.getUTCHours(),
    mi: d.getUTCMinutes(),
    s: d.getUTCSeconds(),
  };
}

/** `2021-01-04 22:45:15` for the given instant (ms since epoch or Date). */
export function formatJsonTime(at: number | Date = Date.now()): string {
  const p = beijingParts(+at);
  return `${pad(p.y, 4)}-${pad(p.mo, 2)}-${pad(p.d, 2)} ${pad(p.h, 2)}:${pad(p.mi, 2)}:${pad(p.s, 2)}`;
}

/** `20210104224515` for the given instant. */
export function formatFileTime(at: number | Date = Date.now()): string {
  const p = beijingParts(+at);
  return `${pad(p.y, 4)}${pad(p.mo, 2)}${pad(p.d, 2)}${pad(p.h, 2)}${pad(p.mi, 2)}${pad(p.s, 2)}`;
}

function fromParts(m: RegExpExecArray): number | undefined {
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (y < 2000 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) - BEIJING_OFFSET_MS;
  // Date.UTC rolls 2021-02-30 over to March: a round trip catches impossible dates.
  const back = beijingParts(ms);
  if (back.y !== y || back.mo !== mo || back.d !== d) return undefined;
  return ms;
}

/** Instant (ms since epoch) of a JSON time, or undefined when it is not a real `yyyy-MM-dd HH:mm:ss`. */
export function parseJsonTime(text: string): number | undefined {
  const m = JSON_TIME.exec(text);
  return m ? fromParts(m) : undefined;
}

/** Instant (ms since epoch) of a file-name time, or undefined when it is not a real `yyyyMMddHHmmss`. */
export function parseFileTime(text: string): number | undefined {
  const m = FILE_TIME.exec(text);
  return m ? fromParts(m) : undefined;
}

export const TIME_FORMATS = { json: 'yyyy-MM-dd HH:mm:ss', file: 'yyyyMMddHHmmss' } as const;
