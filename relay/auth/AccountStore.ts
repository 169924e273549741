// Mine accounts in local mode: who may log in to the relay and for which mines it may send data.
// Kept in LMDB so that `eseal accounts …` works while the relay runs (same environment, several
// processes); every change is durable before the call returns.
import type { Database, RootDatabase } from 'lmdb';
import { LENGTHS } from '../../src/contract/index.ts';
import { AccountExists, AccountInvalid, AccountUnknown } from '../errors.ts';
import { openSecret, sealSecret } from '../../src/crypto/sm4.ts';
import { hashPassword, verifyPassword, dummyHash } from '../../src/crypto/password.ts';
import { UnknownLogins, decideFinish, decideStart, type LockPolicy, type LoginOutcome, type LoginState } from './loginLock.ts';

export type { LoginState, LockPolicy, LoginOutcome } from './loginLock.ts';

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

/** A login attempt begun by beginLogin, to be ended by finishLogin (exactly once). */
export interface LoginAttempt {
  username: string;
  /** where its outcome is recorded: the database (an account) or memory (no such account) */
  recorded: 'account' | 'memory';
}

export type LoginAdmission =
  | { admitted: true; attempt: LoginAttempt }
  /** locked until lockedUntil; busy: too many attempts for this username waiting already */
  | { admitted: false; lockedUntil: number; busy?: boolean };

/** Attempts of one username waiting for checks in flight to end; more are refused as busy. */
const MAX_WAITING = 64;

export interface NewAccount {
  username: string;
  password: string;
  mines: string[];
  org?: string;
  /** the national password this account's data is forwarded with (same username unless upstreamUsername) */
  upstreamPassword?: string;
  upstreamUsername?: string;
}

/** 64 characters of at most 4 UTF-8 bytes each stay far below LMDB's key limit (1,978 bytes). */
export const USERNAME_MAX_CHARS = 64;
// eslint-disable-next-line no-control-regex
const USERNAME = new RegExp(`^[^\\u0000-\\u001f\\u007f\\s:]{1,${USERNAME_MAX_CHARS}}$`, 'u');

/** What is wrong with a username ("username: <rule>; got …"), or undefined when it follows the rule. */
export function usernameProblem(username: string): string | undefined {
  if (USERNAME.test(username)) return undefined;
  const chars = [...username];
  const shown = chars.length > 40 ? `${JSON.stringify(chars.slice(0, 40).join(''))}… (${chars.length} characters)` : JSON.stringify(username);
  return `username: 1 to ${USERNAME_MAX_CHARS} characters, no white space, colon or control characters; got ${shown}`;
}

export function checkUsername(username: string): string {
  const problem = usernameProblem(username);
  if (problem) throw AccountInvalid(problem, { field: 'username' });
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
  readonly #unknown = new UnknownLogins();
  /** attempts whose password is being checked, by username (they end with this process) */
  readonly #inFlight = new Map<string, number>();
  /** attempts waiting for one of those to end, by username */
  readonly #waiting = new Map<string, (() => void)[]>();

  /** `secretKey` seals the upstream passwords (SM4, src/crypto/sm4.ts). */
  constructor(root: RootDatabase, secretKey: Buffer) {
    this.#accounts = root.openDB<Account, string>({ name: 'accounts' });
    this.#login = root.openDB<LoginState, string>({ name: 'login-state' });
    this.#secret = secretKey;
    this.#dropOrphanLoginStates();
  }

  /** Older relays kept a record for every username ever tried; only accounts' records are kept now. */
  #dropOrphanLoginStates(): void {
    const orphans = [...this.#login.getKeys({})].filter((u) => !this.#accounts.doesExist(u));
    if (orphans.length === 0) return;
    this.#login.transactionSync(() => {
      for (const u of orphans) if (!this.#accounts.doesExist(u)) this.#login.removeSync(u);
    });
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
    checkUsername(username);
    if (!this.#accounts.get(username)) throw AccountUnknown(`no account ${JSON.stringify(username)}`, { field: 'username' });
    await this.#accounts.remove(username);
    await this.#login.remove(username);
  }

  /** The account, or undefined (also for a name no account can have: too long for a database key). */
  get(username: string): Account | undefined {
    return usernameProblem(username) ? undefined : this.#accounts.get(username);
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

  /**
   * Counts a login attempt as it starts, before the password is checked: refused while the account
   * is locked; admitted while the failures on record plus the attempts in flight stay below
   * maxFailures; otherwise it waits for an attempt in flight to end and is decided again. A
   * username without an account has its failures kept in bounded memory, not in the database.
   */
  async beginLogin(username: string, policy: LockPolicy): Promise<LoginAdmission> {
    for (;;) {
      const now = Date.now();
      const known = this.get(username) !== undefined;
      const inFlight = this.#inFlight.get(username) ?? 0;
      const d = decideStart(known ? this.#login.get(username) : this.#unknown.get(username, policy, now), inFlight, policy, now);
      if (d.kind === 'admit') {
        this.#inFlight.set(username, inFlight + 1);
        return { admitted: true, attempt: { username, recorded: known ? 'account' : 'memory' } };
      }
      if (d.kind === 'locked') {
        if (d.next && known) await this.#login.transaction(() => this.#login.put(username, d.next!));
        else if (d.next) this.#unknown.set(username, d.next, now);
        return { admitted: false, lockedUntil: d.lockedUntil };
      }
      const waiting = this.#waiting.get(username) ?? [];
      if (waiting.length >= MAX_WAITING) return { admitted: false, lockedUntil: 0, busy: true };
      this.#waiting.set(username, waiting);
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  }

  /**
   * Ends an attempt begun by beginLogin. A right password is admitted unless a lock was set
   * meanwhile (by attempts that ran beside it); a wrong one is counted and locks the account at
   * maxFailures; an undecided one counts as no attempt. Nothing clears a lock.
   */
  async finishLogin(attempt: LoginAttempt, outcome: LoginOutcome, policy: LockPolicy): Promise<{ admitted: boolean; lockedUntil: number }> {
    const { username } = attempt;
    try {
      const now = Date.now();
      if (attempt.recorded === 'memory') {
        const d = decideFinish(this.#unknown.get(username, policy, now), outcome, policy, now);
        this.#unknown.set(username, d.next, now);
        return d;
      }
      return await this.#login.transaction(() => {
        const d = decideFinish(this.#login.get(username), outcome, policy, now);
        // an account removed meanwhile leaves no record behind
        if (d.next === null) this.#login.remove(username);
        else if (d.next && this.#accounts.doesExist(username)) this.#login.put(username, d.next);
        return d;
      });
    } finally {
      // only once the outcome is committed: until then this attempt still counts as in flight
      const left = (this.#inFlight.get(username) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(username, left);
      else this.#inFlight.delete(username);
      const waiting = this.#waiting.get(username);
      this.#waiting.delete(username);
      for (const wake of waiting ?? []) wake();
    }
  }
}
