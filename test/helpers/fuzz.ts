// Malformed requests for a running relay, generated with fast-check, and the properties every
// answer must keep: no 5xx (except 507 while a disk fault is injected), no hang, the API's envelope
// on every JSON answer, and every call the relay acknowledged still in its queue. Used by
// test/security/fuzz.test.ts (bounded, in npm test) and test/bench/fuzz.ts (many more cases).
//
// Requests go out two ways: as bytes written on a raw TCP socket (request lines, header framing,
// Content-Length / Transfer-Encoding combinations, truncated bodies: what no HTTP client sends),
// and through fetch (well-formed HTTP carrying junk: wrong JSON types, broken multipart, tus junk).
// Valid records and uploads (multipart and tus) are interleaved with the junk; each one the relay
// acknowledged is remembered and looked up in the queue afterwards.
import { connect } from 'node:net';
import fc from 'fast-check';
import {
  ALL_ENDPOINTS,
  API_PREFIX,
  AUTH_PATHS,
  EVIDENCE_ENDPOINTS,
  RECORD_ENDPOINTS,
  formatJsonTime,
  type EvidenceEndpoint,
  type RecordEndpoint,
} from '../../src/contract/index.ts';
import { OFFSET_OCTET_STREAM, TUS_PATH, formatMetadata } from '../../src/contract/tus.ts';
import { MODEL_PATHS } from '../../src/models/manifest.ts';
import type { QueueStore } from '../../src/store/QueueStoreTypes.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import type { RunningRelay } from '../../relay/server.ts';
import { evidenceName } from './evidence.ts';

/** What the fuzzer needs of a running relay. */
export interface FuzzTarget {
  url: string;
  host: string;
  port: number;
  /** a valid Bearer token of an account allowed `mineId` */
  token: string;
  adminToken: string;
  mineId: string;
  /** a mine the account may not send for */
  otherMine: string;
  /** a small H.264 MP4 the relay accepts */
  video: Buffer;
  /** injects (or lifts) a disk fault: the relay's disk above its high-water mark */
  setDiskFull(full: boolean): void;
  queue: QueueStore<RelayItem>;
}

/** The target for a running relay, a logged-in account of `mineId` and a video it accepts. */
export function fuzzTargetOf(relay: RunningRelay, token: string, video: Buffer, mines: { mineId: string; otherMine: string }): FuzzTarget {
  const url = new URL(relay.url);
  return {
    url: relay.url,
    host: url.hostname,
    port: Number(url.port),
    token,
    adminToken: relay.ctx.adminToken,
    ...mines,
    video,
    setDiskFull: (full) => {
      relay.ctx.disk.full = full;
    },
    queue: relay.ctx.queue,
  };
}

// ---- the actions ----

export type Framing =
  /** Content-Length of the body, `Connection: close` */
  | 'length'
  /** a chunked body, `Connection: close` */
  | 'chunked'
  /** junk: the relay must find the end (or refuse); we half-close after writing */
  | 'junk';

export interface RawAction {
  kind: 'raw';
  /** the request line (without CRLF) */
  line: string;
  headers: [string, string][];
  body: Buffer;
  framing: Framing;
  /** extra framing headers for 'junk' (duplicate or contradictory lengths, odd encodings) */
  junkFraming: [string, string][];
  /** cut the body after this many bytes, then half-close (a broken connection) */
  truncateAt?: number;
  method: string;
}

export interface FetchAction {
  kind: 'fetch';
  method: string;
  path: string;
  headers: [string, string][];
  body?: Buffer;
}

export interface ValidRecordAction {
  kind: 'validRecord';
  endpoint: string;
  via: 'fetch' | 'raw';
}

export interface ValidUploadAction {
  kind: 'validUpload';
  endpoint: string;
  via: 'multipart' | 'tus';
  /** tus: the number of PATCH chunks */
  chunks: number;
}

/** A real upload opened, then PATCH and HEAD junk sent to it (wrong offsets, types, bodies). */
export interface OpenUploadAction {
  kind: 'openUpload';
  endpoint: string;
  patches: { offset: string; contentType: string; body: Buffer; checksum?: string; method: string }[];
}

export interface DiskAction {
  kind: 'disk';
  full: boolean;
}

export type FuzzAction = RawAction | FetchAction | ValidRecordAction | ValidUploadAction | OpenUploadAction | DiskAction;

// ---- generators ----

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const JUNK_METHODS = ['get', 'G ET', 'CONNECT', 'TRACE', 'PROPFIND', 'X'.repeat(64), '', 'POST\t', '\u00e9'];

const recordEndpoints = Object.values(RECORD_ENDPOINTS);
const evidenceEndpoints = Object.values(EVIDENCE_ENDPOINTS);

/** Every path the relay serves, and some it does not. */
function pathArb(): fc.Arbitrary<string> {
  const known = [
    ...ALL_ENDPOINTS.map((e) => e.path),
    TUS_PATH,
    TUS_PATH.slice(0, -1),
    AUTH_PATHS.publicKey,
    AUTH_PATHS.token,
    '/healthz',
    '/metrics',
    '/admin/status',
    '/admin/queue',
    '/admin/queue/1',
    '/admin/queue/1/replay',
    MODEL_PATHS.manifest,
  ];
  const suffix = fc.oneof(
    fc.constant(''),
    fc.constantFrom('?', '?mineId=', '?access_token=junk', '?access%5Ftoken=x', '?a=%zz', '/../../etc/passwd', '%2e%2e%2f', '//', '#frag', '?mineId=' + 'A'.repeat(3000)),
    fc.string({ maxLength: 40 }).map((s) => '?' + encodeURIComponent(s)),
  );
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...known), suffix).map(([p, s]) => p + s) },
    { weight: 2, arbitrary: fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a).toString('hex')), fc.string({ maxLength: 40 })).map((id) => TUS_PATH + encodeURIComponent(id)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => MODEL_PATHS.filePrefix + encodeURIComponent(s)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((s) => '/' + encodeURIComponent(s)) },
  );
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

/** JSON bodies: the guide's records with fields of the wrong type, junk JSON, deep nesting. */
function jsonBodyArb(mineId: string): fc.Arbitrary<Buffer> {
  const template = fc.constantFrom(...recordEndpoints).map((e) => validRecord(e, mineId));
  const wrongTypes = fc
    .tuple(template, fc.array(fc.tuple(fc.constantFrom('mineId', 'cameraId', 'aiTypeCode', 'inWellNumber', 'outMineNumber', 'beltStatus', 'time', 'liveUrl', 'alarm', '__proto__', 'constructor', 'extra'), fc.jsonValue({ maxDepth: 3 })), { maxLength: 4 }), fc.boolean())
    .map(([rec, changes, drop]) => {
      const out: Record<string, unknown> = { ...rec };
      for (const [k, v] of changes) {
        if (drop) delete out[k];
        else out[k] = v;
      }
      return Buffer.from(JSON.stringify(out));
    });
  return fc.oneof(
    { weight: 4, arbitrary: wrongTypes },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 5000 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => Buffer.from('{"mineId":' + s)) },
    { weight: 1, arbitrary: fc.constantFrom('{"mineId":"1","mineId":"2"}', '\ufeff{}', '{“mineId”:“x”}', 'null', '', '{"__proto__":{"x":1}}').map((s) => Buffer.from(s)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
  );
}

/** Multipart bodies: bad boundaries, missing and wrong parts, truncated files. */
function multipartArb(video: Buffer, mineId: string, endpoints: readonly EvidenceEndpoint[] = evidenceEndpoints): fc.Arbitrary<{ contentType: string; body: Buffer }> {
  return fc
    .record({
      endpoint: fc.constantFrom(...endpoints),
      boundary: fc.oneof(fc.constant('XyZ123boundary'), fc.constant(''), fc.constant('a'.repeat(100)), fc.string({ minLength: 1, maxLength: 20 })),
      declared: fc.oneof(fc.constant('same'), fc.constant('none'), fc.constant('other'), fc.constant('quoted'), fc.constant('dup')),
      partName: fc.oneof(fc.constant('right'), fc.constant('file'), fc.constant(''), fc.string({ maxLength: 20 })),
      fileName: fc.oneof(fc.constant('right'), fc.constant(''), fc.constant('none'), fc.string({ maxLength: 40 }), fc.constant('../../x.MP4')),
      content: fc.oneof(
        fc.constant('video'),
        fc.integer({ min: 0, max: video.length - 1 }).map((n) => `cut:${n}`),
        fc.uint8Array({ maxLength: 200 }).map((a) => `bytes:${Buffer.from(a).toString('hex')}`),
      ),
      extraParts: fc.integer({ min: 0, max: 3 }),
      close: fc.constantFrom('close', 'none', 'nocrlf'),
      truncateAt: fc.option(fc.nat(), { nil: undefined }),
      ctype: fc.constantFrom('application/mp4', 'video/mp4', '', 'text/plain\r\nX: y'),
    })
    .map((m) => {
      const partName = m.partName === 'right' ? m.endpoint.partName : m.partName;
      const fileName = m.fileName === 'right' ? evidenceName(m.endpoint, mineId) : m.fileName;
      const content =
        m.content === 'video' ? video : m.content.startsWith('cut:') ? video.subarray(0, Number(m.content.slice(4))) : Buffer.from(m.content.slice(6), 'hex');
      const b = m.boundary;
      const parts: Buffer[] = [];
      for (let i = 0; i < m.extraParts; i++) parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nvalue${i}\r\n`));
      const disposition = `form-data; name="${partName}"${m.fileName === 'none' ? '' : `; filename="${fileName}"`}`;
      parts.push(Buffer.from(`--${b}\r\nContent-Disposition: ${disposition}\r\n${m.ctype ? `Content-Type: ${m.ctype}\r\n` : ''}\r\n`), content);
      if (m.close === 'close') parts.push(Buffer.from(`\r\n--${b}--\r\n`));
      else if (m.close === 'nocrlf') parts.push(Buffer.from(`\r\n--${b}--`));
      let body = Buffer.concat(parts);
      if (m.truncateAt !== undefined) body = body.subarray(0, m.truncateAt % (body.length + 1));
      const contentType = {
        same: `multipart/form-data; boundary=${b}`,
        none: 'multipart/form-data',
        other: 'multipart/form-data; boundary=somethingElse',
        quoted: `multipart/form-data; boundary="${b}"`,
        dup: `multipart/form-data; boundary=${b}; boundary=x`,
      }[m.declared];
      return { contentType, body };
    });
}

/** tus headers: Upload-Offset, -Length, -Metadata, -Checksum and Tus-Resumable junk. */
function tusHeadersArb(video: Buffer, mineId: string): fc.Arbitrary<[string, string][]> {
  const byteCount = fc.oneof(
    fc.constant(String(video.length)),
    fc.nat({ max: 20 * 1024 * 1024 }).map(String),
    fc.constantFrom('-1', '0', '1e3', '0x10', ' 5', '99999999999999999999', '9007199254740993', '', 'abc', '1,2', '10485761'),
  );
  const endpoint = fc.constantFrom(...evidenceEndpoints);
  const metadata = fc.oneof(
    endpoint.map((e) => formatMetadata({ kind: e.partName, filename: evidenceName(e, mineId) })),
    endpoint.map((e) => formatMetadata({ kind: e.id, filename: evidenceName(e, '140421009999') })),
    fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 })).map(([k, f]) => formatMetadata({ kind: k, filename: f })),
    fc.string({ maxLength: 80 }).map((s) => s.replace(/[\r\n]/g, '')),
    fc.constantFrom('kind', 'kind !!!', 'kind a,kind a', ',,,', 'kind ' + b64('personVideo') + ' extra', 'filename ' + 'A'.repeat(4000)),
  );
  const header = fc.oneof(
    fc.tuple(fc.constant('Tus-Resumable'), fc.constantFrom('1.0.0', '1.0.0', '0.2.2', '', '1.0.0, 1.0.0')),
    fc.tuple(fc.constant('Upload-Length'), byteCount),
    fc.tuple(fc.constant('Upload-Offset'), byteCount),
    fc.tuple(fc.constant('Upload-Defer-Length'), fc.constantFrom('1', '0', 'yes')),
    fc.tuple(fc.constant('Upload-Metadata'), metadata),
    fc.tuple(fc.constant('Upload-Checksum'), fc.oneof(fc.constantFrom('sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=', 'md5 !!', 'crc32 AAAA', 'sm3', 'sha1  ', 'SM3 ' + b64('x')), fc.string({ maxLength: 30 }))),
    fc.tuple(fc.constant('Content-Type'), fc.constantFrom(OFFSET_OCTET_STREAM, OFFSET_OCTET_STREAM + '; charset=x', 'application/octet-stream', 'multipart/form-data', '')),
    fc.tuple(fc.constant('X-HTTP-Method-Override'), fc.constantFrom('PATCH', 'DELETE', 'HEAD')),
  );
  return fc.array(header, { maxLength: 6 });
}

function authArb(target: Pick<FuzzTarget, 'token' | 'adminToken'>): fc.Arbitrary<[string, string][]> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant<[string, string][]>([['Authorization', `Bearer ${target.token}`]]) },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(
          `Bearer ${target.adminToken}`,
          'Bearer ',
          'Bearer junk',
          `bearer  ${target.token}  `,
          'Basic ' + b64('pcfront:pcfront'),
          'Basic ' + b64('pcfront'),
          'Basic !!!',
          'Bearer ' + 'x'.repeat(3000),
          `Bearer ${target.token}, Bearer junk`,
        )
        .map((v): [string, string][] => [['Authorization', v]]),
    },
    { weight: 1, arbitrary: fc.constant<[string, string][]>([]) },
    {
      weight: 1,
      arbitrary: fc.constant<[string, string][]>([
        ['Authorization', `Bearer ${target.token}`],
        ['Authorization', 'Bearer junk'],
      ]),
    },
  );
}

/** Ordinary and odd headers, duplicates included. */
function junkHeaderArb(): fc.Arbitrary<[string, string]> {
  const token = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(s));
  return fc.oneof(
    fc.tuple(fc.constantFrom('Host', 'Accept', 'Content-Type', 'X-Forwarded-For', 'Expect', 'Cookie', 'Accept-Encoding', 'Range', 'If-None-Match'), fc.string({ maxLength: 40 }).map(headerSafe)),
    fc.tuple(token, fc.string({ maxLength: 40 }).map(headerSafe)),
    fc.constantFrom<[string, string]>(
      ['Expect', '100-continue'],
      ['Content-Type', 'application/json; charset=GBK'],
      ['Content-Type', 'multipart/form-data'],
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ['Content-Encoding', 'gzip'],
      ['X-Big', 'b'.repeat(8000)],
      ['Upgrade', 'websocket'],
      ['Connection', 'keep-alive, Upgrade'],
    ),
  );
}

function headerSafe(s: string): string {
  return s.replace(/[\r\n\0]/g, ' ');
}

/** Request lines and header blocks that no client should send. */
function rawLineArb(): fc.Arbitrary<{ method: string; line: string }> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...METHODS), pathArb()).map(([m, p]) => ({ method: m, line: `${m} ${p} HTTP/1.1` })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...METHODS, ...JUNK_METHODS), pathArb(), fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/0.9', 'HTTP/2.0', 'http/1.1', 'HTTP/1.10', '', 'HTTP/1.1 extra'))
        .map(([m, p, v]) => ({ method: m, line: `${m} ${p}${v ? ' ' + v : ''}` })),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'GET http://a:99999/ HTTP/1.1',
        'GET http://127.0.0.1:1/healthz HTTP/1.1',
        'GET http://[::1/ HTTP/1.1',
        'OPTIONS * HTTP/1.1',
        'GET healthz HTTP/1.1',
        'GET  /healthz  HTTP/1.1',
        'GET /%00 HTTP/1.1',
        'GET /\u00e4 HTTP/1.1',
        'GET /' + 'a'.repeat(20_000) + ' HTTP/1.1',
        '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
        'PRI * HTTP/2.0',
        'GET /healthz?x=' + '%'.repeat(50) + ' HTTP/1.1',
      ).map((line) => ({ method: line.split(' ')[0]!, line })),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }).map((s) => ({ method: '?', line: headerSafe(s) })) },
  );
}

function bodyArb(target: FuzzTarget): fc.Arbitrary<{ contentType?: string; body: Buffer }> {
  return fc.oneof(
    { weight: 3, arbitrary: jsonBodyArb(target.mineId).map((body) => ({ contentType: 'application/json', body })) },
    { weight: 3, arbitrary: multipartArb(target.video, target.mineId) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((a) => ({ contentType: OFFSET_OCTET_STREAM, body: Buffer.from(a) })) },
    {
      weight: 1,
      arbitrary: fc.string({ maxLength: 200 }).map((s) => ({ contentType: 'application/x-www-form-urlencoded', body: Buffer.from(s) })),
    },
    { weight: 1, arbitrary: fc.constant({ body: Buffer.alloc(0) }) },
  );
}

function rawArb(target: FuzzTarget): fc.Arbitrary<RawAction> {
  return fc
    .record({
      line: rawLineArb(),
      auth: authArb(target),
      tus: tusHeadersArb(target.video, target.mineId),
      junk: fc.array(junkHeaderArb(), { maxLength: 4 }),
      body: bodyArb(target),
      framing: fc.constantFrom<Framing>('length', 'length', 'chunked', 'junk'),
      junkFraming: fc.array(
        fc.oneof(
          fc.tuple(fc.constant('Content-Length'), fc.constantFrom('-1', '0', '1', '99999', ' 12', '1, 2', 'abc', '1e3', '00000000000000000000000001')),
          fc.tuple(fc.constant('Transfer-Encoding'), fc.constantFrom('chunked', 'gzip, chunked', 'chunked, gzip', 'identity', 'Chunked', ' chunked', 'xchunked')),
          fc.constant<[string, string]>(['Content-Length', '5']),
          fc.constant<[string, string]>([' Content-Length', '5']),
          fc.constant<[string, string]>(['Content-Length ', '5']),
          fc.constant<[string, string]>(['X-Folded', 'a\r\n b']),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      truncate: fc.option(fc.nat(), { nil: undefined }),
    })
    .map((r) => {
      const headers: [string, string][] = [['Host', `${target.host}:${target.port}`], ...r.auth, ...r.tus, ...r.junk];
      if (r.body.contentType) headers.push(['Content-Type', r.body.contentType]);
      const action: RawAction = {
        kind: 'raw',
        line: r.line.line,
        method: r.line.method,
        headers,
        body: r.body.body,
        framing: r.framing,
        junkFraming: r.framing === 'junk' ? r.junkFraming : [],
      };
      if (r.truncate !== undefined && r.body.body.length > 0) action.truncateAt = r.truncate % r.body.body.length;
      return action;
    });
}

function fetchArb(target: FuzzTarget): fc.Arbitrary<FetchAction> {
  return fc
    .record({
      method: fc.constantFrom(...METHODS),
      path: pathArb(),
      auth: authArb(target),
      tus: tusHeadersArb(target.video, target.mineId),
      junk: fc.array(junkHeaderArb(), { maxLength: 3 }),
      body: bodyArb(target),
    })
    .map((r) => {
      const headers: [string, string][] = [...r.auth, ...r.tus, ...r.junk];
      if (r.body.contentType) headers.push(['Content-Type', r.body.contentType]);
      const action: FetchAction = { kind: 'fetch', method: r.method, path: r.path, headers };
      if (r.method !== 'GET' && r.method !== 'HEAD' && r.body.body.length) action.body = r.body.body;
      return action;
    });
}

/** Junk shaped for the endpoint it goes to: the right method and path, the body type it takes. */
function targetedArb(target: FuzzTarget): fc.Arbitrary<FetchAction> {
  const auth = authArb(target);
  const junk = fc.array(junkHeaderArb(), { maxLength: 2 });
  const evidence = fc.constantFrom(...evidenceEndpoints).chain((e) =>
    fc.record({ auth, junk, mp: multipartArb(target.video, target.mineId, [e]) }).map(
      (r): FetchAction => ({ kind: 'fetch', method: 'POST', path: e.path, headers: [...r.auth, ...r.junk, ['Content-Type', r.mp.contentType]], body: r.mp.body }),
    ),
  );
  const records = fc.record({
    e: fc.constantFrom(...recordEndpoints),
    get: fc.boolean(),
    auth,
    junk,
    body: jsonBodyArb(target.mineId),
    ctype: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'),
  }).map((r): FetchAction => ({ kind: 'fetch', method: r.get && r.e.methods.includes('GET') ? 'GET' : 'POST', path: r.e.path, headers: [...r.auth, ...r.junk, ['Content-Type', r.ctype]], ...(r.get ? {} : { body: r.body }) }));
  const tus = fc
    .record({
      method: fc.constantFrom('POST', 'POST', 'PATCH', 'HEAD', 'DELETE', 'OPTIONS'),
      id: fc.oneof(fc.constant(''), fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a).toString('hex')), fc.string({ maxLength: 40 }).map(encodeURIComponent)),
      auth,
      tus: tusHeadersArb(target.video, target.mineId),
      body: fc.uint8Array({ maxLength: 300 }),
    })
    .map((r): FetchAction => {
      const a: FetchAction = { kind: 'fetch', method: r.method, path: TUS_PATH + (r.method === 'POST' ? '' : r.id), headers: [...r.auth, ['Tus-Resumable', '1.0.0'], ...r.tus] };
      if (r.method === 'PATCH' || r.method === 'POST') a.body = Buffer.from(r.body);
      return a;
    });
  const mineStatus = fc
    .record({ auth, q: fc.oneof(fc.constant(target.mineId), fc.constant(target.otherMine), fc.string({ maxLength: 30 })), dup: fc.boolean() })
    .map((r): FetchAction => ({ kind: 'fetch', method: 'GET', path: `${API_PREFIX}camera/mineStatus?mineId=${encodeURIComponent(r.q)}${r.dup ? '&mineId=x' : ''}`, headers: r.auth }));
  const token = fc
    .record({
      post: fc.boolean(),
      fields: fc.dictionary(fc.constantFrom('username', 'password', 'grant_type', 'scope', 'encrypt', 'x'), fc.oneof(fc.string({ maxLength: 30 }), fc.constant('mine001'), fc.constant('A'.repeat(3000))), { maxKeys: 5 }),
      basic: fc.constantFrom('Basic ' + b64('pcfront:pcfront'), 'Basic ' + b64('x:y'), 'Basic', ''),
    })
    .map((r): FetchAction => {
      const q = new URLSearchParams(r.fields).toString();
      const headers: [string, string][] = r.basic ? [['Authorization', r.basic]] : [];
      if (!r.post) return { kind: 'fetch', method: 'GET', path: `${AUTH_PATHS.token}?${q}`, headers };
      return { kind: 'fetch', method: 'POST', path: AUTH_PATHS.token, headers: [...headers, ['Content-Type', 'application/x-www-form-urlencoded']], body: Buffer.from(q) };
    });
  return fc.oneof({ weight: 3, arbitrary: evidence }, { weight: 3, arbitrary: records }, { weight: 3, arbitrary: tus }, { weight: 1, arbitrary: mineStatus }, { weight: 1, arbitrary: token });
}

function openUploadArb(target: FuzzTarget): fc.Arbitrary<OpenUploadAction> {
  const patch = fc.record({
    offset: fc.oneof(fc.constant('0'), fc.constantFrom('1', '-1', '', 'abc', '99999999', String(target.video.length), String(target.video.length + 1))),
    contentType: fc.constantFrom(OFFSET_OCTET_STREAM, OFFSET_OCTET_STREAM, 'application/octet-stream', 'application/json', ''),
    body: fc.oneof(
      fc.integer({ min: 0, max: target.video.length }).map((n) => target.video.subarray(0, n)),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      fc.constant(Buffer.concat([target.video, Buffer.from('extra')])),
    ),
    checksum: fc.option(fc.constantFrom('sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=', 'md5 AAAA', 'crc32 AAAA', 'sm3 !!'), { nil: undefined }),
    method: fc.constantFrom('PATCH', 'PATCH', 'PATCH', 'HEAD', 'DELETE', 'POST'),
  });
  return fc.record({
    kind: fc.constant('openUpload' as const),
    endpoint: fc.constantFrom(...evidenceEndpoints.map((e) => e.id)),
    patches: fc.array(patch, { minLength: 1, maxLength: 4 }).map((ps) => ps.map((p) => (p.checksum === undefined ? { offset: p.offset, contentType: p.contentType, body: p.body, method: p.method } : p))),
  });
}

export function actionArb(target: FuzzTarget): fc.Arbitrary<FuzzAction> {
  return fc.oneof(
    { weight: 6, arbitrary: rawArb(target) },
    { weight: 4, arbitrary: fetchArb(target) },
    { weight: 6, arbitrary: targetedArb(target) },
    { weight: 2, arbitrary: openUploadArb(target) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('validRecord' as const), endpoint: fc.constantFrom(...recordEndpoints.map((e) => e.id)), via: fc.constantFrom('fetch' as const, 'raw' as const) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('validUpload' as const),
        endpoint: fc.constantFrom(...evidenceEndpoints.map((e) => e.id)),
        via: fc.constantFrom('multipart' as const, 'tus' as const),
        chunks: fc.integer({ min: 1, max: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('disk' as const), full: fc.boolean() }) },
  );
}

/** A run: a few actions on the same relay, one after another. */
export function runArb(target: FuzzTarget, maxActions = 8): fc.Arbitrary<FuzzAction[]> {
  return fc.array(actionArb(target), { minLength: 1, maxLength: maxActions });
}

// ---- valid calls ----

/** A record the relay accepts as it is (no normalisation, so the stored record equals it). */
export function validRecord(endpoint: RecordEndpoint, mineId: string): Record<string, unknown> {
  const time = formatJsonTime();
  const byId: Record<string, Record<string, unknown>> = {
    'infoReport/person': { mineId, cameraId: '20', aiTypeCode: '01', inWellNumber: '0005', time },
    'infoReport/truck': { mineId, cameraId: '30', aiTypeCode: '02', outMineNumber: '0002', time },
    'infoReport/belt': { mineId, cameraId: '10', aiTypeCode: '03', beltStatus: '0001', time },
    'infoReport/dispatchingRoomVideo': { mineId, cameraId: '40', aiTypeCode: '06', time },
    'infoReport/occlusion-movAngle': { mineId, cameraId: '10', aiTypeCode: '04', time },
    'camera/live': { mineId, cameraId: '10', liveUrl: 'http://10.1.2.3:8080/?action=stream', time },
    'camera/online-offine': { mineId, cameraId: '10', alarm: 1, time },
  };
  const rec = byId[endpoint.id];
  if (!rec) throw new Error(`no valid record for ${endpoint.id}`);
  return rec;
}

// ---- sending ----

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Outcome {
  /** a short description of the request, for reports */
  what: string;
  answer?: Answer;
  /** the relay did not answer within the bound and did not close */
  hang?: boolean;
  /** the connection was closed or reset without an answer */
  noAnswer?: boolean;
  /** the client refused to send it (fetch's own header checks) */
  notSent?: string;
  /** a valid call: the relay acknowledged it */
  acknowledged?: Acknowledged;
  /** a valid call the relay did not acknowledge */
  validRefused?: boolean;
  path: string;
  method: string;
  /** the Content-Type header(s) the request carried, joined with ', ' */
  contentType?: string;
}

function contentTypeOf(headers: readonly [string, string][]): { contentType?: string } {
  const types = headers.filter(([k]) => k.toLowerCase() === 'content-type').map(([, v]) => v);
  return types.length ? { contentType: types.join(', ') } : {};
}

export type Acknowledged = { kind: 'record'; endpoint: string; record: Record<string, unknown> } | { kind: 'evidence'; endpoint: string; fileName: string };

/** The first HTTP/1.1 response in `buf`, if it is complete. */
export function parseResponse(buf: Buffer, headRequest: boolean, closed: boolean): Answer | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
  if (!Number.isInteger(status)) return { status: NaN, headers: {}, body: buf };
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) {
      const k = l.slice(0, i).trim().toLowerCase();
      headers[k] = headers[k] === undefined ? l.slice(i + 1).trim() : `${headers[k]}, ${l.slice(i + 1).trim()}`;
    }
  }
  const rest = buf.subarray(end + 4);
  if (headRequest || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    if (status >= 100 && status < 200 && status !== 101) return parseResponse(rest, headRequest, closed);
    return { status, headers, body: Buffer.alloc(0) };
  }
  if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
    const chunks: Buffer[] = [];
    let at = 0;
    for (;;) {
      const nl = rest.indexOf('\r\n', at);
      if (nl < 0) return closed ? { status, headers, body: Buffer.concat(chunks) } : undefined;
      const size = parseInt(rest.subarray(at, nl).toString('latin1'), 16);
      if (!Number.isFinite(size)) return { status, headers, body: Buffer.concat(chunks) };
      if (size === 0) return { status, headers, body: Buffer.concat(chunks) };
      if (rest.length < nl + 2 + size + 2) return closed ? { status, headers, body: Buffer.concat(chunks) } : undefined;
      chunks.push(rest.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (rest.length >= n) return { status, headers, body: rest.subarray(0, n) };
    return closed ? { status, headers, body: rest } : undefined;
  }
  return closed ? { status, headers, body: rest } : undefined;
}

/** Writes `bytes`, optionally half-closes, and resolves with the first answer (or how it ended). */
export function sendRaw(host: string, port: number, bytes: Buffer, opts: { halfClose: boolean; head: boolean; boundMs: number }): Promise<Pick<Outcome, 'answer' | 'hang' | 'noAnswer'>> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const got: Buffer[] = [];
    let done = false;
    const finish = (r: Pick<Outcome, 'answer' | 'hang' | 'noAnswer'>) => {
      if (done) return;
      done = true;
      clearTimeout(bound);
      socket.destroy();
      resolve(r);
    };
    // A bound on a loopback call, not a wait: the relay answers junk in milliseconds.
    const bound = setTimeout(() => finish({ hang: true }), opts.boundMs);
    socket.on('connect', () => {
      socket.write(bytes, () => {
        if (opts.halfClose) socket.end();
      });
    });
    socket.on('data', (d: Buffer) => {
      got.push(d);
      const answer = parseResponse(Buffer.concat(got), opts.head, false);
      if (answer) finish({ answer });
    });
    socket.on('error', () => {
      // reset by the relay: what arrived before counts
    });
    socket.on('close', () => {
      const buf = Buffer.concat(got);
      const answer = buf.length ? parseResponse(buf, opts.head, true) : undefined;
      finish(answer ? { answer } : { noAnswer: true });
    });
  });
}

export function serializeRaw(a: RawAction): Buffer {
  let body = a.body;
  const headers = [...a.headers];
  const cut = a.truncateAt !== undefined;
  if (a.framing === 'length') {
    headers.push(['Content-Length', String(body.length)]);
  } else if (a.framing === 'chunked') {
    headers.push(['Transfer-Encoding', 'chunked']);
    const pieces: Buffer[] = [];
    for (let at = 0; at < body.length; at += 97) {
      const piece = body.subarray(at, at + 97);
      pieces.push(Buffer.from(piece.length.toString(16) + '\r\n'), piece, Buffer.from('\r\n'));
    }
    pieces.push(Buffer.from('0\r\n\r\n'));
    body = Buffer.concat(pieces);
  } else {
    headers.push(...a.junkFraming);
  }
  if (a.framing !== 'junk' && !cut) headers.push(['Connection', 'close']);
  if (cut) body = body.subarray(0, a.truncateAt);
  const head = [a.line, ...headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n') + '\r\n\r\n';
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}

function describe(method: string, path: string, extra = ''): string {
  const p = path.length > 120 ? path.slice(0, 120) + `…(${path.length})` : path;
  return `${method.slice(0, 20)} ${p}${extra}`;
}

async function viaFetch(url: string, method: string, headers: [string, string][], body?: Buffer): Promise<Answer> {
  const h = new Headers();
  for (const [k, v] of headers) h.append(k, v);
  const res = await fetch(url, { method, headers: h, ...(body ? { body } : {}), redirect: 'manual' });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: Object.fromEntries(res.headers), body: bytes };
}

export interface FuzzState {
  diskFull: boolean;
}

/** evidence file names given out so far in this process (each valid upload gets a new one) */
let uploads = 0;

/** Sends one action; never throws for what the relay answers. */
export async function perform(target: FuzzTarget, state: FuzzState, action: FuzzAction, boundMs: number): Promise<Outcome[]> {
  const auth: [string, string] = ['Authorization', `Bearer ${target.token}`];
  switch (action.kind) {
    case 'disk':
      state.diskFull = action.full;
      target.setDiskFull(action.full);
      return [];
    case 'raw': {
      const path = action.line.trim().split(/ +/)[1] ?? '';
      const bytes = serializeRaw(action);
      const halfClose = action.framing === 'junk' || action.truncateAt !== undefined;
      const r = await sendRaw(target.host, target.port, bytes, { halfClose, head: action.method === 'HEAD', boundMs });
      const what = describe(action.line.slice(0, 60), '', ` [raw ${action.framing}${action.truncateAt !== undefined ? ` cut@${action.truncateAt}` : ''}]`);
      return [{ what, path, method: action.method, ...contentTypeOf(action.headers), ...r }];
    }
    case 'fetch': {
      const what = describe(action.method, action.path, ' [fetch]');
      try {
        const answer = await viaFetch(target.url + action.path, action.method, action.headers, action.body);
        return [{ what, path: action.path, method: action.method, ...contentTypeOf(action.headers), answer }];
      } catch (err) {
        return [{ what, path: action.path, method: action.method, ...contentTypeOf(action.headers), notSent: String((err as Error).cause ?? err) }];
      }
    }
    case 'validRecord': {
      const endpoint = recordEndpoints.find((e) => e.id === action.endpoint)!;
      const record = validRecord(endpoint, target.mineId);
      const body = Buffer.from(JSON.stringify(record));
      const what = describe('POST', endpoint.path, ` [valid record ${action.via}]`);
      let r: Pick<Outcome, 'answer' | 'hang' | 'noAnswer'>;
      if (action.via === 'fetch') {
        r = { answer: await viaFetch(target.url + endpoint.path, 'POST', [auth, ['Content-Type', 'application/json']], body) };
      } else {
        const raw: RawAction = { kind: 'raw', line: `POST ${endpoint.path} HTTP/1.1`, method: 'POST', headers: [['Host', 'relay'], auth, ['Content-Type', 'application/json']], body, framing: 'length', junkFraming: [] };
        r = await sendRaw(target.host, target.port, serializeRaw(raw), { halfClose: false, head: false, boundMs });
      }
      const ok = r.answer?.status === 200 && envelopeOf(r.answer)?.code === 0;
      return [{ what, path: endpoint.path, method: 'POST', ...r, ...(ok ? { acknowledged: { kind: 'record', endpoint: endpoint.id, record } } : { validRefused: true }) }];
    }
    case 'openUpload': {
      const endpoint = evidenceEndpoints.find((e) => e.id === action.endpoint)!;
      const fileName = evidenceName(endpoint, target.mineId, Date.now() - ++uploads * 1000);
      const tus: [string, string] = ['Tus-Resumable', '1.0.0'];
      const created = await viaFetch(target.url + TUS_PATH, 'POST', [auth, tus, ['Upload-Length', String(target.video.length)], ['Upload-Metadata', formatMetadata({ kind: endpoint.partName, filename: fileName })]]);
      const out: Outcome[] = [{ what: describe('POST', TUS_PATH, ' [tus create]'), path: TUS_PATH, method: 'POST', answer: created }];
      const location = created.headers['location'];
      if (created.status !== 201 || !location) {
        if (!(state.diskFull && created.status === 507)) out[0]!.validRefused = true;
        return out;
      }
      for (const p of action.patches) {
        const headers: [string, string][] = [auth, tus, ['Upload-Offset', p.offset], ['Content-Type', p.contentType]];
        if (p.checksum) headers.push(['Upload-Checksum', p.checksum]);
        const answer = await viaFetch(target.url + location, p.method, headers, p.method === 'PATCH' || p.method === 'POST' ? p.body : undefined);
        // a chunk that completed the upload with the whole video is an acknowledgement like any other
        const completes = p.method === 'PATCH' && answer.status === 204 && Number(answer.headers['upload-offset']) === target.video.length;
        out.push({
          what: describe(p.method, location, ` [tus junk offset=${JSON.stringify(p.offset)} type=${JSON.stringify(p.contentType)} ${p.body.length} bytes]`),
          path: location,
          method: p.method,
          answer,
          ...(completes ? { acknowledged: { kind: 'evidence', endpoint: endpoint.id, fileName } } : {}),
        });
      }
      // A client that gives up deletes its upload (the relay bounds open uploads per account, and
      // the runs share one account); its answer is checked like any other.
      if (!out.some((o) => o.acknowledged)) {
        const answer = await viaFetch(target.url + location, 'DELETE', [auth, tus]);
        out.push({ what: describe('DELETE', location, ' [tus give up]'), path: location, method: 'DELETE', answer });
      }
      return out;
    }
    case 'validUpload': {
      const endpoint = evidenceEndpoints.find((e) => e.id === action.endpoint)! as EvidenceEndpoint;
      // a new name per upload: a time stamp a second further back each time
      const fileName = evidenceName(endpoint, target.mineId, Date.now() - ++uploads * 1000);
      const acknowledged: Acknowledged = { kind: 'evidence', endpoint: endpoint.id, fileName };
      if (action.via === 'multipart') {
        const form = new FormData();
        form.append(endpoint.partName, new Blob([target.video], { type: 'application/mp4' }), fileName);
        const res = await fetch(target.url + endpoint.path, { method: 'POST', headers: { authorization: auth[1] }, body: form });
        const answer: Answer = { status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(await res.arrayBuffer()) };
        const ok = answer.status === 200 && envelopeOf(answer)?.code === 0;
        return [{ what: describe('POST', endpoint.path, ' [valid multipart]'), path: endpoint.path, method: 'POST', answer, ...(ok ? { acknowledged } : { validRefused: true }) }];
      }
      const tus: [string, string] = ['Tus-Resumable', '1.0.0'];
      const out: Outcome[] = [];
      const created = await viaFetch(target.url + TUS_PATH, 'POST', [
        auth,
        tus,
        ['Upload-Length', String(target.video.length)],
        ['Upload-Metadata', formatMetadata({ kind: endpoint.partName, filename: fileName })],
      ]);
      const location = created.headers['location'];
      out.push({ what: describe('POST', TUS_PATH, ' [valid tus create]'), path: TUS_PATH, method: 'POST', answer: created });
      if (created.status !== 201 || !location) {
        out[0]!.validRefused = true;
        return out;
      }
      const size = Math.ceil(target.video.length / action.chunks);
      for (let at = 0; at < target.video.length; at += size) {
        const chunk = target.video.subarray(at, at + size);
        const answer = await viaFetch(target.url + location, 'PATCH', [auth, tus, ['Upload-Offset', String(at)], ['Content-Type', OFFSET_OCTET_STREAM]], chunk);
        const last = at + size >= target.video.length;
        const ok = answer.status === 204;
        out.push({
          what: describe('PATCH', location, ` [valid tus chunk @${at}]`),
          path: location,
          method: 'PATCH',
          answer,
          ...(ok && last ? { acknowledged } : {}),
          ...(!ok ? { validRefused: true } : {}),
        });
        if (!ok) break;
      }
      return out;
    }
  }
}

// ---- the properties ----

export interface Violation {
  /** which property: 5xx, envelope, hang, valid-refused, lost */
  property: 'status5xx' | 'envelope' | 'hang' | 'validRefused' | 'lost' | 'dead';
  what: string;
  status?: number;
  body?: string;
  path: string;
  method: string;
  contentType?: string;
}

export function envelopeOf(answer: Answer): { code: unknown; msg: unknown } | undefined {
  try {
    const v = JSON.parse(answer.body.toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as { code: unknown; msg: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

/** Successful answers of ours that are documented not to be the API's envelope. */
function envelopeExempt(o: Outcome, status: number): boolean {
  // absolute-form request targets (GET http://host/healthz) name the same routes
  const path = (/^https?:\/\/[^/]*(\/[^?]*)/i.exec(o.path)?.[1] ?? o.path).split(/[?#]/)[0] ?? '';
  if (status >= 300) return false;
  return path === '/healthz' || path === AUTH_PATHS.token || path.startsWith('/admin/') || path === MODEL_PATHS.manifest;
}

function looksJson(a: Answer): boolean {
  const type = a.headers['content-type'] ?? '';
  if (/json/i.test(type)) return true;
  const text = a.body.subarray(0, 1).toString('latin1');
  return text === '{' || text === '[';
}

export function violationsOf(o: Outcome, state: FuzzState): Violation[] {
  const out: Violation[] = [];
  const base = { what: o.what, path: o.path, method: o.method, ...(o.contentType === undefined ? {} : { contentType: o.contentType }) };
  if (o.hang) out.push({ ...base, property: 'hang' });
  if (o.validRefused && !(state.diskFull && o.answer?.status === 507)) {
    out.push({ ...base, property: 'validRefused', ...(o.answer ? { status: o.answer.status, body: o.answer.body.toString('utf8').slice(0, 300) } : {}) });
  }
  const a = o.answer;
  if (!a) return out;
  const body = a.body.toString('utf8').slice(0, 300);
  if (a.status >= 500 && !(a.status === 507 && state.diskFull)) out.push({ ...base, property: 'status5xx', status: a.status, body });
  if (Number.isNaN(a.status)) out.push({ ...base, property: 'envelope', body: 'not an HTTP/1.1 answer: ' + body });
  if (looksJson(a) && a.body.length > 0 && !envelopeExempt(o, a.status)) {
    const env = envelopeOf(a);
    if (!env || typeof env.code !== 'number' || typeof env.msg !== 'string') out.push({ ...base, property: 'envelope', status: a.status, body });
  }
  return out;
}

function sortedJson(v: unknown): string {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Every acknowledged call whose item is not in the queue. */
export function lostItems(queue: QueueStore<RelayItem>, acknowledged: readonly Acknowledged[]): Acknowledged[] {
  const records = new Set<string>();
  const files = new Set<string>();
  let from = 1;
  for (;;) {
    const page = queue.range({ fromSeq: from, limit: 1000 });
    for (const item of page) {
      const p = item.payload;
      if (p.record) records.add(`${p.endpoint} ${sortedJson(p.record)}`);
      if (p.file) files.add(`${p.endpoint} ${p.file.name}`);
    }
    if (page.length < 1000) break;
    from = page[page.length - 1]!.seq + 1;
  }
  return acknowledged.filter((a) => (a.kind === 'record' ? !records.has(`${a.endpoint} ${sortedJson(a.record)}`) : !files.has(`${a.endpoint} ${a.fileName}`)));
}

// ---- findings the suite knows about ----

export interface KnownFinding {
  id: string;
  /** what is wrong, where, and who fixes it */
  note: string;
  matches(v: Violation): boolean;
}

/** A case run: its outcomes and the violations they show. */
export interface RunResult {
  outcomes: Outcome[];
  violations: Violation[];
  acknowledged: Acknowledged[];
}

/** Runs the actions one after another, then checks the relay still answers a valid call. */
export async function runActions(target: FuzzTarget, actions: readonly FuzzAction[], boundMs: number): Promise<RunResult> {
  const state: FuzzState = { diskFull: false };
  const outcomes: Outcome[] = [];
  const violations: Violation[] = [];
  const acknowledged: Acknowledged[] = [];
  try {
    for (const action of actions) {
      for (const o of await perform(target, state, action, boundMs)) {
        outcomes.push(o);
        violations.push(...violationsOf(o, state));
        if (o.acknowledged) acknowledged.push(o.acknowledged);
      }
    }
  } finally {
    if (state.diskFull) target.setDiskFull(false);
    state.diskFull = false;
  }
  // no crash, no wedge: a good call after the junk is still answered with success
  const alive = await perform(target, state, { kind: 'validRecord', endpoint: 'camera/online-offine', via: 'raw' }, boundMs);
  for (const o of alive) {
    if (!o.acknowledged) violations.push({ property: 'dead', what: 'a valid record after the run was not acknowledged', path: o.path, method: o.method, ...(o.answer ? { status: o.answer.status } : {}) });
    else acknowledged.push(o.acknowledged);
  }
  for (const lost of lostItems(target.queue, acknowledged)) {
    violations.push({ property: 'lost', what: `acknowledged but not in the queue: ${JSON.stringify(lost)}`, path: lost.endpoint, method: 'POST' });
  }
  return { outcomes, violations, acknowledged };
}

/** Splits violations into those a known finding explains and the new ones. */
export function triage(violations: readonly Violation[], known: readonly KnownFinding[]): { fresh: Violation[]; explained: Map<string, Violation[]> } {
  const fresh: Violation[] = [];
  const explained = new Map<string, Violation[]>();
  for (const v of violations) {
    const k = known.find((f) => f.matches(v));
    if (!k) fresh.push(v);
    else explained.set(k.id, [...(explained.get(k.id) ?? []), v]);
  }
  return { fresh, explained };
}

export function showAction(a: FuzzAction): string {
  if (a.kind === 'raw') {
    const bytes = serializeRaw(a);
    const text = bytes.subarray(0, 600).toString('latin1');
    return `raw (${a.framing}${a.truncateAt !== undefined ? `, cut at ${a.truncateAt} and half-closed` : a.framing === 'junk' ? ', half-closed' : ''}): ${JSON.stringify(text)}${bytes.length > 600 ? `…(${bytes.length} bytes)` : ''}`;
  }
  if (a.kind === 'fetch') return `fetch ${a.method} ${a.path.slice(0, 200)} headers=${JSON.stringify(a.headers).slice(0, 400)} body=${JSON.stringify(a.body?.subarray(0, 300).toString('latin1') ?? '')}`;
  return JSON.stringify(a);
}
