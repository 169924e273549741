// One upstream token per account, reused until near its expiry. A login while a token is still
// valid returns the same token with what is left of its life (pig), so a token with little left
// is used until it lapses and the next login then yields a fresh one. Logins of one account are
// single-flight: a hundred queued items cause one login, not a hundred.
import { defineError } from '../../src/errors.ts';
import type { AccountStore } from '../auth/AccountStore.ts';
import type { ApiAnswer, NationalClient } from '../../src/client/NationalClient.ts';
import { refusesToken } from './outcome.ts';

export const UpstreamLoginRefused = defineError(
  'ESEAL_ERR_UPSTREAM_LOGIN',
  502,
  "the national platform refused the account's credentials",
);
export const UpstreamNoCredentials = defineError(
  'ESEAL_ERR_UPSTREAM_NO_CREDENTIALS',
  502,
  'the account has no national credentials to forward its data with',
);

/** a cached token with less than this left is not handed out: a call with it could outlive it */
const MARGIN_MS = 60_000;

interface Cached {
  token: string;
  expiresAt: number;
}

export interface AccountLoginState {
  lastLoginAt?: number;
  lastError?: string;
  lastErrorAt?: number;
}

export class UpstreamTokens {
  readonly #cache = new Map<string, Cached>();
  readonly #logins = new Map<string, Promise<string>>();
  readonly #state = new Map<string, AccountLoginState>();

  constructor(
    readonly client: NationalClient,
    readonly accounts: AccountStore,
  ) {}

  /** Remembers a token obtained elsewhere (a passthrough login just confirmed upstream). */
  remember(username: string, token: string, expiresInSeconds: number, now = Date.now()): void {
    this.#cache.set(username, { token, expiresAt: now + expiresInSeconds * 1000 });
    this.#state.set(username, { ...this.#state.get(username), lastLoginAt: now });
  }

  /** Forgets `token` after the upstream refused it (only if it is still the cached one). */
  invalidate(username: string, token: string): void {
    if (this.#cache.get(username)?.token === token) this.#cache.delete(username);
  }

  /**
   * Runs `call` with the account's token; when the answer refuses the token, logs in again once and
   * runs it again. `relogged` says which answer it is.
   */
  async withToken(username: string, call: (token: string) => Promise<ApiAnswer>): Promise<{ answer: ApiAnswer; relogged: boolean }> {
    const token = await this.token(username);
    const first = await call(token);
    if (!refusesToken(first)) return { answer: first, relogged: false };
    this.invalidate(username, token);
    return { answer: await call(await this.token(username)), relogged: true };
  }

  state(username: string): AccountLoginState {
    return this.#state.get(username) ?? {};
  }

  async token(username: string, now = Date.now()): Promise<string> {
    const cached = this.#cache.get(username);
    if (cached && cached.expiresAt - now > MARGIN_MS) return cached.token;
    let login = this.#logins.get(username);
    if (!login) {
      login = this.#login(username, cached).finally(() => this.#logins.delete(username));
      this.#logins.set(username, login);
    }
    return login;
  }

  async #login(username: string, previous: Cached | undefined): Promise<string> {
    const account = this.accounts.get(username);
    const creds = account && this.accounts.upstreamCredentials(account);
    if (!creds) {
      throw UpstreamNoCredentials(
        `account ${username} has no national credentials: add them with eseal accounts add … --upstream-password, or let the mine log in through the relay (passthrough)`,
      );
    }
    let answer;
    try {
      answer = await this.client.login(creds.username, creds.password);
    } catch (err) {
      this.#note(username, `login: ${(err as Error).message}`);
      throw err;
    }
    if (answer.token) {
      const now = Date.now();
      // the same token again with little left: use it while it lasts (there is no other)
      if (previous && previous.token === answer.token && (answer.expiresIn ?? 0) * 1000 <= MARGIN_MS) {
        this.#cache.set(username, { token: answer.token, expiresAt: now + (answer.expiresIn ?? 0) * 1000 + MARGIN_MS });
      } else {
        this.remember(username, answer.token, answer.expiresIn ?? 0, now);
      }
      this.#state.set(username, { lastLoginAt: now });
      return answer.token;
    }
    if (answer.status === 426 || answer.status === 401 || answer.envelope?.code === 1) {
      // a wrong key can look like wrong credentials: fetch the key again before the next login
      this.client.forgetPublicKey();
      const msg = `the national platform refused the login of ${creds.username}: ${answer.text.slice(0, 200)}`;
      this.#note(username, msg);
      throw UpstreamLoginRefused(msg);
    }
    const msg = `login answered HTTP ${answer.status}: ${answer.text.slice(0, 200)}`;
    this.#note(username, msg);
    throw Object.assign(new Error(msg), { code: 'UPSTREAM_HTTP', status: answer.status });
  }

  #note(username: string, error: string): void {
    this.#state.set(username, { ...this.#state.get(username), lastError: error, lastErrorAt: Date.now() });
  }
}
