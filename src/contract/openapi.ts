// The national API as an OpenAPI 3.0.3 document, built from the contract's own tables (endpoints,
// field rules, codes, time formats, file names, tus, envelope) so that what mine integrators read
// is what the validators check: no path, field, pattern or code is written here a second time.
// 3.0.3 rather than 3.1: the code generators integrators use (Java, C#) read it best.
//
// The document is generic over the error catalogue: a server passes the error kinds it answers
// (src/ cannot know relay/'s catalogue), per family of operation, with the status it answers each.
import { AI_TYPES, AI_TYPE_CODES, BELT_STATUSES, BELT_STATUS_CODES, CAMERA_ALARM, CAMERA_PLACES, LENGTHS, RESPONSE_CODES } from './codes.ts';
import {
  API_PREFIX,
  AUTH_PATHS,
  EVIDENCE_ENDPOINTS,
  LANES,
  QUERY_ENDPOINTS,
  RECORD_ENDPOINTS,
  type Endpoint,
  type FieldRule,
  type FieldSpec,
  type FileNameForm,
  type QueryEndpoint,
  type RecordEndpoint,
} from './endpoints.ts';
import { AUTH_FAILURES, SUCCESS, type TokenAnswer } from './envelope.ts';
import { BARE_HOST_PORT, FLAG_KINDS, type FlagKind, type RecordValue } from './fields.ts';
import { EVIDENCE_EXTENSION, fileNameLayout, formatEvidenceFileName } from './fileName.ts';
import { TIME_FORMATS } from './time.ts';
import {
  CHECKSUM_ALGORITHMS,
  DEFAULT_VIDEO_TYPE,
  KIND_NAMES,
  OFFSET_OCTET_STREAM,
  TUS_EXTENSIONS,
  TUS_PATH,
  TUS_VERSION,
  UPLOAD_ID,
} from './tus.ts';

/** A JSON value of the document (schemas, operations, responses): plain data, served as it is. */
export type Json = { [key: string]: unknown };

export interface OpenApiDocument extends Json {
  openapi: '3.0.3';
  info: Json & { title: string; version: string };
  /** operations by method, plus x- extensions of the path item */
  paths: Record<string, Record<string, unknown>>;
  components: Json & { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
}

/** An error kind as the catalogue declares it (src/errors.ts ErrorKind has these). */
export interface ErrorKindInfo {
  readonly code: string;
  readonly statusCode: number;
  readonly summary: string;
}

/** An error a server answers, and the statuses it answers it with where they differ from the catalogue's. */
export interface ErrorAnswer {
  kind: ErrorKindInfo;
  statuses?: readonly number[];
}

/**
 * Operations by what they share: `any` every call of the document, `data` every call with a Bearer
 * token (records, evidence, query, resumable), `token` the login, then one family per kind of call.
 */
export type OperationFamily = 'any' | 'token' | 'data' | 'record' | 'evidence' | 'query' | 'resumable';
export const OPERATION_FAMILIES: readonly OperationFamily[] = ['any', 'token', 'data', 'record', 'evidence', 'query', 'resumable'];

export interface NationalApiDocumentOptions {
  /** the server's version (info.version) */
  version: string;
  /** the error kinds the server answers, by family of operation */
  errors: Partial<Record<OperationFamily, readonly ErrorAnswer[]>>;
  limits: { jsonMaxBytes: number; videoMaxBytes: number };
  /** a time further than this from the server's clock is accepted and flagged */
  clockSkewSeconds: number;
  /** what GET /sm2 returns on this server */
  publicKeyFormat?: 'hex' | 'spki';
  title?: string;
  description?: string;
}

// ---------------------------------------------------------------- patterns from the contract's constants

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const digits = (n: number) => `[0-9]{${n}}`;
const oneOf = (values: readonly string[]) => `(?:${values.map(escapeRegExp).join('|')})`;

const swapCase = (c: string) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());
const isLetter = (c: string | undefined) => c !== undefined && /^[A-Za-z]$/.test(c);

/**
 * The source of a regular expression written with the i flag, rewritten to match the same without
 * it: letters become [Xx], classes gain the other case (a-z: a-zA-Z). Escapes (\d, \[) are kept.
 */
export function caselessSource(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      out += c + (source[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') {
        inClass = false;
        out += c;
      } else if (isLetter(c) && source[i + 1] === '-' && isLetter(source[i + 2])) {
        const hi = source[i + 2]!;
        out += `${c}-${hi}${swapCase(c)}-${swapCase(hi)}`;
        i += 2;
      } else {
        out += isLetter(c) ? c + swapCase(c) : c;
      }
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else {
      out += isLetter(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c;
    }
  }
  return out;
}

/** A literal matched in either case, without a flag (JSON Schema patterns have none). */
const caseless = (text: string) => caselessSource(escapeRegExp(text));

const TIME_TOKENS = ['yyyy', 'MM', 'dd', 'HH', 'mm', 'ss'] as const;

/**
 * A pattern for a time format of time.ts (`yyyy-MM-dd HH:mm:ss`, `yyyyMMddHHmmss`) that accepts
 * exactly the real dates parseJsonTime/parseFileTime accept: years from 2000, days of each month,
 * 29 February in leap years only, 24-hour clock.
 */
export function timePattern(format: string): string {
  const seps: string[] = [];
  let rest = format;
  for (const token of TIME_TOKENS) {
    const at = rest.indexOf(token);
    if (at < 0) throw new Error(`time format ${format} lacks ${token}`);
    seps.push(escapeRegExp(rest.slice(0, at)));
    rest = rest.slice(at + token.length);
  }
  const [, ym, md, dh, hm, ms] = seps as [string, string, string, string, string, string];
  const year = '[2-9][0-9]{3}';
  const leapYear = '(?:[2-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[3579][26])00)';
  const monthDay =
    `(?:(?:0[13578]|1[02])${md}(?:0[1-9]|[12][0-9]|3[01])` +
    `|(?:0[469]|11)${md}(?:0[1-9]|[12][0-9]|30)` +
    `|02${md}(?:0[1-9]|1[0-9]|2[0-8]))`;
  const date = `(?:${year}${ym}${monthDay}|${leapYear}${ym}02${md}29)`;
  return `${seps[0]}${date}${dh}(?:[01][0-9]|2[0-3])${hm}[0-5][0-9]${ms}[0-5][0-9]${escapeRegExp(rest)}`;
}

/** The pattern an evidence file name of `form` follows (table 5-25), as checkEvidenceFileName reads it. */
export function fileNamePattern(form: FileNameForm): string {
  const middle = form === 'count' ? digits(LENGTHS.count) : form === 'belt' ? oneOf(BELT_STATUS_CODES) : '';
  // the stem is digits only; any aiTypeCode of the table is taken (one unusual for the endpoint is flagged)
  return (
    `^${digits(LENGTHS.mineId)}${digits(LENGTHS.cameraId)}${oneOf(AI_TYPE_CODES)}${middle}` +
    `${timePattern(TIME_FORMATS.file)}${caseless(EVIDENCE_EXTENSION)}$`
  );
}

/** the flag's meaning is in the document's x-eseal-flags */
const flagNote = (kind: FlagKind) => `accepted and flagged ${kind}`;

/** Integers a zero-padded code field takes too (normalised), e.g. 1 for "01". */
function codeNumbers(codes: readonly string[]): number[] {
  return codes.map(Number);
}

export interface FieldRuleSchema {
  /** what the guide asks for: send this */
  schema: Json;
  /** what the relay takes besides, normalises to `schema` and flags */
  accepted?: Json;
  example: RecordValue;
}

const CAMERA_LIST = Object.entries(CAMERA_PLACES)
  .map(([tens, p]) => `${tens}0 ${p.name} ${p.zh}`)
  .join(', ');
const AI_LIST = Object.entries(AI_TYPES)
  .map(([c, t]) => `${c} ${t.name} ${t.zh}`)
  .join(', ');
const BELT_LIST = Object.entries(BELT_STATUSES)
  .map(([c, t]) => `${c} ${t.name} ${t.zh}`)
  .join(', ');

/** Each field rule of fields.ts as JSON Schema, with its bounds from codes.ts and time.ts. */
export function fieldRuleSchema(rule: FieldRule): FieldRuleSchema {
  const normalised = flagNote('value.normalised');
  switch (rule) {
    case 'mineId':
      return {
        schema: {
          type: 'string',
          pattern: `^[0-9A-Za-z]{${LENGTHS.mineId}}$`,
          description: `${LENGTHS.mineId} characters, the national basic-data code (digits in practice; letters are ${flagNote('mineId.notDigits')})`,
        },
        accepted: { type: 'integer', minimum: 10 ** (LENGTHS.mineId - 1), maximum: 10 ** LENGTHS.mineId - 1, description: normalised },
        example: '140421007866',
      };
    case 'cameraId':
      return {
        schema: {
          type: 'string',
          pattern: `^${digits(LENGTHS.cameraId)}$`,
          description: `${LENGTHS.cameraId} digits; the tens digit names the place (${CAMERA_LIST}), more of a place count up (30, 31). A camera outside the endpoint's usual places is ${flagNote('cameraId.unusual')}`,
        },
        accepted: { type: 'integer', minimum: 0, maximum: 10 ** LENGTHS.cameraId - 1, description: normalised },
        example: '10',
      };
    case 'aiTypeCode':
      return {
        schema: {
          type: 'string',
          enum: [...AI_TYPE_CODES],
          description: `${AI_LIST}. A code other than the endpoint's usual one is ${flagNote('aiTypeCode.unusual')}`,
        },
        accepted: { type: 'integer', enum: codeNumbers(AI_TYPE_CODES), description: normalised },
        example: '01',
      };
    case 'count4':
      return {
        schema: { type: 'string', pattern: `^${digits(LENGTHS.count)}$`, description: `${LENGTHS.count} digits, zero-padded (e.g. "0005")` },
        accepted: { type: 'integer', minimum: 0, maximum: 10 ** LENGTHS.count - 1, description: normalised },
        example: '0001',
      };
    case 'beltStatus':
      return {
        schema: { type: 'string', enum: [...BELT_STATUS_CODES], description: BELT_LIST },
        accepted: { type: 'integer', enum: codeNumbers(BELT_STATUS_CODES), description: normalised },
        example: '0001',
      };
    case 'time':
      return {
        schema: {
          type: 'string',
          pattern: `^${timePattern(TIME_FORMATS.json)}$`,
          description: `${TIME_FORMATS.json}, a real date and time, Beijing time (UTC+8), 24-hour. A time further than the allowed skew from the relay's clock is ${flagNote('time.skew')}`,
        },
        example: '2021-01-04 22:45:15',
      };
    case 'liveUrl':
      return {
        schema: {
          type: 'string',
          minLength: 1,
          maxLength: LENGTHS.liveUrlMax,
          // the bounds a schema can state; the relay also parses the address (WHATWG URL) and wants a host after the slashes
          pattern: `^(?=[^\\s\\u0000-\\u001f\\u007f]*$)(?:${caseless('http')}[Ss]?://[^/\\\\?#]|${caselessSource(BARE_HOST_PORT.source)})`,
          description:
            `the marked MJPEG stream over HTTP: an http:// or https:// address with a host, at most ${LENGTHS.liveUrlMax} characters, no white space. ` +
            `The guide's bare ip:port is ${flagNote('liveUrl.notHttp')}; javascript:, data:, file:, rtsp:// … are refused`,
        },
        example: 'http://192.168.1.10:8080/live/10.mjpeg',
      };
    case 'alarm':
      return {
        schema: {
          type: 'integer',
          enum: Object.values(CAMERA_ALARM).sort(),
          description: `a number: ${CAMERA_ALARM.offline} offline (alarm raised), ${CAMERA_ALARM.online} online (alarm cleared)`,
        },
        accepted: { type: 'string', enum: Object.values(CAMERA_ALARM).sort().map(String), description: normalised },
        example: CAMERA_ALARM.online,
      };
  }
}

/** A field's schema as the document shows it: the rule, the zh name, what is accepted besides. */
function fieldSchema(spec: FieldSpec): Json {
  const r = fieldRuleSchema(spec.rule);
  const out: Json = { ...r.schema, description: `${spec.zh}: ${String(r.schema['description'])}`, 'x-eseal-rule': spec.rule, example: r.example };
  if (r.accepted) out['x-eseal-accepted'] = r.accepted;
  return out;
}

const PLACE_CAMERA: Record<string, string> = Object.fromEntries(Object.entries(CAMERA_PLACES).map(([tens, p]) => [p.name, `${tens}0`]));

function exampleCamera(endpoint: Endpoint): string {
  return endpoint.usualCameras === 'any' ? '10' : (PLACE_CAMERA[endpoint.usualCameras[0]!] ?? '10');
}

function recordExample(endpoint: RecordEndpoint): Json {
  const out: Json = {};
  for (const spec of endpoint.fields) {
    out[spec.name] =
      spec.rule === 'cameraId' ? exampleCamera(endpoint) : spec.rule === 'aiTypeCode' ? (endpoint.aiTypes?.[0] ?? '01') : fieldRuleSchema(spec.rule).example;
  }
  return out;
}

function recordSchema(endpoint: RecordEndpoint): Json {
  return {
    type: 'object',
    description: `${endpoint.zh} (${endpoint.section}). Every field is required; a member the guide does not define is ${flagNote('field.unknown')}`,
    required: endpoint.fields.map((f) => f.name),
    properties: Object.fromEntries(endpoint.fields.map((f) => [f.name, fieldSchema(f)])),
    additionalProperties: true,
    example: recordExample(endpoint),
  };
}

// ---------------------------------------------------------------- envelope and errors (reusable)

/** `{code, msg, data}` (5.2.5): a numeric code and `msg`, as every example of the guide. */
export const ENVELOPE_SCHEMAS: Record<string, Json> = {
  Envelope: {
    type: 'object',
    description: `The answer of every call but GET ${AUTH_PATHS.publicKey} and the token: code ${RESPONSE_CODES.success} success, ${RESPONSE_CODES.failure} failure (token invalid, authentication failure, any refused input), ${RESPONSE_CODES.serverError} server error`,
    required: ['code', 'msg', 'data'],
    properties: {
      code: { type: 'integer', enum: Object.values(RESPONSE_CODES) },
      msg: { type: 'string' },
      data: { nullable: true, description: 'true, an object, or null (a string for auth failures)' },
    },
  },
  Success: {
    type: 'object',
    required: ['code', 'msg', 'data'],
    properties: { code: { type: 'integer', enum: [RESPONSE_CODES.success] }, msg: { type: 'string', enum: [SUCCESS.msg] }, data: { type: 'boolean', enum: [true] } },
    example: SUCCESS,
  },
  Failure: {
    type: 'object',
    description: 'A refusal: `msg` is "<field>: <rule>", naming the field at fault and the rule it breaks (the error code itself is in the relay\'s log and metrics)',
    required: ['code', 'msg', 'data'],
    properties: {
      code: { type: 'integer', enum: [RESPONSE_CODES.failure, RESPONSE_CODES.serverError] },
      msg: { type: 'string' },
      data: { nullable: true },
    },
    example: { code: RESPONSE_CODES.failure, msg: 'mineId: must be 12 characters (the national basic-data code), got 3: "123"', data: null },
  },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The statuses an error is answered with. */
function statusesOf(a: ErrorAnswer): readonly number[] {
  return a.statuses ?? [a.kind.statusCode];
}

/** Envelope bodies the national platform's framework (pig) gives for auth statuses, as examples. */
const STATUS_EXAMPLES: Record<number, unknown> = {
  [AUTH_FAILURES.tokenInvalid.status]: AUTH_FAILURES.tokenInvalid.body('<access_token>'),
  [AUTH_FAILURES.badCredentials.status]: AUTH_FAILURES.badCredentials.body(),
  [AUTH_FAILURES.badClient.status]: AUTH_FAILURES.badClient.body('Authorization: unknown client or wrong client secret in the Basic credentials'),
};

/**
 * One response per status the errors are answered with, each naming its error codes and their
 * meanings; the body is the `Failure` envelope. Reusable by any API of this code base that answers
 * its errors in the envelope (`failureSchema` names the schema to refer to).
 */
export function errorResponses(answers: readonly ErrorAnswer[], failureSchema = 'Failure'): Record<string, Json> {
  const byStatus = new Map<number, ErrorKindInfo[]>();
  for (const a of answers) {
    for (const s of statusesOf(a)) {
      const list = byStatus.get(s) ?? [];
      if (!list.some((k) => k.code === a.kind.code)) list.push(a.kind);
      byStatus.set(s, list);
    }
  }
  const out: Record<string, Json> = {};
  for (const status of [...byStatus.keys()].sort((x, y) => x - y)) {
    const kinds = byStatus.get(status)!;
    const media: Json = { schema: ref(failureSchema) };
    const example = STATUS_EXAMPLES[status] ?? (status >= 500 && status !== 503 && status !== 507 ? { code: RESPONSE_CODES.serverError, msg: 'internal error (request …); send the call again', data: null } : undefined);
    if (example !== undefined) media['example'] = example;
    out[String(status)] = {
      description: kinds.map((k) => `${k.code}: ${k.summary}`).join('; '),
      content: { 'application/json': media },
      'x-eseal-errors': kinds.map((k) => ({ code: k.code, summary: k.summary })),
    };
  }
  return out;
}

/** Every error of the options, once: code, statuses, meaning, and the families that answer it. */
function errorCatalogueOf(errors: NationalApiDocumentOptions['errors']): Json[] {
  const rows = new Map<string, { code: string; statuses: Set<number>; summary: string; families: OperationFamily[] }>();
  for (const family of OPERATION_FAMILIES) {
    for (const a of errors[family] ?? []) {
      const row = rows.get(a.kind.code) ?? { code: a.kind.code, statuses: new Set<number>(), summary: a.kind.summary, families: [] };
      for (const s of statusesOf(a)) row.statuses.add(s);
      if (!row.families.includes(family)) row.families.push(family);
      rows.set(a.kind.code, row);
    }
  }
  return [...rows.values()]
    .sort((x, y) => (x.code < y.code ? -1 : 1))
    .map((r) => ({ code: r.code, statuses: [...r.statuses].sort((x, y) => x - y), summary: r.summary, families: r.families }));
}

/** Keywords whose value maps names to schemas (the names are no keywords). */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

/**
 * A JSON Schema of draft 2019/2020 style (TypeBox's, the configuration's and the console's forms)
 * as an OpenAPI 3.0 Schema Object: const → a one-value enum, null in a type list or a union →
 * nullable, a numeric exclusiveMinimum/Maximum → the boolean form, examples → example, $id and
 * $schema dropped. Symbols (TypeBox's [Kind]) are not carried.
 */
export function openApi30Schema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openApi30Schema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$id' || k === '$schema') continue;
    if (SCHEMA_MAPS.has(k) && typeof v === 'object' && v !== null) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, openApi30Schema(sub)]));
    } else if (k === 'const') {
      if (!('enum' in schema)) out['enum'] = [v];
    } else if (k === 'examples' && Array.isArray(v)) {
      if (v.length > 0 && !('example' in schema)) out['example'] = v[0];
    } else if ((k === 'exclusiveMinimum' || k === 'exclusiveMaximum') && typeof v === 'number') {
      out[k === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = v;
      out[k] = true;
    } else if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((x) => x !== 'null');
      if (types.length < v.length) out['nullable'] = true;
      if (types.length === 1) out['type'] = types[0];
      else out['anyOf'] = types.map((type) => ({ type }));
    } else {
      out[k] = openApi30Schema(v);
    }
  }
  for (const union of ['anyOf', 'oneOf'] as const) {
    const members = out[union];
    if (!Array.isArray(members)) continue;
    const rest = members.filter((m) => !(typeof m === 'object' && m !== null && (m as Json)['type'] === 'null' && Object.keys(m).length === 1));
    if (rest.length === members.length) continue;
    out['nullable'] = true;
    const others = Object.keys(out).filter((key) => key !== union && key !== 'nullable');
    if (rest.length === 1 && others.length === 0) {
      delete out[union];
      Object.assign(out, rest[0] as Json);
    } else {
      out[union] = rest;
    }
  }
  return out;
}

/** The document's bytes, as a server keeps and serves them. */
export function documentBytes(doc: OpenApiDocument): Buffer {
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

// ---------------------------------------------------------------- operations

const BEARER = [{ bearer: [] }, { accessToken: [] }];

function operationId(method: string, id: string): string {
  return method + id.replace(/(^|[/-])([a-z])/gi, (_m, _sep: string, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '');
}

function endpointExtension(e: Endpoint): Json {
  const out: Json = { id: e.id, section: e.section, zh: e.zh, usualCameras: e.usualCameras };
  if (e.kind !== 'query') out['lane'] = { name: e.lane, budgetSeconds: LANES[e.lane].budgetSeconds };
  return out;
}

export function buildNationalApiDocument(options: NationalApiDocumentOptions): OpenApiDocument {
  const errorsFor = (...families: OperationFamily[]) => errorResponses(['any', ...families].flatMap((f) => options.errors[f as OperationFamily] ?? []));
  const schemas: Record<string, Json> = { ...ENVELOPE_SCHEMAS };
  const paths: Record<string, Record<string, unknown>> = {};
  const mb = (n: number) => `${n} bytes (${Math.round((n / 1024 / 1024) * 10) / 10} MiB)`;

  // --- authentication (5.2.2, 5.2.3)
  paths[AUTH_PATHS.publicKey] = {
    get: {
      tags: ['auth'],
      operationId: 'getPublicKey',
      summary: "The relay's SM2 public key (5.2.3), bare text, no envelope",
      description:
        options.publicKeyFormat === 'spki'
          ? 'base64 X.509 SubjectPublicKeyInfo (what Java hutool users expect); encrypt the password with it for the token call'
          : 'uncompressed hex 04‖x‖y (what the npm sm-crypto needs); encrypt the password with it for the token call',
      security: [],
      responses: { '200': { description: 'the public key', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorsFor() },
    },
  };
  const tokenParams: Json = {
    username: { type: 'string', minLength: 1, description: '用户名, issued by the national mine safety administration' },
    password: { type: 'string', minLength: 1, description: `密码, SM2-encrypted with the key from GET ${AUTH_PATHS.publicKey} (hex or base64; C1C3C2, C1C2C3 or ASN.1), URL-encoded; a '+' that arrives as a space is read back as '+'` },
    grant_type: { type: 'string', enum: ['password'] },
    scope: { type: 'string', enum: ['server'], description: 'optional' },
    encrypt: { type: 'string', enum: ['SM2'], description: 'optional, any case' },
  };
  const tokenRequired = ['username', 'password', 'grant_type'];
  schemas['TokenRequest'] = { type: 'object', required: tokenRequired, properties: tokenParams };
  const tokenAnswer: Record<keyof TokenAnswer, Json> = {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['bearer'] },
    expires_in: { type: 'integer', minimum: 0, description: 'seconds left; logging in again while it is valid returns the same token with what is left' },
    scope: { type: 'string', enum: ['server'] },
    dept_name: { type: 'string' },
    org_name: { type: 'string' },
  };
  schemas['TokenAnswer'] = { type: 'object', required: Object.keys(tokenAnswer), properties: tokenAnswer };
  const tokenOperation = (method: 'get' | 'post'): Json => ({
    tags: ['auth'],
    operationId: `${method}Token`,
    summary: 'OAuth2 password grant (5.2.2): a Bearer token for the data calls',
    description:
      method === 'get'
        ? 'The guide\'s form: the parameters in the query string.'
        : 'The parameters as an application/x-www-form-urlencoded body (the query string is read too).',
    security: [{ basicClient: [] }],
    ...(method === 'get'
      ? { parameters: Object.entries(tokenParams).map(([name, schema]) => ({ name, in: 'query', required: tokenRequired.includes(name), schema })) }
      : { requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: ref('TokenRequest') } } } }),
    responses: {
      '200': { description: 'a token (no envelope)', content: { 'application/json': { schema: ref('TokenAnswer') } } },
      ...errorsFor('token'),
    },
  });
  paths[AUTH_PATHS.token] = { get: tokenOperation('get'), post: tokenOperation('post') };

  // --- records and camera status (5.1.2; camera/* for both kinds of mine)
  for (const e of Object.values(RECORD_ENDPOINTS)) {
    const name = operationId('', e.id);
    schemas[name] = recordSchema(e);
    const tags = [e.lane === 'status' ? 'camera' : 'records'];
    const x = { ...endpointExtension(e), ...(e.aiTypes ? { aiTypes: e.aiTypes } : {}) };
    const ok = { '200': { description: 'stored durably; it will be forwarded', content: { 'application/json': { schema: ref('Success') } } } };
    const item: Record<string, Json> = {};
    item['post'] = {
      tags,
      operationId: operationId('post', e.id),
      summary: `${e.zh} (${e.section})`,
      description: `Budget: at the national platform within ${LANES[e.lane].budgetSeconds} s. The body is read as JSON whatever its declared type (text/plain, none); a form body is read too. Invalid JSON is refused with the position and the likely cause (a full-width quote, a missing comma). At most ${mb(options.limits.jsonMaxBytes)}.`,
      security: BEARER,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: ref(name) }, 'application/x-www-form-urlencoded': { schema: ref(name) } },
      },
      responses: { ...ok, ...errorsFor('data', 'record') },
      'x-eseal-endpoint': x,
    };
    if (e.methods.includes('GET')) {
      // GET with a JSON body is how the guide's own examples call it (NATIONAL-API.md); forwarded as POST
      item['get'] = {
        tags,
        operationId: operationId('get', e.id),
        summary: `${e.zh} (${e.section}), as the guide's examples send it`,
        description: `The guide's examples send GET with a JSON body: the relay reads it as the POST body (schema ${name}) and forwards as POST. OpenAPI cannot declare a GET body: without one, the fields are read from the query string.`,
        security: BEARER,
        parameters: e.fields.map((f) => ({ name: f.name, in: 'query', required: false, schema: fieldSchema(f) })),
        responses: { ...ok, ...errorsFor('data', 'record') },
        'x-eseal-endpoint': x,
        'x-eseal-get-with-body': { schema: ref(name), forwardedAs: 'POST' },
      };
    }
    paths[e.path] = item;
  }

  // --- evidence videos (5.1.1)
  for (const e of Object.values(EVIDENCE_ENDPOINTS)) {
    const layout = fileNameLayout(e.fileForm);
    const example = formatEvidenceFileName(e.fileForm, {
      mineId: '140421007866',
      cameraId: exampleCamera(e),
      aiTypeCode: e.aiTypes[0]!,
      count: '0001',
      beltStatus: BELT_STATUS_CODES[0],
      time: '20210104224515',
    });
    const fileName = { pattern: fileNamePattern(e.fileForm), layout: layout.parts, digits: layout.digits, example };
    const name = operationId('', e.id);
    schemas[name] = {
      type: 'object',
      required: [e.partName],
      properties: {
        [e.partName]: {
          type: 'string',
          format: 'binary',
          description:
            `the video: H.264 in MP4, at most ${mb(options.limits.videoMaxBytes)}, one part named ${e.partName}. ` +
            `Its file name (Content-Disposition filename) is ${layout.parts} ${EVIDENCE_EXTENSION}, ${layout.digits} digits, Beijing time, e.g. ${example}; ` +
            `aiTypeCode ${e.aiTypes.join(' or ')} (another code is ${flagNote('aiTypeCode.unusual')}); a lower-case extension is ${flagNote('fileName.extensionCase')}`,
          'x-eseal-file-name': fileName,
          'x-eseal-max-bytes': options.limits.videoMaxBytes,
        },
      },
    };
    paths[e.path] = {
      post: {
        tags: ['evidence'],
        operationId: operationId('post', e.id),
        summary: `${e.zh} (${e.section}), evidence video of a shut-down mine`,
        description: `Budget: at the national platform within ${LANES[e.lane].budgetSeconds} s. Answered only once the video is stored durably. To resume an interrupted upload use ${TUS_PATH} (tus).`,
        security: BEARER,
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: ref(name),
              encoding: { [e.partName]: { contentType: `${DEFAULT_VIDEO_TYPE}, video/mp4` } },
            },
          },
        },
        responses: {
          '200': { description: 'stored durably; it will be forwarded', content: { 'application/json': { schema: ref('Success') } } },
          ...errorsFor('data', 'evidence'),
        },
        'x-eseal-endpoint': { ...endpointExtension(e), partName: e.partName, aiTypes: e.aiTypes, fileName },
      },
    };
  }

  // --- queries (5.2.4)
  for (const e of Object.values(QUERY_ENDPOINTS) as QueryEndpoint[]) {
    paths[e.path] = {
      get: {
        tags: ['query'],
        operationId: operationId('get', e.id),
        summary: `${e.zh} (${e.section})`,
        description:
          "The national platform's answer (cached briefly); when it cannot be reached, the last known status with stale: true and when it was learned; without an upstream, the status the province set.",
        security: BEARER,
        parameters: e.query.map((f) => ({ name: f.name, in: 'query', required: true, schema: fieldSchema(f) })),
        responses: {
          '200': {
            description: "the mine's status",
            content: {
              'application/json': {
                schema: {
                  allOf: [
                    ref('Envelope'),
                    {
                      type: 'object',
                      properties: {
                        data: {
                          type: 'object',
                          required: ['status'],
                          properties: {
                            status: { type: 'string', example: '生产矿井' },
                            stale: { type: 'boolean', description: 'present (true) when the national platform could not be asked' },
                            updatedAt: { ...fieldRuleSchema('time').schema, description: `when the stale status was learned (${TIME_FORMATS.json}, Beijing time)` },
                          },
                        },
                      },
                    },
                  ],
                },
                example: { code: RESPONSE_CODES.success, msg: SUCCESS.msg, data: { status: '生产矿井' } },
              },
            },
          },
          ...errorsFor('data', 'query'),
        },
        'x-eseal-endpoint': endpointExtension(e),
      },
    };
  }

  // --- resumable uploads (断点续传, 5.3.3) over tus
  const tusHeader = (name: string, schema: Json, description: string, required = true): Json => ({ name, in: 'header', required, schema, description });
  const tusResumable = tusHeader('Tus-Resumable', { type: 'string', enum: [TUS_VERSION] }, 'the tus version, on every call but OPTIONS');
  const uploadId = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: UPLOAD_ID.source }, description: 'the upload, from the Location of its creation' };
  const offsetHeaders = {
    'Upload-Offset': { schema: { type: 'integer', minimum: 0 }, description: 'bytes the relay holds' },
    'Tus-Resumable': { schema: { type: 'string', enum: [TUS_VERSION] } },
  };
  const tusOptions: Json = {
    tags: ['resumable'],
    summary: 'What the relay supports (tus discovery); with the token, as every call here',
    security: BEARER,
    responses: {
      '204': {
        description: 'supported tus version, extensions, largest upload and checksum algorithms',
        headers: {
          'Tus-Version': { schema: { type: 'string', enum: [TUS_VERSION] } },
          'Tus-Extension': { schema: { type: 'string', enum: [TUS_EXTENSIONS.join(',')] } },
          'Tus-Max-Size': { schema: { type: 'integer', enum: [options.limits.videoMaxBytes] } },
          'Tus-Checksum-Algorithm': { schema: { type: 'string', enum: [CHECKSUM_ALGORITHMS.join(',')] } },
        },
      },
      ...errorsFor('data'),
    },
  };
  const tusErrors = errorsFor('data', 'resumable');
  paths[TUS_PATH] = {
    options: { ...tusOptions, operationId: 'optionsResumable' },
    post: {
      tags: ['resumable'],
      operationId: 'createResumable',
      summary: 'Create a resumable evidence upload (tus creation)',
      description: `tus ${TUS_VERSION} with the ${TUS_EXTENSIONS.join(', ')} extensions. The finished upload goes through the same checks as the multipart call it stands for and is answered only once stored durably. Also served without the trailing slash.`,
      security: BEARER,
      parameters: [
        tusResumable,
        tusHeader('Upload-Length', { type: 'integer', minimum: 1, maximum: options.limits.videoMaxBytes }, 'the size of the whole video in bytes'),
        tusHeader(
          'Upload-Metadata',
          { type: 'string' },
          `comma-separated "key base64(value)": kind (one of ${KIND_NAMES.join(', ')}: the multipart part it stands for), filename (the evidence file name that call takes), filetype (optional, ${DEFAULT_VIDEO_TYPE} when absent)`,
        ),
      ],
      responses: {
        '201': {
          description: 'created',
          headers: {
            Location: { schema: { type: 'string' }, description: `${TUS_PATH}<id>` },
            'Upload-Expires': { schema: { type: 'string' }, description: 'RFC 7231 date after which an unfinished upload is gone' },
          },
        },
        ...tusErrors,
      },
      'x-eseal-metadata-kinds': Object.fromEntries(Object.values(EVIDENCE_ENDPOINTS).map((e) => [e.partName, { endpoint: e.path, fileName: fileNamePattern(e.fileForm) }])),
    },
    'x-eseal-aliases': [TUS_PATH.slice(0, -1)],
  };
  paths[`${TUS_PATH}{id}`] = {
    options: { ...tusOptions, operationId: 'optionsResumableUpload', parameters: [uploadId] },
    head: {
      tags: ['resumable'],
      operationId: 'headResumable',
      summary: 'Where to resume: the offset the relay holds',
      security: BEARER,
      parameters: [uploadId, tusResumable],
      responses: {
        '200': {
          description: 'the upload',
          headers: {
            ...offsetHeaders,
            'Upload-Length': { schema: { type: 'integer' } },
            'Upload-Metadata': { schema: { type: 'string' } },
            'Upload-Expires': { schema: { type: 'string' }, description: 'while it is still receiving' },
          },
        },
        ...tusErrors,
      },
    },
    patch: {
      tags: ['resumable'],
      operationId: 'patchResumable',
      summary: 'A chunk at Upload-Offset',
      security: BEARER,
      parameters: [
        uploadId,
        tusResumable,
        tusHeader('Upload-Offset', { type: 'integer', minimum: 0 }, 'the offset this chunk starts at (HEAD the upload to learn it)'),
        tusHeader('Upload-Checksum', { type: 'string', pattern: `^(?:${CHECKSUM_ALGORITHMS.join('|')}) [A-Za-z0-9+/=]+$` }, `"<algorithm> <base64 digest>" of this chunk, algorithm one of ${CHECKSUM_ALGORITHMS.join(', ')}`, false),
      ],
      requestBody: { required: true, content: { [OFFSET_OCTET_STREAM]: { schema: { type: 'string', format: 'binary' } } } },
      responses: {
        '204': { description: 'the chunk is stored (the last one: the video is checked and stored durably)', headers: offsetHeaders },
        ...tusErrors,
      },
    },
    delete: {
      tags: ['resumable'],
      operationId: 'deleteResumable',
      summary: 'Terminate an upload (tus termination)',
      security: BEARER,
      parameters: [uploadId, tusResumable],
      responses: { '204': { description: 'terminated' }, ...tusErrors },
    },
  };

  const doc: OpenApiDocument = {
    openapi: '3.0.3',
    info: {
      title: options.title ?? 'Coal-mine electronic seal national API (煤矿电子封条), as this relay serves it',
      version: options.version,
      description:
        options.description ??
        `The national API of the guide's chapter 5, mirrored: mines point at this server instead of the national one and change nothing else. ` +
          `Data calls are under ${API_PREFIX}. Refusals answer {"code":1,"msg":"<field>: <rule>","data":null} with the HTTP status of their error; ` +
          `what the national platform may still take is accepted and flagged (x-eseal-accepted, FLAG_KINDS below); a time more than ${options.clockSkewSeconds} s off the relay's clock is flagged.`,
    },
    servers: [{ url: '/', description: 'this relay' }],
    tags: [
      { name: 'auth', description: 'login (5.2.2, 5.2.3)' },
      { name: 'evidence', description: '停产停工矿井: evidence videos (5.1.1)' },
      { name: 'records', description: '正常生产建设矿井: records (5.1.2)' },
      { name: 'camera', description: 'camera live address and online state, for both kinds of mine' },
      { name: 'query', description: 'mine status (5.2.4)' },
      { name: 'resumable', description: '断点续传 (5.3.3): resumable evidence uploads over tus' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: `Authorization: Bearer <access_token> from ${AUTH_PATHS.token}` },
        accessToken: { type: 'apiKey', in: 'query', name: 'access_token', description: "Spring's ?access_token= (instead of the header)" },
        basicClient: { type: 'http', scheme: 'basic', description: 'the client credentials of the guide (pcfront:pcfront by default)' },
      },
    },
    'x-eseal-flags': { ...FLAG_KINDS },
    'x-eseal-error-catalogue': errorCatalogueOf(options.errors),
    'x-eseal-decisions': [
      `POST is canonical for the JSON calls; GET with a JSON body (the guide's examples) is accepted and forwarded as POST`,
      `camera/online-offine: the typo is the national platform's real path`,
      `numeric code and msg in the envelope (table 5-21 says message and a string code; every example says msg and a number)`,
      `a number where a zero-padded string is expected is normalised and flagged`,
      `errors of authentication answer as the national platform's framework does: ${AUTH_FAILURES.tokenInvalid.status} token expire, ${AUTH_FAILURES.badCredentials.status} bad credentials, ${AUTH_FAILURES.badClient.status} bad client`,
    ],
  };
  return doc;
}
