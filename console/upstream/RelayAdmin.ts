// The console's client of the relay's loopback admin API (/admin/*, Bearer <dataDir>/admin.token).
// The relay's listener defaults to HTTPS with a self-signed certificate made on first start: the
// console accepts an unverified certificate only when the relay is on this host (a loopback
// address), where nobody can sit between the two; any other host must present a trusted one.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import { ConsoleUpstream } from '../errors.ts';

export interface AdminAnswer<T> {
  status: number;
  /** the envelope's data on success */
  data?: T;
  /** the relay's message on failure */
  msg?: string;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\./.test(h);
}

/** The relay's admin URL on this host from its listen address: 0.0.0.0 and :: are reached on loopback. */
export function relayUrlFromListen(listen: string, tlsMode: string): string {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  const host = m ? (m[1] ?? m[2]!) : '127.0.0.1';
  const port = m ? m[3]! : '8443';
  const reach = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `${tlsMode === 'off' ? 'http' : 'https'}://${reach}:${port}`;
}

export interface AdminClientOptions {
  /** base URL, e.g. https://127.0.0.1:8443 */
  url: string;
  /** the Bearer token; '' reads tokenFile on each need (the relay makes it on first start) */
  token: string;
  tokenFile: string;
  /** per call */
  timeoutMs?: number;
}

export class AdminClient {
  readonly url: string;
  readonly #dispatcher: Dispatcher;
  readonly #options: AdminClientOptions;
  #token: string;

  constructor(options: AdminClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#options = options;
    this.#token = options.token;
    const loopback = isLoopbackHost(new URL(this.url).hostname);
    const timeout = options.timeoutMs ?? 5000;
    this.#dispatcher = new Agent({
      connect: { rejectUnauthorized: !loopback, timeout },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connections: 16,
    });
  }

  async #bearer(reread: boolean): Promise<string> {
    if (this.#options.token) return this.#options.token;
    if (!this.#token || reread) this.#token = (await readFile(this.#options.tokenFile, 'utf8').catch(() => '')).trim();
    return this.#token;
  }

  /** One call; network failures throw ESEAL_ERR_CONSOLE_UPSTREAM, refusals come back with their status. */
  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<AdminAnswer<T>> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.#bearer(attempt > 0);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(this.url + path, {
          method,
          dispatcher: this.#dispatcher,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (err) {
        throw ConsoleUpstream(`the admin API at ${this.url} did not answer (${(err as { code?: string }).code ?? (err as Error).message})`, { cause: err });
      }
      const text = await res.body.text();
      // the token file may have been made (or remade) since it was read: read it once more
      if (res.statusCode === 401 && attempt === 0 && !this.#options.token) continue;
      let json: { code?: unknown; msg?: string; data?: T } | undefined;
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        json = undefined;
      }
      if (res.statusCode >= 200 && res.statusCode < 300 && json !== undefined) {
        // most admin answers come in the API envelope; /admin/status is the report itself
        const wrapped = typeof json === 'object' && json !== null && json.code === 0 && 'data' in json;
        return { status: res.statusCode, data: (wrapped ? json.data : json) as T };
      }
      return { status: res.statusCode, msg: json?.msg ?? text.slice(0, 200) };
    }
  }

  /** The data of a call that must succeed; a refusal throws ESEAL_ERR_CONSOLE_UPSTREAM with the relay's message. */
  async get<T>(path: string): Promise<T> {
    const a = await this.call<T>('GET', path);
    if (a.data === undefined) throw ConsoleUpstream(`${this.url}${path.split('?')[0]}: HTTP ${a.status}: ${a.msg ?? ''}`, { statusCode: a.status === 404 ? 404 : 502 });
    return a.data;
  }

  /**
   * A GET whose body the caller streams on (an evidence video): the answer as it comes, any status;
   * `headers` go along (Range). Network failures throw ESEAL_ERR_CONSOLE_UPSTREAM.
   */
  async stream(path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.#bearer(attempt > 0);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(this.url + path, { method: 'GET', dispatcher: this.#dispatcher, headers: { ...headers, authorization: `Bearer ${token}` }, ...(signal ? { signal } : {}) });
      } catch (err) {
        throw ConsoleUpstream(`the admin API at ${this.url} did not answer (${(err as { code?: string }).code ?? (err as Error).message})`, { cause: err });
      }
      if (res.statusCode === 401 && attempt === 0 && !this.#options.token) {
        await res.body.dump();
        continue;
      }
      return res;
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}

/** The relay's admin client from the console's configuration (relay.listen and relay.tls.mode read loosely: the relay's section may be absent). */
export function relayAdminFrom(config: { dataDir: string; admin: { relay: { url: string; token: string } } }): AdminClient {
  const relay = (config as { relay?: { listen?: string; tls?: { mode?: string } } }).relay;
  const url = config.admin.relay.url || relayUrlFromListen(relay?.listen ?? '0.0.0.0:8443', relay?.tls?.mode ?? 'auto');
  return new AdminClient({ url, token: config.admin.relay.token, tokenFile: join(config.dataDir, 'admin.token') });
}
