// A client of the national API, exactly as the guide describes it: the SM2 public key, the login
// with an SM2-encrypted password, and every data call as a mine sends it. The relay forwards with
// it (to the national platform or the next relay up), the demo's scripted mine and the edge module
// send with it. Bodies stream (videos from disk or the blob store); nothing here decides what an
// answer means (src/client/outcome.ts does, by status and code, never by message text).
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import {
  AUTH_PATHS,
  QUERY_ENDPOINTS,
  readEnvelope,
  type Envelope,
  type EvidenceEndpoint,
  type RecordEndpoint,
} from '../contract/index.ts';
import { impliedEncryptOptions, parsePublicKey, sm2Encrypt } from '../crypto/sm2.ts';
import { UpstreamHttpError } from './errors.ts';

export interface ApiAnswer {
  status: number;
  /** the envelope, when the body is one */
  envelope: Envelope | undefined;
  /** the body as text (bounded), for dead letters and logs */
  text: string;
}

export interface LoginAnswer extends ApiAnswer {
  token?: string;
  expiresIn?: number;
  org?: string;
}

const MAX_ANSWER_BYTES = 64 * 1024;

async function readAnswer(res: Dispatcher.ResponseData<unknown>): Promise<ApiAnswer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    const c = chunk as Buffer;
    if (size < MAX_ANSWER_BYTES) chunks.push(c.subarray(0, MAX_ANSWER_BYTES - size));
    size += c.length;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, envelope: readEnvelope(json), text };
}

/** A multipart/form-data body with one file part, streamed, with its exact length. */
function multipartBody(partName: string, fileName: string, size: number, file: Readable): { body: Readable; length: number; type: string } {
  const boundary = `----esealRelay${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${partName}"; filename="${fileName}"\r\nContent-Type: application/mp4\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* body() {
    yield head;
    for await (const chunk of file) yield chunk as Buffer;
    yield tail;
  }
  return { body: Readable.from(body(), { objectMode: false }), length: head.length + size + tail.length, type: `multipart/form-data; boundary=${boundary}` };
}

export interface NationalClientOptions {
  /** the platform's https://ip:port (or a relay's) */
  url: string;
  /** the Basic client of the token endpoint (the guide's pcfront:pcfront by default) */
  client?: { id: string; secret: string };
  /** the guide's example logs in with GET and a query string */
  loginMethod?: 'GET' | 'POST';
  /** SM2 ciphertext layout; hex or base64 follows the format of the platform's key */
  cipherMode?: 'C1C3C2' | 'C1C2C3' | 'DER';
  /** PEM of the CA (or self-signed certificate) to trust, and whether to skip the check */
  ca?: string;
  insecure?: boolean;
  connectTimeoutSeconds?: number;
  requestTimeoutSeconds?: number;
}

export class NationalClient {
  readonly base: string;
  readonly #dispatcher: Agent;
  readonly #client: { id: string; secret: string };
  readonly #loginMethod: 'GET' | 'POST';
  readonly #cipherMode: 'C1C3C2' | 'C1C2C3' | 'DER';
  #publicKey: string | undefined;

  constructor(options: NationalClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.#client = options.client ?? { id: 'pcfront', secret: 'pcfront' };
    this.#loginMethod = options.loginMethod ?? 'GET';
    this.#cipherMode = options.cipherMode ?? 'C1C3C2';
    const requestMs = (options.requestTimeoutSeconds ?? 120) * 1000;
    this.#dispatcher = new Agent({
      connect: { timeout: (options.connectTimeoutSeconds ?? 10) * 1000, ...(options.ca ? { ca: options.ca } : {}), rejectUnauthorized: !options.insecure },
      headersTimeout: requestMs,
      bodyTimeout: requestMs,
      keepAliveTimeout: 30_000,
      connections: 64,
    });
  }

  get dispatcher(): Dispatcher {
    return this.#dispatcher;
  }

  async #call(path: string, options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>): Promise<ApiAnswer> {
    const res = await request(this.base + path, { ...options, dispatcher: this.#dispatcher } as Parameters<typeof request>[1]);
    return readAnswer(res);
  }

  /** GET /sm2: the platform's public key (cached until forgetPublicKey()). Also the health probe. */
  async publicKey(): Promise<string> {
    if (this.#publicKey) return this.#publicKey;
    const a = await this.#call(AUTH_PATHS.publicKey, { method: 'GET' });
    if (a.status !== 200) throw UpstreamHttpError(`GET ${this.base}${AUTH_PATHS.publicKey} answered HTTP ${a.status}`, { detail: { status: a.status } });
    const text = a.text.trim();
    parsePublicKey(text); // refuses what is not a key
    this.#publicKey = text;
    return text;
  }

  forgetPublicKey(): void {
    this.#publicKey = undefined;
  }

  /** A cheap call that tells whether the platform answers at all. */
  async probe(): Promise<void> {
    const a = await this.#call(AUTH_PATHS.publicKey, { method: 'GET' });
    if (a.status >= 500) throw UpstreamHttpError(`GET ${this.base}${AUTH_PATHS.publicKey} answered HTTP ${a.status}`, { detail: { status: a.status } });
  }

  /** The guide's login (5.2.2) with the password SM2-encrypted for the platform's key. */
  async login(username: string, password: string): Promise<LoginAnswer> {
    const key = await this.publicKey();
    const implied = impliedEncryptOptions(key);
    const cipher = sm2Encrypt(password, key, { ...implied, mode: this.#cipherMode });
    const params = new URLSearchParams({ username, password: cipher, grant_type: 'password', scope: 'server', encrypt: 'SM2' });
    const authorization = 'Basic ' + Buffer.from(`${this.#client.id}:${this.#client.secret}`).toString('base64');
    const a =
      this.#loginMethod === 'POST'
        ? await this.#call(AUTH_PATHS.token, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
            body: params.toString(),
          })
        : await this.#call(`${AUTH_PATHS.token}?${params}`, { method: 'GET', headers: { authorization } });
    if (a.status !== 200) return a;
    try {
      const body = JSON.parse(a.text) as Record<string, unknown>;
      if (typeof body['access_token'] === 'string' && body['access_token']) {
        const expiresIn = typeof body['expires_in'] === 'number' ? body['expires_in'] : Number(body['expires_in'] ?? 0);
        const org = typeof body['org_name'] === 'string' ? body['org_name'] : typeof body['dept_name'] === 'string' ? body['dept_name'] : undefined;
        return { ...a, token: body['access_token'], expiresIn: Number.isFinite(expiresIn) ? expiresIn : 0, ...(org ? { org } : {}) };
      }
    } catch {
      // not a token answer: the caller sees the status and text
    }
    return a;
  }

  async sendRecord(endpoint: RecordEndpoint, record: unknown, token: string): Promise<ApiAnswer> {
    return this.#call(endpoint.path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json;charset=UTF-8' },
      body: JSON.stringify(record),
    });
  }

  async sendEvidence(endpoint: EvidenceEndpoint, fileName: string, size: number, file: Readable, token: string): Promise<ApiAnswer> {
    const { body, length, type } = multipartBody(endpoint.partName, fileName, size, file);
    try {
      return await this.#call(endpoint.path, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': type, 'content-length': String(length) },
        body,
      });
    } finally {
      // a body never read (the connection failed first) leaves the file open otherwise
      file.destroy();
    }
  }

  async mineStatus(mineId: string, token: string): Promise<ApiAnswer> {
    return this.#call(`${QUERY_ENDPOINTS.mineStatus.path}?mineId=${encodeURIComponent(mineId)}`, {
      method: 'GET',
      headers: { authorization: `Bearer ${token}` },
    });
  }

  /** Whether the server speaks tus (another eseal relay): OPTIONS on the resumable path. */
  async speaksTus(path: string, token?: string): Promise<boolean> {
    try {
      const headers: Record<string, string> = { 'tus-resumable': '1.0.0', ...(token ? { authorization: `Bearer ${token}` } : {}) };
      const res = await request(this.base + path, { method: 'OPTIONS', dispatcher: this.#dispatcher, headers });
      await res.body.dump();
      return res.statusCode < 300 && typeof res.headers['tus-version'] === 'string';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}
