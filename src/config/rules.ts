// One rule language for everything configuration-like: the YAML configuration and its ESEAL_*
// overrides, camera and analysis options, truth files, model manifests, the simulator's fault
// knobs. Rules are TypeBox schemas (JSON Schema with static types, so a rule and its type are
// written once); `check` reads a value against one and reports every problem at once, each naming
// its key path and the rule in words a mine integrator can act on, with "did you mean" for a
// misspelt key. Two keywords of our own shape the messages: `hint` (what a string must be, instead
// of its regular expression) and `secret` (the value is never echoed).
import { Kind, OptionalKind, Type, type Static, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';

export { Type, type Static, type TSchema };

export interface CheckOptions {
  /** values come from environment variables or the command line: read numbers, booleans and comma lists from strings */
  coerce?: boolean;
  /** required keys may be missing (a configuration file overrides only what it names) */
  partial?: boolean;
}

export interface Checked<T> {
  /** the value read (numbers from strings when coercing, defaults filled in); only meaningful without problems */
  value: T;
  problems: string[];
}

type Schema = TSchema & {
  hint?: string;
  secret?: boolean;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  const?: unknown;
  anyOf?: Schema[];
  items?: Schema | Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
};

/** A string that must match `pattern`, described to people as `hint`. */
export function Pattern(pattern: RegExp | string, hint: string, options: { secret?: boolean; default?: string } = {}) {
  return Type.String({ pattern: typeof pattern === 'string' ? pattern : pattern.source, hint, ...options });
}

/** One of a few strings: `must be one of a, b, c`. */
export function OneOf<const T extends readonly string[]>(values: T, options: { default?: T[number] } = {}): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v as T[number])),
    options,
  );
}

/** Reads `value` against `schema`; `path` names it in messages (`edge.cameras[1]`, `truth.events[0]`). */
export function check<S extends TSchema>(schema: S, value: unknown, path: string, options: CheckOptions = {}): Checked<Static<S>> {
  const problems: string[] = [];
  const out = read(schema as Schema, value, path, options, problems);
  return { value: out as Static<S>, problems };
}

/** The key path a problem names (`edge.cameras[1].url` of `edge.cameras[1].url: must be …`), for an error's `field`. */
export function pathOf(problem: string): string {
  const colon = problem.indexOf(': ');
  return colon < 0 ? problem : problem.slice(0, colon);
}

/** The rule of one key inside an object schema, by dotted path ('relay.login.maxFailures'); undefined when there is none. */
export function ruleAt(schema: TSchema, dotted: string): TSchema | undefined {
  let node = schema as Schema;
  for (const part of dotted.split('.')) {
    const next = node.properties?.[part];
    if (!next) return undefined;
    node = next;
  }
  return node;
}

/**
 * The value with every part its schema marks `secret` replaced by '(hidden)', however deep: in
 * nested objects and in the items of arrays (a device's or an upper platform's password in a list).
 */
export function hideSecrets(schema: TSchema | undefined, value: unknown): unknown {
  const s = schema as Schema | undefined;
  if (!s) return value;
  if (s.secret) return '(hidden)';
  if (Array.isArray(value)) {
    const items = s.items;
    if (!items) return value;
    return value.map((v, i) => hideSecrets(Array.isArray(items) ? items[i] : items, v));
  }
  if (isMapping(value) && s.properties) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hideSecrets(s.properties?.[k], v)]));
  }
  return value;
}

function shown(s: Schema, v: unknown): string {
  if (s.secret) return '(hidden)';
  const text = JSON.stringify(v);
  return text === undefined ? String(v) : text.length > 80 ? text.slice(0, 77) + '…' : text;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** A short description of what a schema accepts, for "must be …" of unions. */
export function describe(schema: TSchema): string {
  const s = schema as Schema;
  if (s.hint) return s.hint;
  switch (s[Kind]) {
    case 'Literal':
      return JSON.stringify(s.const);
    case 'Boolean':
      return 'true or false';
    case 'Null':
      return 'empty (null)';
    case 'Integer':
      return 'a whole number';
    case 'Number':
      return 'a number';
    case 'String':
      return 'a string';
    case 'Array':
    case 'Tuple':
      return 'a list';
    case 'Object':
    case 'Record':
      return s.properties ? `a mapping with keys ${Object.keys(s.properties).join(', ')}` : 'a mapping';
    case 'Union':
      return literalValues(s)?.join(', ') ?? (s.anyOf ?? []).map(describe).join(' or ');
    default:
      return 'a value';
  }
}

function literalValues(s: Schema): string[] | undefined {
  const variants = s.anyOf ?? [];
  if (!variants.length || !variants.every((v) => v[Kind] === 'Literal')) return undefined;
  return variants.map((v) => String(v.const));
}

function range(s: Schema): string {
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? `more than ${s.exclusiveMinimum}` : undefined);
  const hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? `less than ${s.exclusiveMaximum}` : undefined);
  if (s.minimum !== undefined && s.maximum !== undefined) return `between ${s.minimum} and ${s.maximum}`;
  if (lo !== undefined && hi !== undefined) return `${typeof lo === 'number' ? `at least ${lo}` : lo} and ${typeof hi === 'number' ? `at most ${hi}` : hi}`;
  if (lo !== undefined) return typeof lo === 'number' ? `at least ${lo}` : lo;
  if (hi !== undefined) return typeof hi === 'number' ? `at most ${hi}` : hi;
  return '';
}

function inRange(s: Schema, n: number): boolean {
  return (
    (s.minimum === undefined || n >= s.minimum) &&
    (s.maximum === undefined || n <= s.maximum) &&
    (s.exclusiveMinimum === undefined || n > s.exclusiveMinimum) &&
    (s.exclusiveMaximum === undefined || n < s.exclusiveMaximum)
  );
}

function read(s: Schema, v: unknown, path: string, o: CheckOptions, problems: string[]): unknown {
  const at = path || 'value';
  switch (s[Kind]) {
    case 'Unknown':
    case 'Any':
      return v;
    case 'Null':
      if (v !== null) problems.push(`${at}: must be empty (null), got ${shown(s, v)}`);
      return v;
    case 'Literal':
      if (v !== s.const && !(o.coerce && typeof v === 'string' && v === String(s.const))) problems.push(`${at}: must be ${JSON.stringify(s.const)}, got ${shown(s, v)}`);
      return s.const;
    case 'Boolean': {
      const b = o.coerce && typeof v === 'string' && /^(true|false)$/.test(v.trim()) ? v.trim() === 'true' : v;
      if (typeof b !== 'boolean') problems.push(`${at}: must be true or false, got ${shown(s, v)}`);
      return b;
    }
    case 'Integer':
    case 'Number': {
      const integer = s[Kind] === 'Integer';
      const text = typeof v === 'string' && o.coerce ? v.trim() : undefined;
      const n = text !== undefined && (integer ? /^-?\d+$/ : /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/).test(text) ? Number(text) : v;
      if (typeof n !== 'number' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
        problems.push(`${at}: must be ${integer ? 'a whole number' : 'a number'}${range(s) ? ` ${range(s)}` : ''}, got ${shown(s, v)}`);
      } else if (!inRange(s, n)) {
        problems.push(`${at}: must be ${range(s)}, got ${s.secret ? '(hidden)' : n}`);
      }
      return n;
    }
    case 'String': {
      const str = typeof v === 'number' ? String(v) : v;
      if (typeof str !== 'string') {
        problems.push(`${at}: must be ${s.hint ?? 'a string'}, got ${shown(s, v)}`);
        return str;
      }
      if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(str)) problems.push(`${at}: must be ${s.hint ?? `like /${s.pattern}/`}, got ${shown(s, str)}`);
      else if (s.minLength !== undefined && str.length < s.minLength) problems.push(`${at}: must be ${s.hint ?? `at least ${s.minLength} characters`}, got ${shown(s, str)}`);
      else if (s.maxLength !== undefined && str.length > s.maxLength) problems.push(`${at}: must be ${s.hint ?? `at most ${s.maxLength} characters`}, got ${str.length} characters`);
      return str;
    }
    case 'Union':
      return readUnion(s, v, at, o, problems);
    case 'Array':
    case 'Tuple':
      return readList(s, v, at, o, problems);
    case 'Object':
    case 'Record':
      return readMapping(s, v, path, o, problems);
    default:
      throw new Error(`config rules: no reader for schema kind ${String(s[Kind])} at ${at}`);
  }
}

function readUnion(s: Schema, v: unknown, at: string, o: CheckOptions, problems: string[]): unknown {
  const variants = s.anyOf ?? [];
  const literals = literalValues(s);
  if (literals) {
    const hit = variants.find((x) => x.const === v || (o.coerce && typeof v === 'string' && String(x.const) === v.trim()));
    if (!hit) problems.push(`${at}: must be one of ${literals.join(', ')}, got ${shown(s, v)}`);
    return hit ? hit.const : v;
  }
  const attempts = variants.map((variant) => {
    const p: string[] = [];
    return { variant, value: read(variant, v, at, o, p), problems: p };
  });
  const ok = attempts.find((a) => a.problems.length === 0);
  if (ok) return ok.value;
  // the variant of the value's own shape says best what is wrong inside it
  const shaped = attempts.filter((a) => sameShape(a.variant, v));
  if (shaped.length === 1) {
    problems.push(...shaped[0]!.problems);
    return v;
  }
  problems.push(`${at}: must be ${s.hint ?? variants.map(describe).join(' or ')}, got ${shown(s, v)}`);
  return v;
}

function sameShape(s: Schema, v: unknown): boolean {
  switch (s[Kind]) {
    case 'Object':
    case 'Record':
      return isMapping(v);
    case 'Array':
    case 'Tuple':
      return Array.isArray(v);
    case 'Integer':
    case 'Number':
      return typeof v === 'number';
    case 'String':
      return typeof v === 'string';
    case 'Boolean':
      return typeof v === 'boolean';
    default:
      return false;
  }
}

function readList(s: Schema, v: unknown, at: string, o: CheckOptions, problems: string[]): unknown {
  const items = Array.isArray(v) ? v : o.coerce && typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : undefined;
  if (!items) {
    problems.push(`${at}: must be a list${o.coerce ? ' (or a comma-separated string)' : ''}, got ${shown(s, v)}`);
    return v;
  }
  if (s.minItems !== undefined && s.maxItems !== undefined && s.minItems === s.maxItems && items.length !== s.minItems) {
    problems.push(`${at}: must be a list of ${s.minItems}${s.hint ? ` (${s.hint})` : ''}, got ${items.length}`);
    return v;
  }
  if (s.maxItems !== undefined && items.length > s.maxItems) {
    problems.push(`${at}: at most ${s.maxItems} entries, got ${items.length}`);
    return v;
  }
  if (s.minItems !== undefined && items.length < s.minItems) {
    problems.push(`${at}: at least ${s.minItems} ${s.minItems === 1 ? 'entry' : 'entries'}${s.hint ? ` (${s.hint})` : ''}, got ${items.length}`);
    return v;
  }
  return items.map((item, i) => {
    const rule = Array.isArray(s.items) ? s.items[i] : s.items;
    return rule ? read(rule, item, `${at}[${i}]`, o, problems) : item;
  });
}

function closest(key: string, candidates: string[]): string | undefined {
  // a key cut short (`hold` for holdSeconds) is as clear a slip as a typo, when only one key starts so
  const lower = key.toLowerCase();
  const longer = lower.length >= 3 ? candidates.filter((c) => c.toLowerCase().startsWith(lower)) : [];
  if (longer.length === 1) return longer[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** `unknown key (did you mean x.y?)`, or the keys there are when none is close. */
export function unknownKey(path: string, key: string, known: string[]): string {
  const hint = closest(key, known);
  const where = join(path, key);
  if (hint) return `${where}: unknown key (did you mean ${join(path, hint)}?)`;
  return `${where}: unknown key${known.length && known.length <= 30 ? ` (one of ${known.join(', ')})` : ''}`;
}

function readMapping(s: Schema, v: unknown, path: string, o: CheckOptions, problems: string[]): unknown {
  const at = path || 'value';
  if (!isMapping(v)) {
    problems.push(`${at}: must be ${s.hint ?? describe(s)}, got ${shown(s, v)}`);
    return v;
  }
  const out: Record<string, unknown> = {};
  if (s.minProperties !== undefined && Object.keys(v).length < s.minProperties) {
    problems.push(`${at}: at least ${s.minProperties} ${s.minProperties === 1 ? 'key' : 'keys'}${s.hint ? ` (${s.hint})` : ''}, got ${Object.keys(v).length}`);
  }
  if (s[Kind] === 'Record') {
    const [pattern, rule] = Object.entries(s.patternProperties ?? {})[0] ?? ['', { [Kind]: 'Unknown' } as Schema];
    const keyRule = new RegExp(pattern, 'u');
    for (const [k, item] of Object.entries(v)) {
      if (!keyRule.test(k)) problems.push(`${join(path, k)}: not an allowed key${s.hint ? ` (${s.hint})` : ''}`);
      else out[k] = read(rule, item, join(path, k), o, problems);
    }
    return out;
  }
  const props = s.properties ?? {};
  const known = Object.keys(props);
  for (const [k, item] of Object.entries(v)) {
    if (!Object.hasOwn(props, k)) {
      if (s.additionalProperties === false || s.additionalProperties === undefined) problems.push(unknownKey(path, k, known));
      else out[k] = item;
      continue;
    }
    if (item === undefined) continue;
    out[k] = read(props[k]!, item, join(path, k), o, problems);
  }
  for (const k of known) {
    if (Object.hasOwn(out, k)) continue;
    const rule = props[k]!;
    if (rule.default !== undefined) out[k] = structuredClone(rule.default);
    else if (!o.partial && (s.required ?? []).includes(k) && rule[OptionalKind] !== 'Optional') {
      problems.push(`${join(path, k)}: required${rule.hint ? `: ${rule.hint}` : ''}`);
    }
  }
  return out;
}
