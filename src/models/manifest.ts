// The signed list of detector models a province's relay offers its edges.
//
// Format 'eseal-models/1' (served as GET /eseal/models/manifest.json):
//   {
//     "format":    "eseal-models/1",
//     "issuedAt":  "2025-01-31T08:00:00.000Z",         ISO 8601 UTC; grows with every publication
//     "publisher": "eseal-relay@host",                  who signed it, for people (not checked)
//     "models": [{                                      at most one entry per name, sorted by name
//       "name":     "default",                          [A-Za-z0-9._-]{1,64}, what an edge asks for
//       "version":  "2025.01.31",                       [A-Za-z0-9._+-]{1,64}, unique per name
//       "file":     "<sm3>.onnx",                       always the SM3 below + ".onnx"
//       "bytes":    12345678,                           exact size of the file
//       "sm3":      "<64 lowercase hex>",               SM3 of the file's bytes
//       "inputSize": 512,                               the square input the model takes
//       "layout":   "nchw" | "nhwc",                    input tensor layout
//       "decoder":  "centernet" | "boxes",              how the outputs are read
//       "classes":  { "0": "person", "2": "vehicle" },  model class id → the analyses' class
//       "normalisation": { "mean": [r,g,b], "std": [r,g,b] }   input = (pixel 0…255 − mean) / std
//     }],
//     "bindings": [{                                    optional: which model a device follows
//       "target": { "device": "edge-01" } | { "account": "mine001" } | { "mine": "140421007866" },
//       "model":  "night"                               a name listed in models
//     }],
//     "signature": { "algorithm": "SM2-with-SM3", "publicKey": "04…", "value": "<hex DER>" }
//   }
//
// An edge follows the binding that matches it most closely (device, then account, then mine) over
// its configured edge.models.name (bindingFor). A manifest without `bindings` signs and verifies
// byte for byte as before, and edges older than bindings ignore the member.
//
// The signature is SM2 (GM/T 0003.2) with SM3 and the standard user id 1234567812345678 over the
// UTF-8 bytes of the canonical JSON of the manifest without its `signature` member. Canonical JSON:
// object keys sorted by UTF-16 code units, no whitespace, strings and numbers as JSON.stringify
// writes them (for JSON data this is RFC 8785). The value is the DER SEQUENCE {r, s}, so an operator
// can check a manifest by hand:
//   openssl dgst -sm3 -verify pub.pem -sigopt distid:1234567812345678 -signature sig.der body.json
// Unknown members are tolerated (and covered by the signature), so later versions may add some.
import smCrypto from 'sm-crypto';
import { OneOf, Pattern, Type, check, pathOf, type TSchema } from '../config/rules.ts';
import { parsePublicKey, publicKeyFromPrivateKey } from '../crypto/sm2.ts';
import { ManifestBadSignature, ManifestMalformed, ManifestUnsigned, ManifestWrongKey } from './errors.ts';

export const MANIFEST_FORMAT = 'eseal-models/1';
export const SIGNATURE_ALGORITHM = 'SM2-with-SM3';
/** GM/T 0009's default signer id; sm-crypto and OpenSSL use it when none is given */
export const SM2_DEFAULT_USER_ID = '1234567812345678';

/** The registry's routes on the relay (outside the national API's paths). */
export const MODEL_PATHS = {
  manifest: '/eseal/models/manifest.json',
  filePrefix: '/eseal/models/files/',
  file: (sm3: string): string => `${MODEL_PATHS.filePrefix}${modelFileName(sm3)}`,
} as const;

/** the classes the edge's analyses use (edge/types.ts ObjectClass) */
export const OBJECT_CLASSES = ['person', 'vehicle'] as const;
export type ObjectClassName = (typeof OBJECT_CLASSES)[number];
export const MODEL_LAYOUTS = ['nchw', 'nhwc'] as const;
export const MODEL_DECODERS = ['centernet', 'boxes'] as const;
export type ModelLayout = (typeof MODEL_LAYOUTS)[number];
export type ModelDecoder = (typeof MODEL_DECODERS)[number];

export const MODEL_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** an edge's device id (edge.deviceId, the heartbeat's deviceId) */
export const DEVICE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
/** a mine account's name as a binding target (relay/auth/AccountStore.ts's rule) */
export const ACCOUNT_NAME = /^[^\u0000-\u001f\u007f\s:]{1,64}$/u;
/** a mine id as a binding target (the national 12-character code) */
export const MINE_ID = /^[A-Za-z0-9]{12}$/;
/** the most bindings one manifest holds */
export const MAX_BINDINGS = 10_000;
export const MODEL_VERSION = /^[A-Za-z0-9._+-]{1,64}$/;
const SM3_HEX = /^[0-9a-f]{64}$/;
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/;
const PUBLIC_KEY_HEX = /^04[0-9a-fA-F]{128}$/;
/** a DER SEQUENCE of two INTEGERs of at most 33 bytes each */
const SIGNATURE_HEX = /^30[0-9a-fA-F]{12,142}$/;

export interface Normalisation {
  mean: [number, number, number];
  std: [number, number, number];
}

export interface ModelEntry {
  name: string;
  version: string;
  /** `<sm3>.onnx` */
  file: string;
  bytes: number;
  sm3: string;
  inputSize: number;
  layout: ModelLayout;
  decoder: ModelDecoder;
  /** model class id (decimal) → the class the analyses use */
  classes: Record<string, ObjectClassName>;
  normalisation: Normalisation;
}

export type BindingTarget = { device: string } | { account: string } | { mine: string };

export interface ModelBinding {
  target: BindingTarget;
  /** a name listed in the manifest's models */
  model: string;
}

export interface UnsignedManifest {
  format: typeof MANIFEST_FORMAT;
  issuedAt: string;
  publisher: string;
  models: ModelEntry[];
  /** absent in manifests without bindings (and so in every manifest before bindings existed) */
  bindings?: ModelBinding[];
}

/** Who asks which model to run: the parts of an edge's identity a binding may name. */
export interface BindingSubject {
  deviceId?: string;
  account?: string;
  mineId?: string;
}

/** The binding that applies to `who`: device over account over mine; undefined when none does. */
export function bindingFor(manifest: Pick<UnsignedManifest, 'bindings'>, who: BindingSubject): ModelBinding | undefined {
  const list = manifest.bindings ?? [];
  const by = (key: 'device' | 'account' | 'mine', value: string | undefined) =>
    value === undefined ? undefined : list.find((b) => (b.target as Record<string, string>)[key] === value);
  return by('device', who.deviceId) ?? by('account', who.account) ?? by('mine', who.mineId);
}

/** 'device edge-01', 'account mine001', 'mine 140421007866': for messages and tables. */
export function describeTarget(target: BindingTarget): string {
  const [key, value] = Object.entries(target)[0] ?? ['?', '?'];
  return `${key} ${value}`;
}

export interface ManifestSignature {
  algorithm: typeof SIGNATURE_ALGORITHM;
  /** uncompressed 04‖x‖y, hex */
  publicKey: string;
  /** DER SEQUENCE {r, s}, hex */
  value: string;
}

export interface ModelManifest extends UnsignedManifest {
  signature: ManifestSignature;
}

export function modelFileName(sm3: string): string {
  return `${sm3}.onnx`;
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON

/** The one serialisation signatures cover; throws on values JSON cannot carry. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${value} is not a JSON number`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON: a ${typeof value} is not a JSON value`);
}

/** The bytes a manifest's signature covers: its canonical JSON without `signature`. */
export function signedBytes(manifest: object): Buffer {
  const { signature: _omit, ...body } = manifest as Record<string, unknown>;
  return Buffer.from(canonicalJson(body), 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Shape checks: one schema, every problem at once, each naming the path of the field at fault

const rgb = (hint: string) => Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { hint });

const ModelEntrySchema = Type.Object(
  {
    name: Pattern(MODEL_NAME, 'letters, digits, . _ - (1 to 64)'),
    version: Pattern(MODEL_VERSION, 'letters, digits, . _ + - (1 to 64)'),
    /** `<sm3>.onnx`, checked against sm3 below */
    file: Type.String(),
    bytes: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    sm3: Pattern(SM3_HEX, '64 lowercase hex digits'),
    inputSize: Type.Integer({ minimum: 16, maximum: 4096 }),
    layout: OneOf(MODEL_LAYOUTS),
    decoder: OneOf(MODEL_DECODERS),
    classes: Type.Record(Type.String({ pattern: '^(0|[1-9]\\d{0,3})$' }), OneOf(OBJECT_CLASSES), {
      minProperties: 1,
      hint: 'class ids 0 to 9999, each mapped to person or vehicle',
    }),
    normalisation: Type.Object({ mean: rgb('three numbers (r, g, b)'), std: rgb('three non-zero numbers (r, g, b)') }, { additionalProperties: true }),
  },
  { additionalProperties: true },
);

const BindingTargetSchema = Type.Union(
  [
    Type.Object({ device: Pattern(DEVICE_ID, 'a device id of letters, digits, . _ : - (1 to 64)') }, { additionalProperties: false }),
    Type.Object({ account: Pattern(ACCOUNT_NAME, 'an account name (1 to 64 characters, no white space or colon)') }, { additionalProperties: false }),
    Type.Object({ mine: Pattern(MINE_ID, 'a 12-character mine id') }, { additionalProperties: false }),
  ],
  { hint: 'exactly one of {device: ID}, {account: NAME}, {mine: ID}' },
);

export const ModelBindingSchema = Type.Object(
  { target: BindingTargetSchema, model: Pattern(MODEL_NAME, 'a model name of letters, digits, . _ - (1 to 64)') },
  { additionalProperties: false },
);

export const BindingsSchema = Type.Array(ModelBindingSchema, { maxItems: MAX_BINDINGS });

const BodySchema = Type.Object(
  {
    format: Type.Literal(MANIFEST_FORMAT),
    issuedAt: Pattern(ISO_UTC, 'an ISO 8601 UTC time (…Z)'),
    publisher: Pattern(/^.{1,200}$/su, 'text of 1 to 200 characters'),
    models: Type.Array(ModelEntrySchema),
    bindings: Type.Optional(BindingsSchema),
  },
  { additionalProperties: true },
);

const SignatureSchema = Type.Object(
  {
    algorithm: Type.Literal(SIGNATURE_ALGORITHM),
    publicKey: Pattern(PUBLIC_KEY_HEX, 'an uncompressed SM2 public key, 04 and 128 hex digits'),
    value: Pattern(SIGNATURE_HEX, 'a hex DER SM2 signature'),
  },
  { additionalProperties: true },
);

/** Checks `v` against `schema`, then the rules between fields; throws ESEAL_ERR_MODEL_MANIFEST listing every problem. */
function checked<T>(schema: TSchema, v: unknown, path: string, rules: (value: T, problems: string[]) => void = () => {}): T {
  const { value, problems } = check(schema, v, path);
  if (!problems.length) rules(value as T, problems);
  if (problems.length) throw ManifestMalformed(`model manifest: ${problems.join('; ')}`, { field: pathOf(problems[0]!), detail: { problems } });
  return value as T;
}

function entryRules(m: ModelEntry, at: string, problems: string[]): void {
  const prefix = at ? `${at}.` : '';
  if (m.file !== modelFileName(m.sm3)) problems.push(`${prefix}file: must be ${modelFileName(m.sm3)} (the SM3 of the file), got ${JSON.stringify(m.file)}`);
  if (m.normalisation.std.includes(0)) problems.push(`${prefix}normalisation.std: three non-zero numbers (r, g, b), got ${JSON.stringify(m.normalisation.std)}`);
}

/** The entry's own fields (later versions may add others). */
function entryOf(m: ModelEntry): ModelEntry {
  const { name, version, file, bytes, sm3, inputSize, layout, decoder, classes, normalisation } = m;
  return { name, version, file, bytes, sm3, inputSize, layout, decoder, classes, normalisation: { mean: normalisation.mean, std: normalisation.std } };
}

/**
 * The rules between bindings and models: each names a listed model, no target twice. Pushes one
 * problem per fault, each naming `<path>[i]…`.
 */
export function bindingRules(bindings: readonly ModelBinding[], models: readonly Pick<ModelEntry, 'name'>[], path: string, problems: string[]): void {
  const names = new Set(models.map((m) => m.name));
  const seen = new Set<string>();
  bindings.forEach((b, i) => {
    if (!names.has(b.model)) {
      problems.push(`${path}[${i}].model: no model ${JSON.stringify(b.model)} is published (published: ${[...names].join(', ') || 'none'})`);
    }
    const key = describeTarget(b.target);
    if (seen.has(key)) problems.push(`${path}[${i}].target: ${key} is bound twice`);
    seen.add(key);
  });
}

/** Checks a list of bindings against the models; throws ESEAL_ERR_MODEL_MANIFEST naming the first field at fault. */
export function checkBindings(v: unknown, models: readonly Pick<ModelEntry, 'name'>[], path = 'bindings'): ModelBinding[] {
  const list = checked<ModelBinding[]>(BindingsSchema, v, path, (b, problems) => bindingRules(b, models, path, problems));
  return list.map(bindingOf);
}

function bindingOf(b: ModelBinding): ModelBinding {
  const [key, value] = Object.entries(b.target)[0]!;
  return { target: { [key]: value } as BindingTarget, model: b.model };
}

/** Checks one entry of `models`; `path` like 'models[0].'. */
export function checkModelEntry(v: unknown, path = ''): ModelEntry {
  const at = path.replace(/\.$/, '');
  return entryOf(checked<ModelEntry>(ModelEntrySchema, v, at, (m, problems) => entryRules(m, at, problems)));
}

function checkBody(v: unknown): UnsignedManifest {
  if (!isRecord(v)) bad('manifest', 'a JSON object');
  const body = checked<UnsignedManifest>(BodySchema, v, '', (b, problems) => {
    if (Number.isNaN(Date.parse(b.issuedAt))) problems.push(`issuedAt: not a real time: ${b.issuedAt}`);
    const seen = new Set<string>();
    b.models.forEach((m, i) => {
      entryRules(m, `models[${i}]`, problems);
      if (seen.has(m.name)) problems.push(`models[${i}].name: ${m.name} is listed twice`);
      seen.add(m.name);
    });
    if (b.bindings) bindingRules(b.bindings, b.models, 'bindings', problems);
  });
  return {
    format: MANIFEST_FORMAT,
    issuedAt: body.issuedAt,
    publisher: body.publisher,
    models: body.models.map(entryOf),
    ...(body.bindings ? { bindings: body.bindings.map(bindingOf) } : {}),
  };
}

function checkSignature(v: unknown): ManifestSignature {
  if (v === undefined || v === null) throw ManifestUnsigned('model manifest: signature: missing; refusing an unsigned manifest', { field: 'signature' });
  const { publicKey, value } = checked<ManifestSignature>(SignatureSchema, v, 'signature');
  return { algorithm: SIGNATURE_ALGORITHM, publicKey: publicKey.toLowerCase(), value: value.toLowerCase() };
}

function bad(path: string, rule: string): never {
  throw ManifestMalformed(`model manifest: ${path}: ${rule}`, { field: path });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// Parse, sign, verify

/**
 * Parses manifest JSON and checks its shape; the signature, if any, is checked for form only.
 * Use verifyManifest before trusting anything in it.
 */
export function parseManifest(json: string | Buffer): UnsignedManifest & { signature?: ManifestSignature } {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof json === 'string' ? json : json.toString('utf8'));
  } catch (cause) {
    throw ManifestMalformed(`model manifest: not JSON (${(cause as Error).message})`, { field: 'manifest', cause });
  }
  const body = checkBody(raw);
  const sig = (raw as Record<string, unknown>)['signature'];
  return sig === undefined ? body : { ...body, signature: checkSignature(sig) };
}

/** Signs a manifest body (any `signature` in it is replaced) with the publisher's SM2 private key. */
export function signManifest(unsigned: UnsignedManifest, privateKeyHex: string): ModelManifest {
  const { signature: _old, ...rest } = unsigned as UnsignedManifest & { signature?: unknown };
  checkBody(rest);
  const publicKey = publicKeyFromPrivateKey(privateKeyHex);
  const value = smCrypto.sm2.doSignature(signedBytes(rest), privateKeyHex.padStart(64, '0'), {
    hash: true,
    der: true,
    publicKey,
    userId: SM2_DEFAULT_USER_ID,
  });
  return { ...rest, signature: { algorithm: SIGNATURE_ALGORITHM, publicKey, value } };
}

/**
 * The manifest, once its signature verifies under `trustedPublicKey` (any form parsePublicKey
 * takes). Throws ESEAL_ERR_MODEL_UNSIGNED, _KEY (signed by another key), _SIGNATURE (does not
 * verify: tampered) or _MANIFEST (a field breaks its rule, with its path). The signature is
 * checked before the fields, so any change to a signed manifest reads as tampering.
 */
export function verifyManifest(manifest: unknown, trustedPublicKey: string): ModelManifest {
  if (!isRecord(manifest)) bad('manifest', 'a JSON object');
  const signature = checkSignature(manifest['signature']);
  const trusted = parsePublicKey(trustedPublicKey);
  if (signature.publicKey !== trusted) {
    throw ManifestWrongKey(
      `model manifest: signed by ${signature.publicKey.slice(0, 18)}…, not by the trusted key ${trusted.slice(0, 18)}…; ` +
        'check edge.models.publicKey against `eseal models key` on the relay',
      { field: 'signature.publicKey' },
    );
  }
  let bytes: Buffer;
  try {
    bytes = signedBytes(manifest);
  } catch (cause) {
    bad('manifest', `not plain JSON data (${(cause as Error).message})`);
  }
  if (!smCrypto.sm2.doVerifySignature(bytes, signature.value, trusted, { hash: true, der: true, userId: SM2_DEFAULT_USER_ID })) {
    throw ManifestBadSignature('model manifest: the signature does not match its content (altered after signing?); refusing it', {
      field: 'signature.value',
    });
  }
  return { ...checkBody(manifest), signature };
}
