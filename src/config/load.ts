import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { defineError } from '../errors.ts';
import { CONFIG_RULES, DEFAULT_CONFIG, ENV_KEYS, type EsealConfig } from './schema.ts';

export const InvalidConfig = defineError('ESEAL_ERR_CONFIG_INVALID', 500, 'the configuration file or an ESEAL_* variable is wrong');

export interface LoadConfigOptions {
  /** YAML file path */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** overrides applied last, by dotted key (used by tests and subcommands) */
  set?: Record<string, string | number>;
}

type Tree = { [k: string]: unknown };

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function closest(key: string, candidates: string[]): string | undefined {
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

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const p of parts.slice(0, -1)) node = node[p] as Tree;
  node[parts[parts.length - 1]!] = value;
}

/** Walks a user tree against the defaults' shape, collecting leaf values by dotted path. */
function flatten(user: Tree, shape: Tree, prefix: string, out: Map<string, unknown>, errors: string[]): void {
  for (const [k, v] of Object.entries(user)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (!Object.hasOwn(shape, k)) {
      const hint = closest(k, Object.keys(shape));
      errors.push(`${path}: unknown key${hint ? ` (did you mean ${prefix ? prefix + '.' : ''}${hint}?)` : ''}`);
      continue;
    }
    const s = shape[k];
    if (isTree(s)) {
      if (!isTree(v)) errors.push(`${path}: must be a mapping with keys ${Object.keys(s).join(', ')}`);
      else flatten(v, s, path, out, errors);
    } else {
      out.set(path, v);
    }
  }
}

function coerce(path: string, raw: unknown, errors: string[]): unknown {
  const rule = CONFIG_RULES[path];
  if (!rule) {
    errors.push(`${path}: unknown key`);
    return undefined;
  }
  if (rule.type === 'mappingList') {
    if (!Array.isArray(raw) || raw.some((item) => !isTree(item))) {
      errors.push(`${path}: must be a list of mappings (one per entry, each with its keys), got ${JSON.stringify(raw)?.slice(0, 80)}`);
      return undefined;
    }
    if (raw.length > rule.max) {
      errors.push(`${path}: at most ${rule.max} entries, got ${raw.length}`);
      return undefined;
    }
    return raw;
  }
  if (rule.type === 'intList' || rule.type === 'stringList') {
    const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',').map((x) => x.trim()).filter(Boolean) : undefined;
    if (!items) {
      errors.push(`${path}: must be a list (or a comma-separated string), got ${JSON.stringify(raw)}`);
      return undefined;
    }
    const out: (number | string)[] = [];
    for (const item of items) {
      if (rule.type === 'intList') {
        const n = typeof item === 'string' && /^\d+$/.test(item) ? Number(item) : item;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < rule.min || n > rule.max) {
          errors.push(`${path}: each must be a whole number between ${rule.min} and ${rule.max}, got ${JSON.stringify(item)}`);
          return undefined;
        }
        out.push(n);
      } else {
        if (typeof item !== 'string' || !rule.pattern.test(item) || (rule.oneOf && !rule.oneOf.includes(item))) {
          errors.push(`${path}: each must be ${rule.hint}, got ${JSON.stringify(item)}`);
          return undefined;
        }
        out.push(item);
      }
    }
    return out;
  }
  if (rule.type === 'int') {
    const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      errors.push(`${path}: must be a whole number, got ${JSON.stringify(raw)}`);
      return undefined;
    }
    if (n < rule.min || n > rule.max) {
      errors.push(`${path}: must be between ${rule.min} and ${rule.max}, got ${n}`);
      return undefined;
    }
    return n;
  }
  const s = typeof raw === 'number' ? String(raw) : raw;
  if (typeof s !== 'string') {
    errors.push(`${path}: must be a string, got ${JSON.stringify(raw)}`);
    return undefined;
  }
  const shown = rule.secret ? '(hidden)' : JSON.stringify(s);
  if (rule.oneOf && !rule.oneOf.includes(s)) {
    errors.push(`${path}: must be one of ${rule.oneOf.join(', ')}, got ${shown}`);
    return undefined;
  }
  if (rule.pattern && !rule.pattern.test(s)) {
    errors.push(`${path}: must be ${rule.hint ?? `like ${rule.pattern}`}, got ${shown}`);
    return undefined;
  }
  return s;
}

/** Defaults ← YAML file ← ESEAL_* environment ← `set`. Throws ESEAL_ERR_CONFIG_INVALID listing every mistake. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<EsealConfig> {
  const errors: string[] = [];
  const values = new Map<string, unknown>();
  const where = new Map<string, string>();

  if (options.file) {
    let text: string;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (err) {
      throw InvalidConfig(`--config ${options.file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
    }
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length) {
      throw InvalidConfig(`${options.file}: not valid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    }
    const user = doc.toJS() as unknown;
    if (user !== null && user !== undefined) {
      if (!isTree(user)) throw InvalidConfig(`${options.file}: must be a YAML mapping at the top level`);
      const fileValues = new Map<string, unknown>();
      flatten(user, DEFAULT_CONFIG as unknown as Tree, '', fileValues, errors);
      for (const [k, v] of fileValues) {
        values.set(k, v);
        where.set(k, options.file);
      }
    }
  }

  const env = options.env ?? process.env;
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      values.set(key, v);
      where.set(key, name);
    }
  }
  // Certificate files given alone mean "use these files".
  if ((values.has('relay.tls.cert') || values.has('relay.tls.key')) && !values.has('relay.tls.mode')) values.set('relay.tls.mode', 'files');

  for (const [k, v] of Object.entries(options.set ?? {})) {
    values.set(k, v);
    where.set(k, 'override');
  }

  const config = structuredClone(DEFAULT_CONFIG) as unknown as Tree;
  for (const [k, raw] of values) {
    const errs: string[] = [];
    const v = coerce(k, raw, errs);
    const src = where.get(k);
    errors.push(...errs.map((e) => (src && src !== options.file ? `${e} (from ${src})` : e)));
    if (errs.length === 0) setPath(config, k, v);
  }

  const c = config as unknown as EsealConfig;
  if (c.disk.lowWatermarkPercent >= c.disk.highWatermarkPercent) {
    errors.push(`disk.lowWatermarkPercent: must be below disk.highWatermarkPercent (${c.disk.highWatermarkPercent}), got ${c.disk.lowWatermarkPercent}`);
  }
  if (c.forward.retry.baseSeconds > c.forward.retry.maxSeconds) {
    errors.push(`forward.retry.baseSeconds: must not exceed forward.retry.maxSeconds (${c.forward.retry.maxSeconds})`);
  }
  if (c.relay.tls.mode === 'files' && (!c.relay.tls.cert || !c.relay.tls.key)) {
    errors.push('relay.tls: mode files needs both relay.tls.cert and relay.tls.key (ESEAL_RELAY_TLS_CERT, ESEAL_RELAY_TLS_KEY)');
  }
  if (errors.length) {
    throw InvalidConfig(`configuration${options.file ? ` (${options.file})` : ''} has ${errors.length} problem(s):\n  ${errors.join('\n  ')}`);
  }
  return c;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  if (!m) throw InvalidConfig(`relay.listen: must be host:port, got ${JSON.stringify(listen)}`);
  const port = Number(m[3]);
  if (port > 65535) throw InvalidConfig(`relay.listen: port must be at most 65535, got ${port}`);
  return { host: (m[1] ?? m[2])!, port };
}
