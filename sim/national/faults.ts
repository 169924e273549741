// The simulator's fault knobs: defaults, the check of a partial setting (from code, the control
// API or the command line), and the seeded random source behind the rates, so a test that sets
// `error5xxRate: 0.3` with a seed sees the same answers on every run.
import { SimOptionsInvalid } from '../errors.ts';
import type { RejectRule, SimFaults } from './SimTypes.ts';

export const DEFAULT_FAULTS: Readonly<SimFaults> = Object.freeze({
  down: false,
  latencyMs: 0,
  error5xxRate: 0,
  code1Rate: 0,
  resetMidUploadRate: 0,
  bandwidthBytesPerSec: 0,
  reject: null,
});

const KINDS: Record<keyof SimFaults, 'boolean' | 'ms' | 'rate' | 'bytes' | 'rule'> = {
  down: 'boolean',
  latencyMs: 'ms',
  error5xxRate: 'rate',
  code1Rate: 'rate',
  resetMidUploadRate: 'rate',
  bandwidthBytesPerSec: 'bytes',
  reject: 'rule',
};

function bad(field: string, rule: string): never {
  throw SimOptionsInvalid(`${field}: ${rule}`, { field });
}

function checkRule(v: unknown): RejectRule | null {
  if (v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) bad('faults.reject', 'must be null or {endpoint?, mineId?, status, code, msg}');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['endpoint', 'mineId', 'status', 'code', 'msg'].includes(k)) bad(`faults.reject.${k}`, 'unknown member (endpoint, mineId, status, code, msg)');
  }
  const status = o['status'];
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    bad('faults.reject.status', `must be an HTTP status 200..599, got ${JSON.stringify(status)}`);
  }
  const code = o['code'];
  if (typeof code !== 'number' || !Number.isInteger(code)) bad('faults.reject.code', `must be an integer (the envelope's code), got ${JSON.stringify(code)}`);
  const msg = o['msg'];
  if (typeof msg !== 'string') bad('faults.reject.msg', `must be a string, got ${JSON.stringify(msg)}`);
  const rule: RejectRule = { status, code, msg };
  for (const k of ['endpoint', 'mineId'] as const) {
    const s = o[k];
    if (s === undefined || s === null || s === '') continue;
    if (typeof s !== 'string') bad(`faults.reject.${k}`, `must be a string, got ${JSON.stringify(s)}`);
    rule[k] = s;
  }
  return rule;
}

/** Checks a partial fault setting; unknown knobs and out-of-range values are refused (ESEAL_ERR_SIM_OPTIONS). */
export function checkFaults(input: unknown): Partial<SimFaults> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) bad('faults', `must be a JSON object of knobs (${Object.keys(KINDS).join(', ')})`);
  const out: Partial<SimFaults> = {};
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    const kind = KINDS[k as keyof SimFaults];
    const field = `faults.${k}`;
    switch (kind) {
      case undefined:
        return bad(field, `unknown knob; the knobs are ${Object.keys(KINDS).join(', ')}`);
      case 'boolean':
        if (typeof v !== 'boolean') bad(field, `must be true or false, got ${JSON.stringify(v)}`);
        out.down = v;
        break;
      case 'rate':
        if (typeof v !== 'number' || !(v >= 0 && v <= 1)) bad(field, `must be a number from 0 to 1, got ${JSON.stringify(v)}`);
        (out as Record<string, number>)[k] = v;
        break;
      case 'ms':
      case 'bytes':
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(field, `must be a number >= 0, got ${JSON.stringify(v)}`);
        (out as Record<string, number>)[k] = v;
        break;
      case 'rule':
        out.reject = checkRule(v);
        break;
    }
  }
  return out;
}

/** A small, fast, seedable generator (mulberry32): uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
