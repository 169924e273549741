// Mine accounts in local mode: who may log in to the relay and for which mines it may send data.
// Kept in LMDB so that `eseal accounts …` works while the relay runs (same environment, several
// processes); every change is durable before the call returns.
import type { Database, RootDatabase } from 'lmdb';
import { LENGTHS } from '../../src/contract/index.ts';
import { AccountExists, AccountInvalid, AccountUnknown } from '../errors.ts';
import { openSecret, sealSecret } from '../../src/crypto/sm4.ts';
import { hashPassword, verifyPassword, dummyHash } from './password.ts';

export const ANY_MINE = '*';

export interface Account {
  username: string;
  passwordHash: string;
  /** mine codes this account may send for; ['*'] = any (a city relay chaining to the province) */
  mines: string[];
  /** answered as dept_name / org_name at login */
  org: string;
  createdAt: number;
  /**
   * local: made by the operator (`eseal accounts add`); passthrough: a mine's national account,
   * learned when the national platform confirmed it at a login (absent = local)
   */
  mode?: 'local' | 'passthrough';
  /** the national account the relay forwards this account's data with; the password SM4-sealed */
  upstream?: { username: string; sealed: string };
  /** passthrough: when the national platform last confirmed the password */
  verifiedAt?: number;
}

export interface LoginState {
  /** consecutive failed logins */
  failures: number;
  /** ms since epoch; 0 = not locked */
  lockedUntil: number;
}

export interface NewAccount {
  username: string;
  password: string;
  mines: string[];
  org?: string;
  /** the national password this account's data is forwarded with (same username unless upstreamUsername) */
  upstreamPassword?: string;
  upstreamUsername?: string;
}

export function checkUsername(username: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/^[^\u0000-\u001f\u007f\s:]{1,64}$/u.test(username)) {
    throw AccountInvalid(`username: 1 to 64 characters, no white space, colon or control characters; got ${JSON.stringify(username)}`, {
      field: 'username',
    });
  }
  return username;
}

export function checkMineList(mines: string[]): string[] {
  if (mines.length === 0) throw AccountInvalid('mine: at least one mine code (12 characters) or * for any', { field: 'mine' });
  for (const m of mines) {
    if (m !== ANY_MINE && !new RegExp(`^[0-9A-Za-z]{${LENGTHS.mineId}}$`).test(m)) {
      throw AccountInvalid(`mine: each must be a ${LENGTHS.mineId}-character mine code or *, got ${JSON.stringify(m)}`, { field: 'mine' });
    }
  }
  return [...new Set(mines)];
}

export class AccountStore {
  readonly #accounts: Database<Account, string>;
  readonly #login: Database<LoginState, string>;
  readonly #secret: Buffer;

  /** `secretKey` seals the upstream passwords (SM4, src/crypto/sm4.ts). */
  constructor(root: RootDatabase, secretKey: Buffer) {
    this.#accounts = root.openDB<Account, string>({ name: 'accounts' });
    this.#login = root.openDB<LoginState, string>({ name: 'login-state' });
    this.#secret = secretKey;
  }

  async add(input: NewAccount, now = Date.now()): Promise<Account> {
    const username = checkUsername(input.username);
    const mines = checkMineList(input.mines);
    if (input.password.length === 0) throw AccountInvalid('password: must not be empty', { field: 'password' });
    if (input.password.length > 256) throw AccountInvalid('password: at most 256 characters', { field: 'password' });
    const account: Account = {
      username,
      passwordHash: await hashPassword(input.password),
      mines,
      org: input.org ?? username,
      createdAt: now,
      mode: 'local',
    };
    if (input.upstreamPassword !== undefined) {
      if (input.upstreamPassword.length === 0) throw AccountInvalid('upstream-password: must not be empty', { field: 'upstream-password' });
      account.upstream = {
        username: checkUsername(input.upstreamUsername ?? username),
        sealed: sealSecret(this.#secret, input.upstreamPassword),
      };
    }
    const written = await this.#accounts.ifNoExists(username, () => {
      this.#accounts.put(username, account);
    });
    if (!written) throw AccountExists(`account ${JSON.stringify(username)} exists already; remove it first to change it`, { field: 'username' });
    await this.#login.remove(username);
    return account;
  }

  async remove(username: string): Promise<void> {
    if (!this.#accounts.get(username)) throw AccountUnknown(`no account ${JSON.stringify(username)}`, { field: 'username' });
    await this.#accounts.remove(username);
    await this.#login.remove(username);
  }

  get(username: string): Account | undefined {
    return this.#accounts.get(username);
  }

  list(): Account[] {
    return [...this.#accounts.getRange({}).map(({ value }) => value)];
  }

  /**
   * A mine's national account that the national platform has just confirmed: kept (password
   * hashed for logins while the platform is unreachable, and sealed for forwarding) or refreshed.
   * A local account of the same name is never replaced.
   */
  async rememberPassthrough(username: string, password: string, org: string | undefined, now = Date.now()): Promise<Account> {
    checkUsername(username);
    const existing = this.#accounts.get(username);
    if (existing && existing.mode !== 'passthrough') return existing;
    const sameHash = existing && (await verifyPassword(password, existing.passwordHash));
    const account: Account = {
      username,
      passwordHash: sameHash ? existing.passwordHash : await hashPassword(password),
      mines: existing?.mines ?? [ANY_MINE],
      org: org ?? existing?.org ?? username,
      createdAt: existing?.createdAt ?? now,
      mode: 'passthrough',
      upstream: { username, sealed: sealSecret(this.#secret, password) },
      verifiedAt: now,
    };
    await this.#accounts.put(username, account);
    return account;
  }

  /** The national credentials to forward this account's data with, or undefined when it has none. */
  upstreamCredentials(account: Account): { username: string; password: string } | undefined {
    if (!account.upstream) return undefined;
    return { username: account.upstream.username, password: openSecret(this.#secret, account.upstream.sealed).toString('utf8') };
  }

  mayUseMine(account: Account, mineId: string): boolean {
    return account.mines.includes(ANY_MINE) || account.mines.includes(mineId);
  }

  /** Checks a password; unknown usernames cost the same time as wrong passwords. */
  async verify(username: string, password: string): Promise<Account | undefined> {
    const account = this.#accounts.get(username);
    const ok = await verifyPassword(password, account?.passwordHash ?? (await dummyHash()));
    return ok && account ? account : undefined;
  }

  loginState(username: string): LoginState {
    return this.#login.get(username) ?? { failures: 0, lockedUntil: 0 };
  }

  /** Counts a failed login; locks the account when `maxFailures` in a row are reached. */
  async recordFailure(username: string, maxFailures: number, lockMs: number, now = Date.now()): Promise<LoginState> {
    let state: LoginState = { failures: 0, lockedUntil: 0 };
    await this.#login.transaction(() => {
      const failures = (this.#login.get(username)?.failures ?? 0) + 1;
      const lock = failures >= maxFailures && lockMs > 0;
      // A lock starts a fresh count: after it lapses the account gets maxFailures tries again.
      state = lock ? { failures: 0, lockedUntil: now + lockMs } : { failures, lockedUntil: 0 };
      this.#login.put(username, state);
    });
    return state;
  }

  async recordSuccess(username: string): Promise<void> {
    if (this.#login.get(username)) await this.#login.remove(username);
  }
}
