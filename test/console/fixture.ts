// A real relay and a real console beside it on loopback ports, sharing one temp data dir, and a
// small cookie-keeping client of the console.
import type { Test } from 'tap';
import { request } from 'undici';
import { createLogger } from '../../src/log.ts';
import { startConsole, type RunningConsole } from '../../console/server.ts';
import type { LoginLimits } from '../../console/auth/LoginLimiter.ts';
import type { TestRelay } from '../helpers/relay.ts';
import { testConfig } from '../helpers/relay.ts';

export async function startTestConsole(t: Test, relay: { url: string; dataDir: string }, options: { logins?: Partial<LoginLimits>; set?: Record<string, string | number> } = {}): Promise<RunningConsole> {
  const config = await testConfig(relay.dataDir, { 'admin.listen': '127.0.0.1:0', 'admin.relay.url': relay.url, ...options.set });
  const c = await startConsole(config, createLogger({ level: 'silent' }), options.logins ? { logins: options.logins } : {});
  t.teardown(() => c.close());
  return c;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** A browser-like client: keeps the cookies the console sets, sends its own Origin. */
export class ConsoleClient {
  readonly base: string;
  readonly cookies = new Map<string, string>();
  csrf = '';

  constructor(base: string) {
    this.base = base;
  }

  async call(method: string, path: string, options: { json?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}) };
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    if (method !== 'GET') headers['origin'] = this.base;
    Object.assign(headers, options.headers);
    const res = await request(this.base + path, { method: method as 'GET', headers, ...(body !== undefined ? { body } : {}) });
    const set = res.headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const k = pair!.slice(0, eq);
      const v = pair!.slice(eq + 1);
      if (/Max-Age=0/.test(line)) this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    const text = await res.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text, json };
  }

  async login(name: string, password: string): Promise<Answer> {
    const a = await this.call('POST', '/api/login', { json: { name, password } });
    if (a.status === 200) this.csrf = a.json.data.csrf;
    return a;
  }

  /** a changing call with the session's CSRF token */
  act(method: string, path: string, json?: unknown): Promise<Answer> {
    return this.call(method, path, { ...(json !== undefined ? { json } : {}), headers: { 'x-csrf-token': this.csrf } });
  }
}

export type { TestRelay };
