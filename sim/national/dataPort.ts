// The data port of the simulated national platform: GET /sm2, the token endpoint, the twelve data
// calls and camera/mineStatus, answered as NATIONAL-API.md describes the real one, with the fault
// knobs applied in a fixed order:
//
//   error5xxRate (any request) → route, method → Bearer token (424) → code1Rate → resetMidUploadRate
//   (uploads) → reject rule (once the mine is known) → the contract's rules (400/403) → recorded
//
// latencyMs delays every answer; bandwidthBytesPerSec paces every request body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import {
  AUTH_FAILURES,
  AUTH_PATHS,
  BodyTooLarge,
  DEFAULT_JSON_LIMITS,
  EVIDENCE_ENDPOINTS,
  QUERY_ENDPOINTS,
  RECORD_ENDPOINTS,
  SUCCESS,
  UnsupportedContentType,
  checkEvidenceFileName,
  checkQuery,
  checkRecord,
  failure,
  flag,
  parseJsonBody,
  serverError,
  success,
  type EvidenceEndpoint,
  type RecordEndpoint,
  type TokenAnswer,
} from '../../src/contract/index.ts';
import { sm2DecryptAny } from '../../src/crypto/sm2ClientVariants.ts';
import { EsealError } from '../../src/errors.ts';
import { requestUrl } from '../../src/http/guard.ts';
import { probeMp4File } from '../../src/media/mp4.ts';
import { SimMultipart } from '../errors.ts';
import type { Authority } from './Authority.ts';
import { FileSink } from './FileSink.ts';
import { BodyReader, ConnectionResetByFault, json, send, sleep, type Answer } from './http.ts';
import { multipartBoundary, readMultipart, type PartSink } from './multipart.ts';
import type { ReceivedLog } from './ReceivedLog.ts';
import { endpointIdOf } from './ReceivedLog.ts';
import type { ReceivedItem, RejectRule, SimAccount, SimFaults, SimLogger } from './SimTypes.ts';
import type { TokenBucket } from './TokenBucket.ts';

/** What the data port needs of the simulator. */
export interface DataPortCore {
  faults(): SimFaults;
  random(): number;
  readonly bucket: TokenBucket;
  readonly auth: Authority;
  readonly received: ReceivedLog;
  readonly logger: SimLogger | undefined;
  /** what GET /sm2 answers */
  readonly publicKeyText: string;
  readonly privateKeyHex: string;
  mineStatus(mineId: string): string | undefined;
  /** where uploads are staged (inside keepFiles when set, so keeping is a rename) */
  readonly stagingDir: string;
  readonly keepFiles: string | undefined;
  now(): number;
}

/** The guide's 10 MB, read as 10 MiB (as the relay does). */
export const VIDEO_MAX_BYTES = 10 * 1024 * 1024;
const JSON_MAX_BYTES = 64 * 1024;
const FORM_MAX_BYTES = 16 * 1024;
/** a refused body is read to its end (so the client sees the answer) up to this much */
const DRAIN_CAP_BYTES = 64 * 1024 * 1024;
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const MP4_TYPES = new Set(['application/mp4', 'video/mp4']);

type Route =
  | { kind: 'publicKey' }
  | { kind: 'token' }
  | { kind: 'record'; endpoint: RecordEndpoint }
  | { kind: 'evidence'; endpoint: EvidenceEndpoint }
  | { kind: 'mineStatus' };

const ROUTES = new Map<string, Route>([
  [AUTH_PATHS.publicKey, { kind: 'publicKey' }],
  [AUTH_PATHS.token, { kind: 'token' }],
  [QUERY_ENDPOINTS.mineStatus.path, { kind: 'mineStatus' }],
  ...Object.values(RECORD_ENDPOINTS).map((e): [string, Route] => [e.path, { kind: 'record', endpoint: e }]),
  ...Object.values(EVIDENCE_ENDPOINTS).map((e): [string, Route] => [e.path, { kind: 'evidence', endpoint: e }]),
]);

function methodsOf(route: Route): readonly string[] {
  switch (route.kind) {
    case 'publicKey':
    case 'mineStatus':
      return ['GET'];
    case 'token':
      return ['GET', 'POST'];
    case 'record':
      return route.endpoint.methods;
    case 'evidence':
      return [route.endpoint.method];
  }
}

type Outcome = 'ok' | 'login' | 'loginFailed' | 'token' | 'invalid' | 'error5xx' | 'code1' | 'resetMidUpload' | 'reject' | 'other';

/** One call, as logged and counted. */
interface Call {
  method: string;
  path: string;
  endpoint?: string;
  account?: string;
  mineId?: string;
  outcome: Outcome;
  item?: ReceivedItem;
}

/** An answer decided deep inside the processing (a reject rule, a foreign mine). */
class AnswerNow extends Error {
  constructor(
    readonly answer: Answer,
    readonly outcome: Outcome,
  ) {
    super(`answer ${answer.status}`);
  }
}

function rejectAnswer(rule: RejectRule): AnswerNow {
  return new AnswerNow(json(rule.status, { code: rule.code, msg: rule.msg, data: null }), 'reject');
}

/** The reject rule when it matches the call (a rule naming a mine needs the call's mine). */
function matchReject(rule: RejectRule | null, endpointId: string, mineId: string | undefined): RejectRule | undefined {
  if (!rule) return undefined;
  if (rule.endpoint !== undefined && endpointIdOf(rule.endpoint) !== endpointId) return undefined;
  if (rule.mineId !== undefined && rule.mineId !== mineId) return undefined;
  return rule;
}

function foreignMine(account: SimAccount, mineId: string, field: string): AnswerNow {
  const mines = account.mines ?? [];
  const shown = mines.length > 5 ? `${mines.slice(0, 5).join(', ')}, …` : mines.join(', ');
  return new AnswerNow(json(403, failure(`${field}: ${mineId} is not a mine of account ${account.username} (its mines: ${shown})`)), 'invalid');
}

const NGINX_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

/** What a platform behind a gateway answers when it is unwell: JSON envelope, nginx HTML, Spring's error JSON. */
function fault5xx(pick: number, path: string, now: number): Answer {
  if (pick < 1 / 3) return json(500, serverError('Internal Server Error'));
  if (pick < 2 / 3) return { status: 502, body: NGINX_502, type: 'text/html' };
  return json(503, { timestamp: new Date(now).toISOString(), status: 503, error: 'Service Unavailable', path });
}

function bearerToken(req: IncomingMessage, url: URL): string {
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (m) return m[1]!;
  return url.searchParams.get('access_token') ?? '';
}

/** A JSON-able copy of a parsed body (our JSON reader makes prototype-less objects). */
function plain(v: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
}

function mineIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const v = (input as Record<string, unknown>)['mineId'];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

function errorAnswer(err: unknown, call: Call): Answer {
  if (err instanceof AnswerNow) {
    call.outcome = err.outcome;
    return err.answer;
  }
  if (err instanceof EsealError && err.statusCode < 500) {
    // Every broken rule answers 400 {"code":1,"msg":"<field>: <rule>"} (NATIONAL-API.md, envelope).
    call.outcome = 'invalid';
    return json(400, failure(err.message));
  }
  call.outcome = 'other';
  const message = err instanceof Error ? err.message : String(err);
  return json(500, serverError(`simulator fault: ${message}`));
}

/** The request handler of the data port; its promise settles when the call is answered (or dropped). */
export function dataPortHandler(core: DataPortCore): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return (req, res) =>
    handle(core, req, res).catch((err: unknown) => {
      core.logger?.warn({ err: String(err) }, 'simulator: unexpected failure in the data port');
      if (!res.headersSent && !res.destroyed) send(res, json(500, serverError('simulator fault')));
    });
}

async function handle(core: DataPortCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  let url: URL;
  try {
    url = requestUrl(req, 'http://simulator');
  } catch (err) {
    // an unparsable target (`GET http://a:99999/`): the platform's 400 envelope, then close
    core.logger?.info({ method: req.method, err: String(err) }, 'call: the request target cannot be parsed');
    send(res, json(400, failure(err instanceof Error ? err.message : String(err)), { connection: 'close' }));
    return;
  }
  const call: Call = { method: req.method ?? 'GET', path: url.pathname, outcome: 'other' };
  const body = new BodyReader(req, {
    bucket: core.bucket,
    onBytes: (n) => (core.received.counters.bodyBytes += n),
    onReset: () => count(core, 'resetMidUpload'),
  });
  let answer: Answer;
  try {
    answer = await dispatch(core, req, url, body, call);
  } catch (err) {
    if (err instanceof ConnectionResetByFault || req.socket.destroyed) {
      // a reset by fault was counted when it happened; a client that went away is not counted
      if (err instanceof ConnectionResetByFault) call.outcome = 'resetMidUpload';
      const why = err instanceof ConnectionResetByFault ? 'call: connection reset by the resetMidUploadRate fault' : 'call: the client went away';
      core.logger?.info({ ...logFields(call), ms: Math.round(performance.now() - started) }, why);
      return;
    }
    answer = errorAnswer(err, call);
  }
  await body.finish(res, DRAIN_CAP_BYTES);
  await sleep(core.faults().latencyMs);
  count(core, call.outcome);
  send(res, answer);
  core.logger?.info({ ...logFields(call), status: answer.status, ms: Math.round(performance.now() - started) }, 'call');
}

function logFields(call: Call): Record<string, unknown> {
  const out: Record<string, unknown> = { method: call.method, path: call.path, outcome: call.outcome };
  if (call.endpoint) out['endpoint'] = call.endpoint;
  if (call.account) out['account'] = call.account;
  if (call.mineId) out['mineId'] = call.mineId;
  if (call.item) {
    out['seq'] = call.item.seq;
    out['duplicate'] = call.item.duplicate;
    if (call.item.file) out['file'] = call.item.file.fileName;
    if (call.item.flags.length) out['flags'] = call.item.flags;
  }
  return out;
}

function count(core: DataPortCore, outcome: Outcome): void {
  const s = core.received.counters;
  switch (outcome) {
    case 'login':
      s.logins++;
      break;
    case 'loginFailed':
      s.loginFailures++;
      break;
    case 'token':
      s.tokenRejected++;
      break;
    case 'invalid':
      s.invalid++;
      break;
    case 'error5xx':
    case 'code1':
    case 'resetMidUpload':
    case 'reject':
      s.rejectedByFault++;
      s.byFault[outcome]++;
      break;
    default:
      break;
  }
}

async function dispatch(core: DataPortCore, req: IncomingMessage, url: URL, body: BodyReader, call: Call): Promise<Answer> {
  const faults = core.faults();
  if (faults.error5xxRate > 0 && core.random() < faults.error5xxRate) {
    call.outcome = 'error5xx';
    return fault5xx(core.random(), url.pathname, core.now());
  }
  const route = ROUTES.get(url.pathname);
  if (!route) return json(404, failure(`no such endpoint: ${url.pathname}`));
  const methods = methodsOf(route);
  if (!methods.includes(call.method)) {
    return json(405, failure(`${call.method} is not allowed on ${url.pathname}; use ${methods.join(' or ')}`), { allow: methods.join(', ') });
  }
  switch (route.kind) {
    case 'publicKey':
      call.outcome = 'ok';
      return { status: 200, body: core.publicKeyText };
    case 'token':
      return token(core, req, url, body, call);
    default:
      break;
  }

  const endpointId = route.kind === 'mineStatus' ? QUERY_ENDPOINTS.mineStatus.id : route.endpoint.id;
  call.endpoint = endpointId;
  const presented = bearerToken(req, url);
  const account = core.auth.verify(presented);
  if (!account) {
    call.outcome = 'token';
    return json(AUTH_FAILURES.tokenInvalid.status, AUTH_FAILURES.tokenInvalid.body(presented));
  }
  call.account = account.username;
  if (faults.code1Rate > 0 && core.random() < faults.code1Rate) {
    call.outcome = 'code1';
    return json(200, failure('token expire', `Invalid access token: ${presented}`));
  }
  switch (route.kind) {
    case 'mineStatus':
      return mineStatus(core, url, account, call);
    case 'record':
      return record(core, route.endpoint, req, url, body, account, call);
    case 'evidence':
      if (faults.resetMidUploadRate > 0 && core.random() < faults.resetMidUploadRate) {
        // half-way when the length is declared; else right after the first chunk
        const length = Number(req.headers['content-length']);
        body.resetAfter = Number.isFinite(length) && length > 1 ? Math.floor(length / 2) : 1;
      }
      return evidence(core, route.endpoint, req, body, account, call);
  }
}

async function token(core: DataPortCore, req: IncomingMessage, url: URL, body: BodyReader, call: Call): Promise<Answer> {
  call.endpoint = 'auth/oauth/token';
  call.outcome = 'loginFailed';
  const clientError = core.auth.checkClient(req.headers.authorization);
  if (clientError) return json(AUTH_FAILURES.badClient.status, AUTH_FAILURES.badClient.body(clientError));
  // URLSearchParams turns '+' into ' ' exactly as the platform's framework does; the SM2 reader turns it back.
  const params = new URLSearchParams(url.search);
  if (req.method === 'POST') {
    const bytes = await body.readAll(FORM_MAX_BYTES, () => BodyTooLarge(`body: larger than ${FORM_MAX_BYTES} bytes`, { field: 'body' }));
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (bytes.length > 0 && (type === '' || type.startsWith('application/x-www-form-urlencoded'))) {
      for (const [k, v] of new URLSearchParams(bytes.toString('utf8'))) params.set(k, v);
    }
  }
  const grant = params.get('grant_type');
  if (grant !== 'password') return json(400, failure(`grant_type: must be password, got ${JSON.stringify(grant ?? '')}`));
  const scope = params.get('scope');
  if (scope !== null && scope !== 'server') return json(400, failure(`scope: must be server, got ${JSON.stringify(scope)}`));
  const username = params.get('username') ?? '';
  const encrypted = params.get('password') ?? '';
  call.account = username || undefined;
  const badCredentials = json(AUTH_FAILURES.badCredentials.status, AUTH_FAILURES.badCredentials.body());
  if (!username || !encrypted) return badCredentials;
  let password: string;
  try {
    password = sm2DecryptAny(encrypted, core.privateKeyHex, { field: 'password' }).plaintext.toString('utf8');
  } catch {
    return badCredentials;
  }
  const account = core.auth.verifyPassword(username, password);
  if (!account) return badCredentials;
  const issued = core.auth.issue(username);
  call.outcome = 'login';
  const answer: TokenAnswer = {
    access_token: issued.token,
    token_type: 'bearer',
    expires_in: issued.expiresIn,
    scope: 'server',
    dept_name: account.org ?? account.username,
    org_name: account.org ?? account.username,
  };
  return json(200, answer, { 'cache-control': 'no-store' });
}

function mineStatus(core: DataPortCore, url: URL, account: SimAccount, call: Call): Answer {
  const endpoint = QUERY_ENDPOINTS.mineStatus;
  const query: Record<string, string> = Object.fromEntries(url.searchParams);
  delete query['access_token'];
  const hit = matchReject(core.faults().reject, endpoint.id, query['mineId']);
  if (hit) throw rejectAnswer(hit);
  const { value } = checkQuery(endpoint, query, { now: core.now(), maxSkewMs: Infinity });
  const mineId = String(value['mineId']);
  call.mineId = mineId;
  if (!core.auth.mayUseMine(account, mineId)) throw foreignMine(account, mineId, 'mineId');
  core.received.counters.mineStatusQueries++;
  call.outcome = 'ok';
  const status = core.mineStatus(mineId);
  return json(200, status === undefined ? failure('mine not found') : success({ status }));
}

/** The record a call carries: a JSON body, a form body, or (GET without a body) the query string. */
function recordInput(req: IncomingMessage, url: URL, bytes: Buffer): unknown {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/')) {
    throw UnsupportedContentType('body: this endpoint takes a JSON object (Content-Type: application/json), not multipart/form-data', { field: 'body' });
  }
  if (type.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(bytes.toString('utf8')));
  if (bytes.length === 0 && req.method === 'GET') {
    const q: Record<string, string> = Object.fromEntries(url.searchParams);
    delete q['access_token'];
    if (Object.keys(q).length > 0) return q;
  }
  return parseJsonBody(bytes, DEFAULT_JSON_LIMITS);
}

async function record(
  core: DataPortCore,
  endpoint: RecordEndpoint,
  req: IncomingMessage,
  url: URL,
  body: BodyReader,
  account: SimAccount,
  call: Call,
): Promise<Answer> {
  const bytes = await body.readAll(JSON_MAX_BYTES, () => BodyTooLarge(`body: larger than ${JSON_MAX_BYTES} bytes`, { field: 'body' }));
  let input: unknown;
  let broken: unknown;
  try {
    input = recordInput(req, url, bytes);
  } catch (err) {
    broken = err;
  }
  const hit = matchReject(core.faults().reject, endpoint.id, mineIdOf(input));
  if (hit) throw rejectAnswer(hit);
  if (broken !== undefined) throw broken;
  const at = core.now();
  const { value, flags } = checkRecord(endpoint, input, { now: at, maxSkewMs: CLOCK_SKEW_MS });
  const mineId = String(value['mineId']);
  call.mineId = mineId;
  if (!core.auth.mayUseMine(account, mineId)) throw foreignMine(account, mineId, 'mineId');
  call.item = core.received.add({
    at,
    endpoint: endpoint.id,
    account: account.username,
    mineId,
    cameraId: String(value['cameraId']),
    record: plain(input),
    flags,
  });
  call.outcome = 'ok';
  return json(200, SUCCESS);
}

/** A sink for the non-file parts of an upload: read, bounded, dropped. */
function fieldSink(name: string): PartSink {
  let size = 0;
  return {
    write(chunk) {
      size += chunk.length;
      if (size > 4096) throw SimMultipart(`${name}: a form field longer than 4096 bytes`, { field: name });
    },
    end() {},
  };
}

async function evidence(
  core: DataPortCore,
  endpoint: EvidenceEndpoint,
  req: IncomingMessage,
  body: BodyReader,
  account: SimAccount,
  call: Call,
): Promise<Answer> {
  const part = endpoint.partName;
  const rule = core.faults().reject;
  const boundary = multipartBoundary(req.headers['content-type']);
  const endpointOnly = () => {
    const hit = matchReject(rule, endpoint.id, undefined);
    if (hit) throw rejectAnswer(hit);
  };
  if (!boundary) {
    endpointOnly();
    throw SimMultipart(
      `${part}: the request must be multipart/form-data with one file part named "${part}" (got Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')})`,
      { field: part },
    );
  }
  const at = core.now();
  const tooLarge = () => BodyTooLarge(`${part}: larger than ${VIDEO_MAX_BYTES} bytes (10 MiB, the national platform's limit)`, { field: part });
  let file: FileSink | undefined;
  let head: { fileName: string; contentType: string; mineId: string; cameraId: string; flags: string[] } | undefined;
  try {
    await readMultipart(body.chunks(), boundary, async (h) => {
      if (h.fileName === undefined) return fieldSink(h.name);
      if (file) throw SimMultipart(`${part}: only one file part per request (a second one, "${h.name}", came)`, { field: part });
      if (h.name !== part) {
        throw SimMultipart(`${part}: the file part must be named "${part}" for ${endpoint.id}, got "${h.name}"`, { field: part });
      }
      const hit = matchReject(rule, endpoint.id, h.fileName.slice(0, 12));
      if (hit) throw rejectAnswer(hit);
      const checked = checkEvidenceFileName(endpoint, h.fileName, { now: at, maxSkewMs: CLOCK_SKEW_MS });
      const flags = checked.flags;
      if (!MP4_TYPES.has(h.contentType.toLowerCase())) flags.push(flag('file.contentType', h.contentType.slice(0, 40)));
      const mineId = checked.value.mineId;
      call.mineId = mineId;
      if (!core.auth.mayUseMine(account, mineId)) throw foreignMine(account, mineId, `${part} filename mineId`);
      head = { fileName: h.fileName, contentType: h.contentType, mineId, cameraId: checked.value.cameraId, flags };
      file = await FileSink.open(core.stagingDir, VIDEO_MAX_BYTES, tooLarge);
      return file;
    });
    if (!file || !head) {
      endpointOnly();
      throw SimMultipart(`${part}: missing; the body must carry one file part named "${part}" (filename ${endpoint.fileForm === 'plain' ? 30 : 34} digits + .MP4)`, {
        field: part,
      });
    }
    let info;
    try {
      info = await probeMp4File(file.path, { field: part });
    } catch (err) {
      if (err instanceof EsealError && err.statusCode < 500) throw new EsealError(err.code, `${part}: ${err.message}`, 400, { field: part, cause: err });
      throw err;
    }
    const item = core.received.add({
      at,
      endpoint: endpoint.id,
      account: account.username,
      mineId: head.mineId,
      cameraId: head.cameraId,
      file: {
        partName: part,
        fileName: head.fileName,
        contentType: head.contentType,
        size: file.size,
        sm3: file.sm3,
        probe: { durationMs: info.durationMs, codec: info.video.codec, width: info.video.width, height: info.video.height },
      },
      flags: head.flags,
    });
    if (core.keepFiles !== undefined) {
      const kept = join(core.keepFiles, `${item.seq}-${head.fileName}`);
      await file.keepAs(kept);
      item.file!.path = kept;
    }
    call.item = item;
    call.outcome = 'ok';
    return json(200, SUCCESS);
  } finally {
    await file?.dispose();
  }
}
