// Bearer tokens the relay issues to mines: opaque UUIDs, valid tokenTtl (12 h by default), durable
// across restarts. As on the national platform (pig), logging in again while a token is valid
// returns the same token with its remaining lifetime.
//
// At rest a token is looked up by its SM3 hash; the per-user copy needed to hand the same token out
// again is sealed with SM4 under the data dir's secret key, so a copy of the database alone does not
// yield usable tokens.
import { randomUUID } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { openSecret, sealSecret } from '../../src/crypto/sm4.ts';

interface TokenRecord {
  username: string;
  issuedAt: number;
  expiresAt: number;
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
}

/** Re-issue rather than hand out a token with less than this left (a mine would fail mid-upload). */
const MIN_REUSE_MS = 60_000;

export class TokenStore {
  readonly #byHash: Database<TokenRecord, string>;
  readonly #byUser: Database<UserToken, string>;
  readonly #secret: Buffer;
  readonly #ttlMs: number;

  constructor(root: RootDatabase, secretKey: Buffer, ttlSeconds: number) {
    this.#byHash = root.openDB<TokenRecord, string>({ name: 'tokens' });
    this.#byUser = root.openDB<UserToken, string>({ name: 'tokens-by-user' });
    this.#secret = secretKey;
    this.#ttlMs = ttlSeconds * 1000;
  }

  /** The user's valid token (same one again) or a new one; durable before it resolves. */
  async issue(username: string, now = Date.now()): Promise<IssuedToken> {
    const current = this.#byUser.get(username);
    if (current && current.expiresAt - now > MIN_REUSE_MS && this.#byHash.get(current.hash)) {
      try {
        const token = openSecret(this.#secret, current.sealed).toString('utf8');
        return { token, expiresIn: Math.floor((current.expiresAt - now) / 1000), reused: true };
      } catch {
        // sealed under an older secret key: fall through and issue a new token
      }
    }
    const token = randomUUID();
    const hash = sm3Hex(token);
    const expiresAt = now + this.#ttlMs;
    await this.#byHash.transaction(() => {
      if (current) this.#byHash.remove(current.hash);
      this.#byHash.put(hash, { username, issuedAt: now, expiresAt });
      this.#byUser.put(username, { sealed: sealSecret(this.#secret, token), hash, expiresAt });
    });
    return { token, expiresIn: Math.floor(this.#ttlMs / 1000), reused: false };
  }

  /** Who holds this token, or undefined when it is unknown or expired. */
  verify(token: string, now = Date.now()): TokenOwner | undefined {
    if (token.length === 0 || token.length > 128) return undefined;
    const rec = this.#byHash.get(sm3Hex(token));
    if (!rec || rec.expiresAt <= now) return undefined;
    return { username: rec.username, expiresAt: rec.expiresAt };
  }

  async revokeUser(username: string): Promise<void> {
    const current = this.#byUser.get(username);
    if (!current) return;
    await this.#byHash.transaction(() => {
      this.#byHash.remove(current.hash);
      this.#byUser.remove(username);
    });
  }

  /** Drops expired tokens; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    let n = 0;
    await this.#byHash.transaction(() => {
      for (const { key, value } of this.#byHash.getRange({})) {
        if (value.expiresAt <= now) {
          this.#byHash.remove(key);
          const u = this.#byUser.get(value.username);
          if (u && u.hash === key) this.#byUser.remove(value.username);
          n++;
        }
      }
    });
    return n;
  }
}
