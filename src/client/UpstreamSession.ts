// The login session with the upstream (the national platform, or a relay above), per account: the
// relay's forwarder logs in for each mine account it forwards for, the edge with its one report
// account. One SM2 login per account, its token reused while it lives, logins single-flight (a
// hundred queued items cause one login, not a hundred), and "log in again once when the token is
// refused" in one place. What a refused login is, is decided by refusesLogin (outcome.ts).
import type { ApiAnswer, NationalClient } from './NationalClient.ts';
import { UpstreamHttpError, UpstreamLoginRefused, UpstreamNoCredentials } from './errors.ts';
import { refusesLogin, refusesToken } from './outcome.ts';
import type { AccountLoginState, TokenCallResult, UpstreamSessionOptions } from './UpstreamSessionTypes.ts';

/** a token with less than this left is not handed out: a call with it could outlive it */
export const TOKEN_MARGIN_MS = 60_000;

interface Cached {
  token: string;
  /** handed out until then (ms since epoch) */
  usableUntil: number;
}

/**
 * Until when a token that lives `expiresInSeconds` from `now` is handed out. Logging in again while
 * a token is valid returns the same token with what is left of its life (pig): one with little
 * left is used until it lapses, as there is no other; the next login then yields a fresh one. A
 * token without a stated lifetime is used until the upstream refuses it.
 */
function usableUntil(expiresInSeconds: number | undefined, now: number): number {
  if (!expiresInSeconds || expiresInSeconds <= 0) return Infinity;
  const lapses = now + expiresInSeconds * 1000;
  return expiresInSeconds * 1000 > TOKEN_MARGIN_MS ? lapses - TOKEN_MARGIN_MS : lapses;
}

export class UpstreamSession {
  readonly client: NationalClient;
  readonly #options: UpstreamSessionOptions;
  readonly #cache = new Map<string, Cached>();
  readonly #logins = new Map<string, Promise<string>>();
  readonly #state = new Map<string, AccountLoginState>();
  #loginCount = 0;

  constructor(options: UpstreamSessionOptions) {
    this.client = options.client;
    this.#options = options;
  }

  /** successful logins so far, all accounts together */
  get logins(): number {
    return this.#loginCount;
  }

  /** The account's token, logging in when there is none or it is about to lapse. */
  async token(account: string, now = Date.now()): Promise<string> {
    const cached = this.#cache.get(account);
    if (cached && cached.usableUntil > now) return cached.token;
    let login = this.#logins.get(account);
    if (!login) {
      login = this.#login(account).finally(() => this.#logins.delete(account));
      this.#logins.set(account, login);
    }
    return login;
  }

  /** Remembers a token obtained elsewhere (a passthrough login the upstream just confirmed). */
  remember(account: string, token: string, expiresInSeconds: number | undefined, now = Date.now()): void {
    this.#cache.set(account, { token, usableUntil: usableUntil(expiresInSeconds, now) });
    this.#state.set(account, { lastLoginAt: now });
  }

  /** Forgets `token` after the upstream refused it (only if it is still the account's); true if it was. */
  invalidate(account: string, token: string): boolean {
    if (this.#cache.get(account)?.token !== token) return false;
    this.#cache.delete(account);
    return true;
  }

  /**
   * Runs `call` with the account's token; when the answer refuses the token, logs in again once and
   * runs it again. `relogged` says which answer it is.
   */
  async withToken<A extends ApiAnswer>(account: string, call: (token: string) => Promise<A>): Promise<TokenCallResult<A>> {
    const token = await this.token(account);
    const first = await call(token);
    if (!refusesToken(first)) return { answer: first, relogged: false };
    if (this.invalidate(account, token)) {
      this.#options.log?.info({ url: this.client.base, account, status: first.status }, 'the upstream refused the token: logging in again once');
    }
    return { answer: await call(await this.token(account)), relogged: true };
  }

  /** The account's last login and last login error (for status output). */
  state(account: string): AccountLoginState {
    return this.#state.get(account) ?? {};
  }

  async #login(account: string): Promise<string> {
    const creds = await this.#options.credentials(account);
    if (!creds) {
      const hint = this.#options.noCredentialsHint;
      const msg = `account ${account} has no credentials for ${this.client.base}${hint ? `: ${hint}` : ''}`;
      this.#note(account, msg);
      throw UpstreamNoCredentials(msg, { detail: { account } });
    }
    let answer;
    try {
      answer = await this.client.login(creds.username, creds.password);
    } catch (err) {
      this.#note(account, `login: ${(err as Error).message}`);
      throw err;
    }
    const now = Date.now();
    if (answer.token) {
      this.remember(account, answer.token, answer.expiresIn, now);
      this.#loginCount++;
      this.#options.log?.info({ url: this.client.base, username: creds.username, expiresIn: answer.expiresIn }, 'logged in upstream');
      return answer.token;
    }
    const body = answer.text.slice(0, 200);
    if (refusesLogin(answer)) {
      // a wrong key can look like wrong credentials: fetch the key again before the next login
      this.client.forgetPublicKey();
      const hint = this.#options.refusedHint;
      const msg = `${this.client.base} refused the login of ${creds.username}: HTTP ${answer.status} ${body}${hint ? ` (${hint})` : ''}`;
      this.#note(account, msg);
      throw UpstreamLoginRefused(msg, { detail: { account, status: answer.status } });
    }
    const msg = `the login at ${this.client.base} answered HTTP ${answer.status}: ${body}`;
    this.#note(account, msg);
    throw UpstreamHttpError(msg, { detail: { account, status: answer.status } });
  }

  #note(account: string, error: string): void {
    this.#state.set(account, { ...this.#state.get(account), lastError: error, lastErrorAt: Date.now() });
  }
}
