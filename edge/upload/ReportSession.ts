// The edge's logged-in session with where it reports (a relay, or the national platform itself),
// shared by the uploader and the mine-status watcher: one SM2 login, its token reused while valid,
// logins single-flight, and "log in again once when the token is refused" in one place.
import type { Logger } from '../../src/log.ts';
import { NationalClient, type ApiAnswer, type NationalClientOptions } from '../../src/client/NationalClient.ts';
import { refusesToken } from '../../src/client/outcome.ts';
import { TUS_PATH } from '../../src/contract/tus.ts';
import { EdgeLoginRefused } from './errors.ts';

/** Where the edge reports and as whom (NationalClientOptions: url, client, loginMethod, cipherMode, ca, insecure, timeouts). */
export interface ReportTarget extends NationalClientOptions {
  username: string;
  /** sent SM2-encrypted at login; never logged */
  password: string;
}

export interface ReportSessionOptions extends ReportTarget {
  log: Logger;
}

/** a token with less than this left is not used: a call with it could outlive it */
const MARGIN_MS = 60_000;

export class ReportSession {
  readonly client: NationalClient;
  readonly username: string;
  readonly #password: string;
  readonly #log: Logger;
  #token: { value: string; expiresAt: number } | undefined;
  #login: Promise<string> | undefined;
  /** whether the server speaks tus, asked once per login */
  #tus: { token: string; answer: Promise<boolean> } | undefined;
  #logins = 0;

  constructor(options: ReportSessionOptions) {
    const { username: _u, password: _p, log: _l, ...clientOptions } = options;
    this.client = new NationalClient(clientOptions);
    this.username = options.username;
    this.#password = options.password;
    this.#log = options.log;
  }

  /** successful logins so far */
  get logins(): number {
    return this.#logins;
  }

  /** The current token, logging in when there is none or it is about to lapse. */
  async token(now = Date.now()): Promise<string> {
    const t = this.#token;
    if (t && t.expiresAt - now > MARGIN_MS) return t.value;
    this.#login ??= this.#doLogin().finally(() => (this.#login = undefined));
    return this.#login;
  }

  /** Forgets `token` after it was refused (only if it is still the current one). */
  invalidate(token: string): void {
    if (this.#token?.value === token) this.#token = undefined;
  }

  /** Runs `call` with the token; when the answer refuses it, logs in again once and runs it again. */
  async withToken(call: (token: string) => Promise<ApiAnswer>): Promise<{ answer: ApiAnswer; relogged: boolean }> {
    const token = await this.token();
    const first = await call(token);
    if (!refusesToken(first)) return { answer: first, relogged: false };
    this.invalidate(token);
    this.#log.info({ url: this.client.base, status: first.status }, 'the token was refused: logging in again once');
    return { answer: await call(await this.token()), relogged: true };
  }

  /** Whether the server takes resumable (tus) uploads, i.e. it is an eseal relay; asked once per login. */
  speaksTus(token: string): Promise<boolean> {
    if (this.#tus?.token !== token) {
      const answer = this.client.speaksTus(TUS_PATH, token);
      this.#tus = { token, answer };
      void answer.then((yes) => this.#log.info({ url: this.client.base, tus: yes }, yes ? 'clips go by tus (resumable at the byte offset)' : 'clips go as multipart uploads'));
    }
    return this.#tus.answer;
  }

  async #doLogin(): Promise<string> {
    const a = await this.client.login(this.username, this.#password);
    if (a.token) {
      const seconds = a.expiresIn && a.expiresIn > 0 ? a.expiresIn : Infinity;
      // a token that was handed out with little life left is used until it lapses (there is no other)
      this.#token = { value: a.token, expiresAt: Date.now() + Math.max(seconds * 1000, MARGIN_MS + 1000) };
      this.#logins++;
      this.#log.info({ url: this.client.base, username: this.username, expiresIn: a.expiresIn }, 'logged in');
      return a.token;
    }
    if (a.status === 401 || a.status === 426 || a.status === 400 || a.envelope?.code === 1) {
      // a stale public key makes a good password look wrong: fetch it again before the next try
      this.client.forgetPublicKey();
      throw EdgeLoginRefused(`${this.client.base} refused the login of ${this.username}: HTTP ${a.status} ${a.text.slice(0, 200)}`, {
        detail: { status: a.status },
      });
    }
    throw Object.assign(new Error(`login at ${this.client.base} answered HTTP ${a.status}: ${a.text.slice(0, 200)}`), { code: 'UPSTREAM_HTTP', status: a.status });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
