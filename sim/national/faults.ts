// The simulator's fault knobs: defaults, the check of a partial setting (from code, the control
// API or the command line), and the seeded random source behind the rates, so a test that sets
// `error5xxRate: 0.3` with a seed sees the same answers on every run.
import { Type, check, pathOf } from '../../src/config/rules.ts';
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

const rate = Type.Optional(Type.Number({ minimum: 0, maximum: 1 }));
const atLeastZero = Type.Optional(Type.Number({ minimum: 0 }));
/** absent, null or '': any */
const anyWhenEmpty = Type.Optional(Type.Union([Type.String(), Type.Null()]));

/** A partial setting of the knobs (what each does: SimFaults). */
const FaultsSchema = Type.Object({
  down: Type.Optional(Type.Boolean()),
  latencyMs: atLeastZero,
  error5xxRate: rate,
  code1Rate: rate,
  resetMidUploadRate: rate,
  bandwidthBytesPerSec: atLeastZero,
  reject: Type.Optional(
    Type.Union([
      Type.Null(),
      Type.Object({
        endpoint: anyWhenEmpty,
        mineId: anyWhenEmpty,
        status: Type.Integer({ minimum: 200, maximum: 599 }),
        code: Type.Integer(),
        msg: Type.String(),
      }),
    ]),
  ),
});

/** Checks a partial fault setting; unknown knobs and out-of-range values are refused, all at once (ESEAL_ERR_SIM_OPTIONS). */
export function checkFaults(input: unknown): Partial<SimFaults> {
  const { value, problems } = check(FaultsSchema, input, 'faults');
  if (problems.length) throw SimOptionsInvalid(problems.join('; '), { field: pathOf(problems[0]!), detail: { problems } });
  const { reject, ...knobs } = value;
  const out: Partial<SimFaults> = knobs;
  if (reject !== undefined) out.reject = reject && ruleOf(reject);
  return out;
}

function ruleOf(r: { endpoint?: string | null; mineId?: string | null; status: number; code: number; msg: string }): RejectRule {
  const rule: RejectRule = { status: r.status, code: r.code, msg: r.msg };
  if (r.endpoint) rule.endpoint = r.endpoint;
  if (r.mineId) rule.mineId = r.mineId;
  return rule;
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
