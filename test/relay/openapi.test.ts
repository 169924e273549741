// GET /openapi.json on a real relay: the served bytes are the document built from src/contract
// with this relay's settings, valid OpenAPI, public; and the relay does what the document says
// (every operation routed, its answers among the documented statuses, the examples taken, the
// required fields required).
import t from 'tap';
import { request } from 'undici';
import { Ajv } from 'ajv';
import { Validator } from '@seriousme/openapi-schema-validator';
import * as contractErrors from '../../src/contract/errors.ts';
import { AUTH_PATHS, RECORD_ENDPOINTS, QUERY_ENDPOINTS } from '../../src/contract/index.ts';
import type { Json, OpenApiDocument } from '../../src/contract/openapi.ts';
import type { ErrorKind } from '../../src/errors.ts';
import * as relayErrors from '../../relay/errors.ts';
import { ANSWERED, NOT_ANSWERED, OPENAPI_PATH, relayOpenApiDocument } from '../../relay/routes/openapiRoute.ts';
import { encryptPassword } from '../helpers/mineClient.ts';
import { MINE, MINE_PASSWORD, relayWithMine } from '../helpers/relay.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];
type Op = Json & { responses: Record<string, Json>; security?: Json[]; parameters?: Json[] };

function kinds(module: Record<string, unknown>): ErrorKind[] {
  return Object.values(module).filter((v): v is ErrorKind => typeof v === 'function' && typeof (v as ErrorKind).code === 'string');
}

async function served(url: string): Promise<{ status: number; type: string; bytes: Buffer }> {
  const res = await request(url + OPENAPI_PATH);
  return { status: res.statusCode, type: String(res.headers['content-type']), bytes: Buffer.from(await res.body.arrayBuffer()) };
}

t.test('the relay serves the document built from the contract, valid, to anyone, the same bytes each time', async (t) => {
  const { relay } = await relayWithMine(t, { 'relay.limits.videoMaxBytes': 5 * 1024 * 1024 });
  const first = await served(relay.url);
  t.equal(first.status, 200);
  t.match(first.type, /^application\/json/);
  const doc = JSON.parse(first.bytes.toString('utf8')) as OpenApiDocument;
  t.same(doc, relayOpenApiDocument(relay.ctx), 'what is served is what the contract builds');
  t.match(doc.paths[RECORD_ENDPOINTS.person.path], { post: { 'x-eseal-endpoint': { id: RECORD_ENDPOINTS.person.id } } });
  t.match(JSON.stringify(doc), /"x-eseal-max-bytes":5242880/, "this relay's own limits");
  t.ok((await served(relay.url)).bytes.equals(first.bytes), 'cached bytes');
  const v = new Validator();
  const r = await v.validate(doc as unknown as Record<string, unknown>);
  t.ok(r.valid, JSON.stringify(r.errors)?.slice(0, 2000));
});

t.test("every error kind of the relay's and the contract's catalogues is documented or set aside with a reason", async (t) => {
  const answered = new Set(Object.values(ANSWERED).flatMap((list) => list.map((a) => a.kind.code)));
  const aside = new Set(NOT_ANSWERED.map((n) => n.kind.code));
  for (const k of [...kinds(relayErrors), ...kinds(contractErrors)]) {
    t.ok(answered.has(k.code) !== aside.has(k.code), `${k.code}: documented or set aside, not both`);
  }
  for (const k of kinds(contractErrors)) t.ok(answered.has(k.code), `${k.code} is answered by the API`);
  const { relay } = await relayWithMine(t);
  const doc = JSON.parse((await served(relay.url)).bytes.toString('utf8')) as OpenApiDocument;
  const catalogue = doc['x-eseal-error-catalogue'] as { code: string; statuses: number[]; summary: string }[];
  t.same(catalogue.map((r) => r.code).sort(), [...answered].sort());
  for (const list of Object.values(ANSWERED)) {
    for (const a of list) {
      const row = catalogue.find((r) => r.code === a.kind.code)!;
      t.equal(row.summary, a.kind.summary);
      for (const s of a.statuses ?? [a.kind.statusCode]) t.ok(row.statuses.includes(s), `${a.kind.code} ${s}`);
    }
  }
});

t.test('every operation of the document is routed, and refuses a caller without credentials with a documented status', async (t) => {
  const { relay } = await relayWithMine(t);
  const doc = relayOpenApiDocument(relay.ctx);
  let n = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const op = raw as Op;
      const url = relay.url + path.replace('{id}', '0'.repeat(32));
      const res = await request(url, { method: method.toUpperCase() as 'GET' });
      await res.body.dump();
      const status = String(res.statusCode);
      const security = (op.security ?? []).flatMap((s) => Object.keys(s));
      t.ok(op.responses[status], `${method} ${path}: ${status} is documented`);
      if (security.includes('bearer')) t.equal(res.statusCode, 424, `${method} ${path}: a Bearer token is required`);
      else if (security.includes('basicClient')) t.equal(res.statusCode, 401, `${method} ${path}: the Basic client is required`);
      else t.ok(res.statusCode < 400, `${method} ${path}: public`);
      n++;
    }
  }
  t.equal(n, 29, 'every operation tried: /sm2, the token twice, 7 records twice, 5 videos, the query, 6 of tus');
});

t.test('the relay takes the document’s examples and refuses what a field’s schema refuses, naming the field', async (t) => {
  const { relay, mine } = await relayWithMine(t, { 'relay.mineStatusDefault': '生产矿井' });
  const doc = relayOpenApiDocument(relay.ctx);
  const schemas = doc.components.schemas;
  const ajv = new Ajv({ strict: false });
  for (const e of Object.values(RECORD_ENDPOINTS)) {
    const post = doc.paths[e.path]!['post'] as Op & { requestBody: { content: Record<string, { schema: { $ref: string } }> } };
    const schema = schemas[post.requestBody.content['application/json']!.schema.$ref.split('/').pop()!]!;
    const example = schema['example'] as Json;
    t.equal(example['mineId'], MINE);
    const ok = await mine.record(e, example);
    t.same([ok.status, ok.body], [200, { code: 0, msg: 'success', data: true }], `${e.id} example`);
    if (e.methods.includes('GET')) t.equal((await mine.record(e, example, { method: 'GET' })).status, 200, `GET ${e.id} with the example as body`);
    for (const [name, field] of Object.entries(schema['properties'] as Record<string, Json>)) {
      const bad = 'x';
      t.notOk(ajv.validate({ type: field['type'], pattern: field['pattern'], enum: field['enum'] } as object, bad));
      const refused = await mine.record(e, { ...example, [name]: bad });
      t.equal(refused.status, 400, `${e.id} ${name}`);
      t.ok(post.responses['400'], '400 documented');
      t.match(refused.body, { code: 1, msg: new RegExp(`^${name}: `), data: null });
    }
  }
  const q = QUERY_ENDPOINTS.mineStatus;
  const status = await mine.mineStatus(((doc.paths[q.path]!['get'] as Op).parameters![0]!['schema'] as Json)['example'] as string);
  t.same(status.body, { code: 0, msg: 'success', data: { status: '生产矿井' } });
});

t.test('the token call requires what the document says it requires', async (t) => {
  const { relay } = await relayWithMine(t);
  const doc = relayOpenApiDocument(relay.ctx);
  const get = doc.paths[AUTH_PATHS.token]!['get'] as Op;
  const params = get.parameters!.map((p) => ({ name: String(p['name']), required: p['required'] === true, schema: p['schema'] as Json }));
  const key = (await (await request(relay.url + AUTH_PATHS.publicKey)).body.text()).trim();
  const values: Record<string, string> = { username: 'mine001', password: encryptPassword(MINE_PASSWORD, key, 'sm-crypto') };
  for (const p of params) values[p.name] ??= String((p.schema['enum'] as string[])[0]);
  const basic = 'Basic ' + Buffer.from('pcfront:pcfront').toString('base64');
  const login = async (query: Record<string, string>) => {
    const res = await request(`${relay.url}${AUTH_PATHS.token}?${new URLSearchParams(query)}`, { headers: { authorization: basic } });
    return { status: res.statusCode, body: (await res.body.json()) as Json };
  };
  const ok = await login(values);
  t.equal(ok.status, 200, 'every parameter as documented');
  const answer = schemasOf(doc)['TokenAnswer']!;
  t.ok(new Ajv({ strict: false }).validate(answer, ok.body), 'the answer follows TokenAnswer');
  for (const p of params.filter((x) => x.required)) {
    const { [p.name]: _drop, ...rest } = values;
    const refused = await login(rest);
    t.equal(refused.status, 400, `without ${p.name}`);
    t.match(refused.body['msg'], new RegExp(`^${p.name}: `));
  }
  t.ok(params.some((p) => !p.required), 'and some are optional');
});

function schemasOf(doc: OpenApiDocument): Record<string, Json> {
  return doc.components.schemas;
}
