// The appliance's configuration: embedded defaults ← a YAML file (`--config`) ← ESEAL_* environment
// variables ← overrides by dotted key (tests, subcommands). The kernel owns the mechanism and its
// own keys (kernel.ts); each role brings its part as a ConfigSection from its manifest, so the
// kernel never names a role's keys. Every mistake is reported at once, with its key's full path.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { TObject } from '@sinclair/typebox';
import { defineError } from '../errors.ts';
import { Type, check, ruleAt } from './rules.ts';

export const InvalidConfig = defineError('ESEAL_ERR_CONFIG_INVALID', 500, 'the configuration file or an ESEAL_* variable is wrong');

/** One part of the configuration: the top-level keys it owns, their rules and defaults. */
export interface ConfigSection<C = unknown> {
  /** an object schema whose properties are the top-level keys this part owns */
  schema: TObject;
  /** a value for every key of `schema` */
  defaults: object;
  /** environment variables and the dotted key each sets */
  env?: Record<string, string>;
  /**
   * Rules across keys, once every key passed its own; may also settle values that follow from
   * others. `given` holds the dotted keys set by the file, the environment or an override.
   */
  finish?(config: C, given: ReadonlySet<string>): string[];
}

export interface LoadConfigOptions {
  /** YAML file path */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** overrides applied last, by dotted key (used by tests and subcommands) */
  set?: Record<string, string | number | boolean>;
}

type Tree = { [k: string]: unknown };

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Mappings merge key by key; anything else (lists included) replaces. */
function merge(into: Tree, from: Tree, path: string, given: Set<string>): void {
  for (const [k, v] of Object.entries(from)) {
    const p = path ? `${path}.${k}` : k;
    if (isTree(v) && isTree(into[k])) merge(into[k] as Tree, v, p, given);
    else {
      into[k] = v;
      given.add(p);
    }
  }
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const p of parts.slice(0, -1)) node = node[p] as Tree;
  node[parts[parts.length - 1]!] = value;
}

/** The sections as one: their schema, their defaults, their environment variables. */
export function combineSections(sections: readonly ConfigSection<never>[]): { schema: TObject; defaults: Tree; env: Record<string, string> } {
  const properties: Record<string, TObject['properties'][string]> = {};
  const defaults: Tree = {};
  const env: Record<string, string> = {};
  for (const s of sections) {
    for (const [k, rule] of Object.entries(s.schema.properties)) {
      if (Object.hasOwn(properties, k)) throw new Error(`configuration key ${k} is claimed by two sections`);
      properties[k] = rule;
      defaults[k] = structuredClone((s.defaults as Tree)[k]);
    }
    Object.assign(env, s.env ?? {});
  }
  return { schema: Type.Object(properties), defaults, env };
}

/** Defaults ← YAML file ← ESEAL_* environment ← `set`. Throws ESEAL_ERR_CONFIG_INVALID listing every mistake. */
export async function loadConfig<C>(sections: readonly ConfigSection<never>[], options: LoadConfigOptions = {}): Promise<C> {
  const { schema, defaults, env: envKeys } = combineSections(sections);
  const errors: string[] = [];
  const config = defaults;
  const given = new Set<string>();

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
      const read = check(schema, user, '', { partial: true });
      errors.push(...read.problems);
      merge(config, read.value as Tree, '', given);
    }
  }

  const overrides: [key: string, value: unknown, from: string][] = [];
  const env = options.env ?? process.env;
  for (const [name, key] of Object.entries(envKeys)) {
    const v = env[name];
    if (v !== undefined && v !== '') overrides.push([key, v, name]);
  }
  for (const [k, v] of Object.entries(options.set ?? {})) overrides.push([k, v, 'override']);
  for (const [key, raw, from] of overrides) {
    const rule = ruleAt(schema, key);
    if (!rule) {
      errors.push(`${key}: unknown key (from ${from})`);
      continue;
    }
    const read = check(rule, raw, key, { coerce: true });
    errors.push(...read.problems.map((p) => `${p} (from ${from})`));
    if (!read.problems.length) {
      setPath(config, key, read.value);
      given.add(key);
    }
  }

  if (!errors.length) for (const s of sections) errors.push(...(s.finish?.(config as never, given) ?? []));
  if (errors.length) {
    throw InvalidConfig(`configuration${options.file ? ` (${options.file})` : ''} has ${errors.length} problem(s):\n  ${errors.join('\n  ')}`);
  }
  return config as C;
}

/** `host:port` or `[v6]:port` of a listen key; `key` names it in the error. */
export function parseListen(listen: string, key = 'relay.listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  if (!m) throw InvalidConfig(`${key}: must be host:port, got ${JSON.stringify(listen)}`);
  const port = Number(m[3]);
  if (port > 65535) throw InvalidConfig(`${key}: port must be at most 65535, got ${port}`);
  return { host: (m[1] ?? m[2])!, port };
}
