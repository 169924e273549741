// Field rules of the national API (tables 5-2 … 5-16 and 5-25), with the strictness decided in
// NATIONAL-API.md: reject what is definitely broken (missing, unparseable, wrong length, unknown
// code value), accept but flag what the national platform may still take (a code unusual for the
// endpoint, a camera outside its usual place, a clock more than 5 minutes off), and normalise a
// number sent where a zero-padded string is expected.
import {
  AI_TYPES,
  BELT_STATUSES,
  LENGTHS,
  cameraPlace,
  isAiTypeCode,
  isBeltStatusCode,
  type AiTypeCode,
} from './codes.ts';
import type { FieldRule, FieldSpec, QueryEndpoint, RecordEndpoint } from './endpoints.ts';
import { InvalidField } from './errors.ts';
import { TIME_FORMATS, parseJsonTime } from './time.ts';
import { fieldMessage } from '../errors.ts';

/**
 * A soft finding kept on the item, counted in metrics and shown to operators. The part before the
 * first ':' is the flag's kind (a bounded set, used as the metrics label).
 */
export type Flag = string;

export const FLAG_KINDS = {
  'aiTypeCode.unusual': 'aiTypeCode is not the one the guide gives for this endpoint',
  'cameraId.unusual': 'cameraId is outside the places the guide gives for this endpoint',
  'time.skew': "time is more than the allowed skew away from the relay's clock",
  'value.normalised': 'a number was sent where a zero-padded string is expected (or the reverse) and was normalised',
  'mineId.notDigits': 'mineId has 12 characters but not all digits',
  'field.unknown': 'a member the guide does not define was sent and is not forwarded',
  'fileName.extensionCase': 'the file name ends in a lower-case .mp4 instead of .MP4',
  'file.contentType': 'the file part is not declared application/mp4',
  'file.sameNameDifferentBytes': 'a file of the same name but different content was accepted before',
  'liveUrl.notHttp': "liveUrl is the guide's bare ip:port, not an http:// address (the guide asks for an MJPEG stream over HTTP)",
} as const;
export type FlagKind = keyof typeof FLAG_KINDS;

export function flag(kind: FlagKind, detail?: string): Flag {
  return detail === undefined ? kind : `${kind}:${detail}`;
}

export function flagKind(f: Flag): string {
  const i = f.indexOf(':');
  return i < 0 ? f : f.slice(0, i);
}

export interface CheckContext {
  /** relay clock, ms since epoch */
  now: number;
  /** flag times further than this from now */
  maxSkewMs: number;
}

export type RecordValue = string | number;
export type NormalisedRecord = Record<string, RecordValue>;

export interface Checked<T> {
  value: T;
  flags: Flag[];
}

function reject(field: string, rule: string): never {
  throw InvalidField(fieldMessage(field, rule), { field });
}

function shown(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 40 ? s.slice(0, 37) + '…' : s;
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

/** A zero-padded digit string of `width` from a string or a non-negative integer. */
function digits(field: string, v: unknown, width: number, example: string, flags: Flag[]): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v < 10 ** width) {
      flags.push(flag('value.normalised', field));
      return String(v).padStart(width, '0');
    }
    reject(field, `must be ${width} digits (e.g. "${example}"), got the number ${v}`);
  }
  if (typeof v !== 'string') reject(field, `must be a string of ${width} digits (e.g. "${example}"), got ${typeName(v)}`);
  if (!/^\d+$/.test(v)) reject(field, `must be ${width} digits (e.g. "${example}"), got ${shown(v)}`);
  if (v.length !== width) reject(field, `must be exactly ${width} digits, zero-padded (e.g. "${example}"), got ${v.length} digits ${shown(v)}`);
  return v;
}

export function checkMineId(v: unknown, flags: Flag[], field = 'mineId'): string {
  let s: string;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
    flags.push(flag('value.normalised', field));
    s = String(v);
  } else if (typeof v === 'string') {
    s = v;
  } else {
    return reject(field, `must be a string of ${LENGTHS.mineId} characters (the national basic-data code), got ${typeName(v)}`);
  }
  if (s.length !== LENGTHS.mineId) {
    reject(field, `must be ${LENGTHS.mineId} characters (the national basic-data code), got ${s.length}: ${shown(s)}`);
  }
  if (!/^[0-9A-Za-z]+$/.test(s)) reject(field, `must be letters and digits only (the national basic-data code), got ${shown(s)}`);
  if (!/^\d+$/.test(s)) flags.push(flag('mineId.notDigits'));
  return s;
}

export function checkCameraId(v: unknown, flags: Flag[], usual: RecordEndpoint['usualCameras'], field = 'cameraId'): string {
  const s = digits(field, v, LENGTHS.cameraId, '10', flags);
  const place = cameraPlace(s);
  if (place === undefined || (usual !== 'any' && !usual.includes(place))) flags.push(flag('cameraId.unusual', s));
  return s;
}

const AI_LIST = Object.entries(AI_TYPES)
  .map(([c, t]) => `${c} ${t.name}`)
  .join(', ');

export function checkAiTypeCode(v: unknown, flags: Flag[], usual: readonly AiTypeCode[] | undefined, field = 'aiTypeCode'): AiTypeCode {
  const s = digits(field, v, LENGTHS.aiTypeCode, '01', flags);
  if (!isAiTypeCode(s)) reject(field, `must be one of ${AI_LIST}; got ${shown(s)}`);
  if (usual && !usual.includes(s)) flags.push(flag('aiTypeCode.unusual', s));
  return s;
}

const BELT_LIST = Object.entries(BELT_STATUSES)
  .map(([c, t]) => `${c} ${t.name}`)
  .join(', ');

export function checkBeltStatus(v: unknown, flags: Flag[], field = 'beltStatus'): string {
  const s = digits(field, v, LENGTHS.beltStatus, '0001', flags);
  if (!isBeltStatusCode(s)) reject(field, `must be one of ${BELT_LIST}; got ${shown(s)}`);
  return s;
}

/** A count as the guide writes it: 4 digits, zero-padded; capped at 9999 (the field has 4 digits). */
export function formatCount(n: number): string {
  return String(Math.max(0, Math.min(10 ** LENGTHS.count - 1, Math.round(n)))).padStart(LENGTHS.count, '0');
}

export function checkCount(v: unknown, flags: Flag[], field: string): string {
  return digits(field, v, LENGTHS.count, '0001', flags);
}

export function checkSkew(at: number, ctx: CheckContext, flags: Flag[], field = 'time'): void {
  const off = at - ctx.now;
  if (Math.abs(off) > ctx.maxSkewMs) flags.push(flag('time.skew', `${field}${off > 0 ? '+' : '-'}${Math.round(Math.abs(off) / 1000)}s`));
}

export function checkTime(v: unknown, flags: Flag[], ctx: CheckContext, field = 'time'): string {
  if (typeof v !== 'string') reject(field, `must be a string ${TIME_FORMATS.json} (Beijing time), got ${typeName(v)}`);
  const at = parseJsonTime(v);
  if (at === undefined) reject(field, `must be a real date and time ${TIME_FORMATS.json} (Beijing time, 24-hour), got ${shown(v)}`);
  checkSkew(at, ctx, flags, field);
  return v;
}

/**
 * The guide's own example is a bare `ip:port`: a host that is an IPv4 address, a bracketed IPv6
 * address, `localhost` or a dotted DNS name (never a lone word, so that `javascript:1/…` is no
 * host), an optional port and an optional path.
 */
export const BARE_HOST_PORT =
  /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]|localhost|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)(?::\d{1,5})?(?:[/?].*)?$/i;

/** `url` as a WHATWG URL, or undefined where it does not parse (a port over 65535, an IPv4 part over 255). */
function parsedUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

export function checkLiveUrl(v: unknown, flags: Flag[], field = 'liveUrl'): string {
  if (typeof v !== 'string') reject(field, `must be a string (the marked MJPEG stream address), got ${typeName(v)}`);
  if (v.length === 0) reject(field, 'must not be empty');
  if (v.length > LENGTHS.liveUrlMax) reject(field, `must be at most ${LENGTHS.liveUrlMax} characters, got ${v.length}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(v)) reject(field, 'must not contain white space or control characters');
  // The national platform shows and opens this address: nothing but http(s) to a host goes on
  // (javascript:, data:, file:, rtsp:// … are refused), and the guide's bare form, flagged.
  const rule = `must be an http:// or https:// address of the marked MJPEG stream (or the guide's bare ip:port), got ${shown(v)}`;
  if (/^https?:\/\//i.test(v)) {
    // a host right after the slashes (the URL parser would read http:///x as host x)
    const url = parsedUrl(v);
    if (!url || !url.hostname || /^https?:\/\/[/\\?#]/i.test(v)) reject(field, rule);
    return v;
  }
  if (BARE_HOST_PORT.test(v) && parsedUrl(`http://${v}`)) {
    flags.push(flag('liveUrl.notHttp'));
    return v;
  }
  return reject(field, rule);
}

export function checkAlarm(v: unknown, flags: Flag[], field = 'alarm'): number {
  if (v === 0 || v === 1) return v;
  if (v === '0' || v === '1') {
    flags.push(flag('value.normalised', field));
    return Number(v);
  }
  return reject(field, `must be the number 0 (offline) or 1 (online), got ${shown(v)}`);
}

const RULES: Record<
  FieldRule,
  (v: unknown, flags: Flag[], spec: FieldSpec, endpoint: RecordEndpoint | QueryEndpoint, ctx: CheckContext) => RecordValue
> = {
  mineId: (v, f, s) => checkMineId(v, f, s.name),
  cameraId: (v, f, s, e) => checkCameraId(v, f, e.usualCameras, s.name),
  aiTypeCode: (v, f, s, e) => checkAiTypeCode(v, f, e.kind === 'record' ? e.aiTypes : undefined, s.name),
  count4: (v, f, s) => checkCount(v, f, s.name),
  beltStatus: (v, f, s) => checkBeltStatus(v, f, s.name),
  time: (v, f, s, _e, ctx) => checkTime(v, f, ctx, s.name),
  liveUrl: (v, f, s) => checkLiveUrl(v, f, s.name),
  alarm: (v, f, s) => checkAlarm(v, f, s.name),
};

function checkFields(
  endpoint: RecordEndpoint | QueryEndpoint,
  specs: readonly FieldSpec[],
  input: unknown,
  ctx: CheckContext,
  where: string,
): Checked<NormalisedRecord> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    reject(where, `must be a JSON object with ${specs.map((s) => s.name).join(', ')}; got ${typeName(input)}`);
  }
  const obj = input as Record<string, unknown>;
  const flags: Flag[] = [];
  const value: NormalisedRecord = {};
  for (const spec of specs) {
    const v = obj[spec.name];
    if (v === undefined || v === null || v === '') {
      reject(spec.name, `required (${spec.zh}); ${where} has ${Object.keys(obj).length ? Object.keys(obj).join(', ') : 'no members'}`);
    }
    value[spec.name] = RULES[spec.rule](v, flags, spec, endpoint, ctx);
  }
  const known = new Set(specs.map((s) => s.name));
  for (const k of Object.keys(obj)) if (!known.has(k)) flags.push(flag('field.unknown', k.slice(0, 40)));
  return { value, flags };
}

/** Checks and normalises a record body; the value holds exactly the guide's fields, in its order. */
export function checkRecord(endpoint: RecordEndpoint, body: unknown, ctx: CheckContext): Checked<NormalisedRecord> {
  return checkFields(endpoint, endpoint.fields, body, ctx, 'body');
}

export function checkQuery(endpoint: QueryEndpoint, query: unknown, ctx: CheckContext): Checked<NormalisedRecord> {
  return checkFields(endpoint, endpoint.query, query, ctx, 'query');
}
