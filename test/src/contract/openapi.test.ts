// The OpenAPI document says what the contract checks: every endpoint with its fields, every error
// given to it, and field rules whose JSON Schema accepts exactly what the validators accept
// (property tests run the document's schemas through ajv beside the contract's check functions).
import t from 'tap';
import fc from 'fast-check';
import { Ajv } from 'ajv';
import AjvDraft04Module from 'ajv-draft-04';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Type } from '@sinclair/typebox';
import * as contractErrors from '../../../src/contract/errors.ts';
import {
  ALL_ENDPOINTS,
  AUTH_PATHS,
  EVIDENCE_ENDPOINTS,
  QUERY_ENDPOINTS,
  RECORD_ENDPOINTS,
  TIME_FORMATS,
  checkEvidenceFileName,
  checkQuery,
  checkRecord,
  flagKind,
  parseFileTime,
  parseJsonTime,
  type FieldRule,
  type RecordEndpoint,
} from '../../../src/contract/index.ts';
import { TUS_PATH } from '../../../src/contract/tus.ts';
import {
  ENVELOPE_SCHEMAS,
  buildNationalApiDocument,
  errorResponses,
  openApi30Schema,
  timePattern,
  type ErrorAnswer,
  type Json,
  type OpenApiDocument,
  type OperationFamily,
} from '../../../src/contract/openapi.ts';
import { EsealError, type ErrorKind } from '../../../src/errors.ts';

const ajv = new Ajv({ strict: false, allErrors: false });
// CommonJS with a default export: under tsx the module object itself is the class
const AjvDraft04 = ((AjvDraft04Module as unknown as { default?: unknown }).default ?? AjvDraft04Module) as unknown as typeof Ajv;

const CONTRACT_KINDS = Object.values(contractErrors) as ErrorKind[];
const { InvalidField, InvalidFileName, TusHeader } = contractErrors;

/** A catalogue as a server passes it: the contract's kinds over the families, one with other statuses. */
const ERRORS: Partial<Record<OperationFamily, readonly ErrorAnswer[]>> = {
  any: [{ kind: contractErrors.BodyTooLarge }],
  record: [{ kind: InvalidField }, { kind: contractErrors.InvalidJson }, { kind: contractErrors.UnsupportedContentType }],
  evidence: [{ kind: InvalidFileName }],
  query: [{ kind: InvalidField, statuses: [400, 422] }],
  resumable: [{ kind: TusHeader }, { kind: contractErrors.TusChecksumAlgorithm }],
};

const OPTIONS = { version: '9.9.9', errors: ERRORS, limits: { jsonMaxBytes: 65536, videoMaxBytes: 10 * 1024 * 1024 }, clockSkewSeconds: 300 };
const doc: OpenApiDocument = buildNationalApiDocument(OPTIONS);

type Op = Json & { responses: Record<string, Json>; parameters?: Json[]; requestBody?: Json };
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

function operations(d: OpenApiDocument): { path: string; method: string; op: Op }[] {
  return Object.entries(d.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([m]) => METHODS.includes(m))
      .map(([method, op]) => ({ path, method, op: op as Op })),
  );
}

function resolve(ref: unknown): Json {
  const name = String((ref as Json)['$ref']).replace('#/components/schemas/', '');
  const schema = doc.components.schemas[name];
  if (!schema) throw new Error(`no schema ${name}`);
  return schema;
}

/**
 * The document's schema as the relay applies it: what a field takes besides its canonical form
 * (x-eseal-accepted) joined with anyOf; other extensions and examples dropped.
 */
function asApplied(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(asApplied);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) if (!k.startsWith('x-') && k !== 'example') out[k] = asApplied(v);
  const accepted = (schema as Json)['x-eseal-accepted'];
  return accepted ? { anyOf: [out, asApplied(accepted)] } : out;
}

function canonical(schema: unknown): unknown {
  const { ['x-eseal-accepted']: _drop, ...rest } = schema as Json;
  return asApplied(rest);
}

function accepts(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof EsealError && (err.code === InvalidField.code || err.code === InvalidFileName.code)) return false;
    throw err;
  }
}

const ctx = { now: Date.now(), maxSkewMs: Infinity };

t.test('the document is valid OpenAPI 3.0.3', async (t) => {
  const v = new Validator();
  const r = await v.validate(structuredClone(doc) as Record<string, unknown>);
  t.ok(r.valid, JSON.stringify(r.errors)?.slice(0, 2000));
  t.equal(v.version, '3.0');
  t.equal(doc.info.version, '9.9.9');
});

t.test('every endpoint of the contract is a path of the document, with its methods and nothing else', async (t) => {
  const want = new Map<string, string[]>();
  for (const e of ALL_ENDPOINTS) want.set(e.path, e.kind === 'record' ? e.methods.map((m) => m.toLowerCase()) : [e.method.toLowerCase()]);
  want.set(AUTH_PATHS.publicKey, ['get']);
  want.set(AUTH_PATHS.token, ['get', 'post']);
  want.set(TUS_PATH, ['options', 'post']);
  want.set(`${TUS_PATH}{id}`, ['options', 'head', 'patch', 'delete']);
  const got = new Map<string, string[]>();
  for (const { path, method } of operations(doc)) got.set(path, [...(got.get(path) ?? []), method]);
  t.same([...got.keys()].sort(), [...want.keys()].sort());
  for (const [path, methods] of want) t.same(got.get(path)?.sort(), [...methods].sort(), path);
  const ids = operations(doc).map(({ op }) => op['operationId']);
  t.equal(new Set(ids).size, ids.length, 'operation ids are unique');
  for (const e of ALL_ENDPOINTS) t.match(doc.paths[e.path], { [e.kind === 'query' ? 'get' : 'post']: { 'x-eseal-endpoint': { id: e.id, section: e.section, zh: e.zh } } });
});

t.test('each record endpoint has its fields, in the guide’s order, each with its rule and 中文名称', async (t) => {
  for (const e of Object.values(RECORD_ENDPOINTS)) {
    const post = doc.paths[e.path]!['post'] as Op;
    const body = resolve((post.requestBody!['content'] as Record<string, Json>)['application/json']!['schema']);
    t.same(body['required'], e.fields.map((f) => f.name), e.id);
    t.same(Object.keys(body['properties'] as Json), e.fields.map((f) => f.name));
    for (const f of e.fields) {
      const p = (body['properties'] as Record<string, Json>)[f.name]!;
      t.equal(p['x-eseal-rule'], f.rule);
      t.match(p['description'], new RegExp(`^${f.zh}: `));
    }
    // the document's example is a record the contract takes without a flag
    t.same(checkRecord(e, body['example'], ctx).flags, [], `${e.id} example`);
    if (e.methods.includes('GET')) {
      const get = doc.paths[e.path]!['get'] as Op;
      t.same(get.parameters!.map((p) => p['name']), e.fields.map((f) => f.name));
      t.match(get, { 'x-eseal-get-with-body': { forwardedAs: 'POST' } });
    }
  }
  const q = QUERY_ENDPOINTS.mineStatus;
  const op = doc.paths[q.path]!['get'] as Op;
  t.same(op.parameters!.map((p) => [p['name'], p['in'], p['required']]), q.query.map((f) => [f.name, 'query', true]));
});

t.test('each evidence endpoint takes its part, its file name rule and example', async (t) => {
  for (const e of Object.values(EVIDENCE_ENDPOINTS)) {
    const op = doc.paths[e.path]!['post'] as Op;
    const media = (op.requestBody!['content'] as Record<string, Json>)['multipart/form-data']!;
    const schema = resolve(media['schema']);
    t.same(schema['required'], [e.partName], e.id);
    const part = (schema['properties'] as Record<string, Json>)[e.partName]!;
    t.equal(part['format'], 'binary');
    const rule = part['x-eseal-file-name'] as { pattern: string; example: string };
    t.same(checkEvidenceFileName(e, rule.example, ctx).flags, [], `${e.id} example ${rule.example}`);
    t.ok(new RegExp(rule.pattern, 'u').test(rule.example));
    t.match(media['encoding'], { [e.partName]: { contentType: /application\/mp4/ } });
    t.equal(part['x-eseal-max-bytes'], OPTIONS.limits.videoMaxBytes);
  }
});

t.test('every error given appears with its status and meaning, in the catalogue and on each operation of its family', async (t) => {
  const catalogue = doc['x-eseal-error-catalogue'] as { code: string; statuses: number[]; summary: string; families: string[] }[];
  t.same(catalogue.map((r) => r.code).sort(), CONTRACT_KINDS.map((k) => k.code).sort(), 'every kind of the contract’s catalogue');
  for (const k of CONTRACT_KINDS) {
    const row = catalogue.find((r) => r.code === k.code)!;
    t.equal(row.summary, k.summary);
    t.ok(row.statuses.includes(k.statusCode), `${k.code} ${k.statusCode}`);
  }
  t.same(catalogue.find((r) => r.code === InvalidField.code)!.statuses, [400, 422], 'the statuses a server answers with');

  const familyOf = (path: string, method: string): OperationFamily[] => {
    if (path === AUTH_PATHS.publicKey) return [];
    if (path === AUTH_PATHS.token) return ['token'];
    if (path.startsWith(TUS_PATH)) return method === 'options' ? ['data'] : ['data', 'resumable'];
    const e = ALL_ENDPOINTS.find((x) => x.path === path)!;
    return ['data', e.kind];
  };
  for (const { path, method, op } of operations(doc)) {
    const answers = ['any' as const, ...familyOf(path, method)].flatMap((f) => ERRORS[f] ?? []);
    for (const a of answers) {
      for (const status of a.statuses ?? [a.kind.statusCode]) {
        const response = op.responses[String(status)];
        t.ok(response, `${method} ${path} answers ${status}`);
        t.ok((response?.['x-eseal-errors'] as { code: string }[]).some((x) => x.code === a.kind.code), `${method} ${path} ${status} names ${a.kind.code}`);
        t.match(response?.['description'], a.kind.summary);
      }
    }
    const statuses = Object.keys(op.responses).filter((s) => Number(s) >= 400);
    t.same(statuses.sort(), [...new Set(answers.flatMap((a) => (a.statuses ?? [a.kind.statusCode]).map(String)))].sort(), `${method} ${path}: no other error status`);
  }
});

// ---------------------------------------------------------------- property tests

function formatTime(format: string, p: { y: number; mo: number; d: number; h: number; mi: number; s: number }): string {
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return format
    .replace('yyyy', pad(p.y, 4))
    .replace('MM', pad(p.mo, 2))
    .replace('dd', pad(p.d, 2))
    .replace('HH', pad(p.h, 2))
    .replace('mm', pad(p.mi, 2))
    .replace('ss', pad(p.s, 2));
}

/** Times near the rules' edges: month and day ends, leap years (2000 and 2400 are, 2100 is not), 1999. */
function nearTime(format: string): fc.Arbitrary<string> {
  const parts = fc.record({
    y: fc.oneof(fc.integer({ min: 1995, max: 2110 }), fc.constantFrom(1999, 2000, 2023, 2024, 2100, 2400, 9996, 9999)),
    mo: fc.integer({ min: 0, max: 13 }),
    d: fc.oneof(fc.integer({ min: 0, max: 32 }), fc.constantFrom(28, 29, 30, 31)),
    h: fc.integer({ min: 0, max: 25 }),
    mi: fc.integer({ min: 0, max: 61 }),
    s: fc.integer({ min: 0, max: 61 }),
  });
  return fc.oneof(
    { weight: 4, arbitrary: parts.map((p) => formatTime(format, p)) },
    {
      weight: 1,
      // one character replaced by any other
      arbitrary: fc.tuple(parts, fc.integer({ min: 0, max: 18 }), fc.string({ minLength: 1, maxLength: 1 })).map(([p, i, c]) => {
        const s = formatTime(format, p);
        return s.slice(0, i) + c + s.slice(i + 1);
      }),
    },
  );
}

const anyValue = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.integer({ min: -5, max: 2_000_000_000_000 }),
  fc.double(),
  fc.constantFrom<unknown>(null, true, false, '', [], {}, '0', '1', 0, 1, '  ', ' 01'),
);

const RULE_VALUES: Record<FieldRule, fc.Arbitrary<unknown>> = {
  mineId: fc.oneof(
    fc.stringMatching(/^[0-9]{12}$/),
    fc.stringMatching(/^[0-9A-Za-z]{11,13}$/),
    fc.stringMatching(/^[0-9A-Za-z_ .-]{12}$/),
    fc.integer({ min: 10 ** 10, max: 10 ** 13 }),
    anyValue,
  ),
  cameraId: fc.oneof(fc.stringMatching(/^[0-9]{1,3}$/), fc.integer({ min: -2, max: 120 }), anyValue),
  aiTypeCode: fc.oneof(fc.stringMatching(/^0[0-9]$/), fc.stringMatching(/^[0-9]{1,3}$/), fc.integer({ min: -1, max: 10 }), anyValue),
  count4: fc.oneof(fc.stringMatching(/^[0-9]{3,5}$/), fc.integer({ min: -1, max: 10_001 }), fc.double({ min: 0, max: 20 }), anyValue),
  beltStatus: fc.oneof(fc.stringMatching(/^000[0-9]$/), fc.stringMatching(/^[0-9]{3,5}$/), fc.integer({ min: -1, max: 5 }), anyValue),
  time: fc.oneof({ weight: 4, arbitrary: nearTime(TIME_FORMATS.json) }, { weight: 1, arbitrary: anyValue }),
  liveUrl: fc.oneof(
    fc.webUrl({ validSchemes: ['http', 'https'], withQueryParameters: true }),
    fc.webUrl({ validSchemes: ['rtsp', 'ftp', 'javascript', 'file'] }),
    fc.tuple(fc.oneof(fc.ipV4(), fc.domain(), fc.constant('localhost')), fc.integer({ min: 0, max: 70_000 }), fc.stringMatching(/^(\/[a-z0-9.]{0,8})?$/)).map(([h, p, path]) => `${h}:${p}${path}`),
    fc.constantFrom('javascript:alert(1)', 'http:///x', 'http://a b', 'http://', 'h'.repeat(201), 'http://x.cn/' + 'a'.repeat(200), '[::1]:80', 'http://[::1]/x', 'a:1', 'http://1.2.3.4\u0000/'),
    anyValue,
  ),
  alarm: fc.oneof(fc.constantFrom<unknown>(0, 1, '0', '1', 2, '2', '01', 1.5, -1, true, ' 1'), anyValue),
};

/** Whether the relay's URL parser reads a liveUrl (with a host after the slashes); the one check a pattern cannot make. */
function urlParses(v: string): boolean {
  try {
    if (!/^https?:\/\//i.test(v)) return Boolean(new URL(`http://${v}`));
    return new URL(v).hostname !== '' && !/^https?:\/\/[/\\?#]/i.test(v);
  } catch {
    return false;
  }
}

/** Every field of every record endpoint, once per endpoint and name. */
const FIELDS = Object.values(RECORD_ENDPOINTS).flatMap((e) => e.fields.map((f) => ({ endpoint: e as RecordEndpoint, spec: f })));

function bodySchema(e: RecordEndpoint): Json {
  const post = doc.paths[e.path]!['post'] as Op;
  return resolve((post.requestBody!['content'] as Record<string, Json>)['application/json']!['schema']);
}

t.test('a field’s schema accepts exactly what its validator accepts (liveUrl: at least)', async (t) => {
  for (const { endpoint, spec } of FIELDS) {
    const body = bodySchema(endpoint);
    const validate = ajv.compile(asApplied(body) as object);
    const strict = ajv.compile(canonical((body['properties'] as Record<string, Json>)[spec.name]) as object);
    const example = body['example'] as Json;
    fc.assert(
      fc.property(RULE_VALUES[spec.rule], (value) => {
        const record = { ...example, [spec.name]: value };
        const byContract = accepts(() => checkRecord(endpoint, record, ctx));
        const byDocument = validate(record);
        if (spec.rule === 'liveUrl') {
          // the relay also parses the address (WHATWG URL), which no pattern states: that is the only difference
          if (byContract && !byDocument) throw new Error(`${endpoint.id} ${spec.name}: the document refuses ${JSON.stringify(value)}`);
          if (byDocument && !byContract && urlParses(value as string)) throw new Error(`${spec.name}: the document takes ${JSON.stringify(value)}, the relay does not`);
          return;
        }
        if (byContract !== byDocument) {
          throw new Error(`${endpoint.id} ${spec.name} = ${JSON.stringify(value)}: contract ${byContract}, document ${byDocument}`);
        }
        if (byContract) {
          // what only x-eseal-accepted takes is normalised, and flagged so
          const normalised = checkRecord(endpoint, record, ctx).flags.some((f) => flagKind(f) === 'value.normalised');
          if (normalised === strict(value)) throw new Error(`${spec.name} = ${JSON.stringify(value)}: normalised ${normalised}, canonical ${strict(value)}`);
        }
      }),
      { numRuns: 400 },
    );
  }
  t.pass('schemas and validators agree');
  // and the liveUrl schema is no empty schema: it refuses what the relay refuses for reasons a schema can state
  const live = ajv.compile(canonical((bodySchema(RECORD_ENDPOINTS.cameraLive)['properties'] as Record<string, Json>)['liveUrl']) as object);
  for (const bad of ['', 'rtsp://1.2.3.4/x', 'javascript:alert(1)', 'http://a b', 'h'.repeat(201), 'http://x\u0001', 5]) t.notOk(live(bad), JSON.stringify(bad));
  for (const good of ['http://192.168.1.10:8080/live/10.mjpeg', 'HTTPS://x.cn/a', '127.0.0.1:33390']) t.ok(live(good), good);
});

t.test('a record body: any other members are taken, anything but an object is not, as the validator does', async (t) => {
  const e = RECORD_ENDPOINTS.belt;
  const validate = ajv.compile(asApplied(bodySchema(e)) as object);
  const example = bodySchema(e)['example'] as Json;
  fc.assert(
    fc.property(fc.oneof(anyValue, fc.dictionary(fc.string({ maxLength: 8 }), anyValue).map((extra) => ({ ...extra, ...example })), fc.constant(example).map((x) => [x])), (body) => {
      return accepts(() => checkRecord(e, body, ctx)) === validate(body);
    }),
    { numRuns: 300 },
  );
});

t.test('the mine status query parameter follows the same rule as the validator', async (t) => {
  const q = QUERY_ENDPOINTS.mineStatus;
  const op = doc.paths[q.path]!['get'] as Op;
  const validate = ajv.compile(asApplied(op.parameters![0]!['schema']) as object);
  fc.assert(
    fc.property(RULE_VALUES.mineId, (v) => accepts(() => checkQuery(q, { mineId: v }, ctx)) === validate(v)),
    { numRuns: 400 },
  );
});

t.test('the time patterns accept exactly the real times the parsers accept', async (t) => {
  for (const [format, parse] of [
    [TIME_FORMATS.json, parseJsonTime],
    [TIME_FORMATS.file, parseFileTime],
  ] as const) {
    const re = new RegExp(`^${timePattern(format)}$`, 'u');
    fc.assert(
      fc.property(fc.oneof(nearTime(format), fc.string({ maxLength: 20 })), (s) => re.test(s) === (parse(s) !== undefined)),
      { numRuns: 3000 },
    );
    // the edges named
    t.ok(re.test(formatTime(format, { y: 2000, mo: 2, d: 29, h: 23, mi: 59, s: 59 })));
    t.ok(re.test(formatTime(format, { y: 2024, mo: 2, d: 29, h: 0, mi: 0, s: 0 })));
    t.notOk(re.test(formatTime(format, { y: 2100, mo: 2, d: 29, h: 0, mi: 0, s: 0 })));
    t.notOk(re.test(formatTime(format, { y: 2021, mo: 4, d: 31, h: 0, mi: 0, s: 0 })));
    t.notOk(re.test(formatTime(format, { y: 1999, mo: 12, d: 31, h: 0, mi: 0, s: 0 })));
  }
});

t.test('an evidence file name matches the document’s pattern exactly when the contract takes it', async (t) => {
  for (const e of Object.values(EVIDENCE_ENDPOINTS)) {
    const op = doc.paths[e.path]!['post'] as Op;
    const schema = resolve(((op.requestBody!['content'] as Record<string, Json>)['multipart/form-data']!)['schema']);
    const { pattern } = (schema['properties'] as Record<string, Json>)[e.partName]!['x-eseal-file-name'] as { pattern: string };
    const validate = ajv.compile({ type: 'string', pattern });
    const names = fc
      .tuple(
        fc.oneof(fc.stringMatching(/^[0-9]{12}$/), fc.stringMatching(/^[0-9A-Za-z]{11,13}$/)),
        fc.oneof(fc.stringMatching(/^[0-9]{2}$/), fc.stringMatching(/^[0-9]{1,3}$/)),
        fc.oneof(fc.constantFrom(...e.aiTypes, '01', '06', '07', '00'), fc.stringMatching(/^[0-9]{2}$/)),
        fc.oneof(fc.constant(''), fc.stringMatching(/^[0-9]{4}$/), fc.constantFrom('0001', '0002', '0003', '0004', '0000')),
        nearTime(TIME_FORMATS.file),
        fc.constantFrom('.MP4', '.mp4', '.Mp4', '.mP4', '.MP5', '', '.MP4.MP4', '.avi', 'MP4', '.MP4 '),
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof({ weight: 9, arbitrary: names }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }), (name) => {
        const byContract = accepts(() => checkEvidenceFileName(e, name, ctx));
        if (byContract !== validate(name)) throw new Error(`${e.id} ${JSON.stringify(name)}: contract ${byContract}, document ${!byContract}`);
      }),
      { numRuns: 1500 },
    );
  }
  t.pass('file names agree');
});

t.test('the helpers make a valid document of another API: a TypeBox schema taking the same values, errors in the envelope', async (t) => {
  const user = Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9_]+$' }),
      role: Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')]),
      note: Type.Optional(Type.Union([Type.String({ maxLength: 8 }), Type.Null()])),
      limit: Type.Integer({ exclusiveMinimum: 0, maximum: 1000, examples: [10] }),
      tags: Type.Array(Type.String(), { maxItems: 2 }),
    },
    { additionalProperties: false, $id: 'User' },
  );
  const converted = openApi30Schema(user) as Json;
  const other: Json = {
    openapi: '3.0.3',
    info: { title: 'console', version: '1' },
    paths: {
      '/api/users': {
        post: {
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } } },
          responses: { '200': { description: 'added', content: { 'application/json': { schema: { $ref: '#/components/schemas/Success' } } } }, ...errorResponses([{ kind: InvalidField }, { kind: TusHeader, statuses: [422] }]) },
        },
      },
    },
    components: { schemas: { ...ENVELOPE_SCHEMAS, User: converted } },
  };
  const v = new Validator();
  const r = await v.validate(structuredClone(other));
  t.ok(r.valid, JSON.stringify(r.errors)?.slice(0, 2000));
  t.same(Object.keys((other['paths'] as Json)['/api/users'] as Json), ['post']);
  t.match(converted, { properties: { role: { anyOf: [{ enum: ['viewer'] }, { enum: ['operator'] }, { enum: ['admin'] }] }, note: { type: 'string', nullable: true }, limit: { minimum: 0, exclusiveMinimum: true, example: 10 } } });
  t.notOk('$id' in converted);
  const original = new Ajv({ strict: false }).compile(user);
  // an OpenAPI 3.0 Schema Object is JSON Schema draft 4 (boolean exclusiveMinimum) with nullable
  const as30 = new AjvDraft04({ strict: false }).compile(converted);
  const value = fc.record(
    {
      name: fc.oneof(fc.stringMatching(/^[a-z0-9_]{0,34}$/), fc.string({ maxLength: 4 })),
      role: fc.constantFrom('viewer', 'operator', 'admin', 'root', ''),
      note: fc.oneof(fc.constant(null), fc.string({ maxLength: 10 }), fc.integer()),
      limit: fc.oneof(fc.integer({ min: -2, max: 1002 }), fc.double({ min: -1, max: 2 })),
      tags: fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }),
      extra: fc.string({ maxLength: 2 }),
    },
    { requiredKeys: ['name', 'role'] },
  );
  fc.assert(fc.property(value, (x) => original(x) === as30(x)), { numRuns: 1000 });
});
