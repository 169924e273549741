// Bearer tokens the relay issues to mines: opaque UUIDs, valid tokenTtl (12 h by default), durable
// across restarts. As on the national platform (pig), logging in again while a token is valid
// returns the same token with its remaining lifetime; an account has one token at a time.
//
// At rest a token is looked up by its SM3 hash; the per-user copy needed to hand the same token out
// again is sealed with SM4 under the data dir's secret key, so a copy of the database alone does not
// yield usable tokens. Every token is indexed by its account, so removing an account revokes all of
// them, and each is bound to the account it was issued for (its creation time): an account removed
// and added again never makes an old token valid again.
import { randomUUID } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { openSecret, sealSecret } from '../../src/crypto/sm4.ts';
import type { Account } from './AccountStore.ts';

interface TokenRecord {
  username: string;
  issuedAt: number;
  expiresAt: number;
  /** createdAt of the account it was issued for (absent in records of older relays) */
  accountCreatedAt?: number;
}

interface UserToken {
  sealed: string;
  hash: string;
  expiresAt: number;
}

export interface IssuedToken {
  token: string;
  /** whole seconds left */
  expiresIn: number;
  reused: boolean;
}

export interface TokenOwner {
  username: string;
  expiresAt: number;
  issuedAt: number;
  accountCreatedAt?: number;
}

/** The account a token is issued for: its name and when it was created (which one of that name). */
export type TokenAccount = Pick<Account, 'username' | 'createdAt'>;

/** Re-issue rather than hand out a token with less than this left (a mine would fail mid-upload). */
const MIN_REUSE_MS = 60_000;

/** Whether a token belongs to this account (not to an earlier account of the same name). */
export function tokenFits(owner: Pick<TokenOwner, 'username' | 'issuedAt' | 'accountCreatedAt'>, account: TokenAccount): boolean {
  if (owner.username !== account.username) return false;
  // older records carry no account: one issued before the account was created is not its own
  return owner.accountCreatedAt === undefined ? owner.issuedAt >= account.createdAt : owner.accountCreatedAt === account.createdAt;
}

export class TokenStore {
  readonly #byHash: Database<TokenRecord, string>;
  readonly #byUser: Database<UserToken, string>;
  /** [username, hash] -> expiresAt: every token of an account */
  readonly #byAccount: Database<number, [string, string]>;
  readonly #secret: Buffer;
  readonly #ttlMs: number;

  constructor(root: RootDatabase, secretKey: Buffer, ttlSeconds: number) {
    this.#byHash = root.openDB<TokenRecord, string>({ name: 'tokens' });
    this.#byUser = root.openDB<UserToken, string>({ name: 'tokens-by-user' });
    this.#byAccount = root.openDB<number, [string, string]>({ name: 'tokens-by-account' });
    this.#secret = secretKey;
    this.#ttlMs = ttlSeconds * 1000;
    this.#indexOlderTokens();
  }

  /** Tokens written by an older relay (no index): indexed once, so that revokeUser finds them. */
  #indexOlderTokens(): void {
    const missing = [...this.#byHash.getRange({})].filter(({ key, value }) => this.#byAccount.get([value.username, key]) === undefined);
    if (missing.length === 0) return;
    this.#byAccount.transactionSync(() => {
      for (const { key, value } of missing) this.#byAccount.putSync([value.username, key], value.expiresAt);
    });
  }

  /**
   * The account's valid token (the same one again) or a new one that replaces every other token
   * of the account; read and written in one transaction, so logins at once leave one token.
   * Durable before it resolves.
   */
  async issue(account: TokenAccount, now = Date.now()): Promise<IssuedToken> {
    const { username } = account;
    return this.#byHash.transaction(() => {
      const current = this.#byUser.get(username);
      const rec = current && this.#byHash.get(current.hash);
      if (current && rec && rec.expiresAt - now > MIN_REUSE_MS && tokenFits(rec, account)) {
        try {
          const token = openSecret(this.#secret, current.sealed).toString('utf8');
          return { token, expiresIn: Math.floor((rec.expiresAt - now) / 1000), reused: true };
        } catch {
          // sealed under an older secret key: issue a new token
        }
      }
      this.#revokeAll(username);
      const token = randomUUID();
      const hash = sm3Hex(token);
      const expiresAt = now + this.#ttlMs;
      this.#byHash.put(hash, { username, issuedAt: now, expiresAt, accountCreatedAt: account.createdAt });
      this.#byAccount.put([username, hash], expiresAt);
      this.#byUser.put(username, { sealed: sealSecret(this.#secret, token), hash, expiresAt });
      return { token, expiresIn: Math.floor(this.#ttlMs / 1000), reused: false };
    });
  }

  /** Who holds this token, or undefined when it is unknown or expired (check tokenFits against the account). */
  verify(token: string, now = Date.now()): TokenOwner | undefined {
    if (token.length === 0 || token.length > 128) return undefined;
    const rec = this.#byHash.get(sm3Hex(token));
    if (!rec || rec.expiresAt <= now) return undefined;
    return {
      username: rec.username,
      expiresAt: rec.expiresAt,
      issuedAt: rec.issuedAt,
      ...(rec.accountCreatedAt !== undefined ? { accountCreatedAt: rec.accountCreatedAt } : {}),
    };
  }

  /** Revokes every token of the account. */
  async revokeUser(username: string): Promise<void> {
    await this.#byHash.transaction(() => this.#revokeAll(username));
  }

  /** Inside a transaction: removes every token of the account. */
  #revokeAll(username: string): void {
    // hashes are hex: '~' sorts after every one of them
    const keys = [...this.#byAccount.getKeys({ start: [username], end: [username, '~'] })].filter((k) => k[0] === username);
    for (const key of keys) {
      this.#byHash.remove(key[1]);
      this.#byAccount.remove(key);
    }
    this.#byUser.remove(username);
  }

  /** Drops expired tokens; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    let n = 0;
    await this.#byHash.transaction(() => {
      for (const { key, value } of this.#byHash.getRange({})) {
        if (value.expiresAt <= now) {
          this.#byHash.remove(key);
          this.#byAccount.remove([value.username, key]);
          const u = this.#byUser.get(value.username);
          if (u && u.hash === key) this.#byUser.remove(value.username);
          n++;
        }
      }
    });
    return n;
  }
}
