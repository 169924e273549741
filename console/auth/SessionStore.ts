// Login sessions: a random 32-byte id in the cookie, only its SHA-256 stored (a copy of the
// database gives no one a session), with its user, a CSRF token and an expiry.
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from 'lmdb';

export interface Session {
  user: string;
  /** sent back in x-csrf-token or _csrf with every changing request */
  csrf: string;
  createdAt: number;
  expiresAt: number;
  address: string;
}

const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');
const ID = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  readonly #db: Database<Session, string>;

  constructor(db: Database<Session, string>) {
    this.#db = db;
  }

  /** A new session; the id is for the cookie and stored nowhere. */
  async create(user: string, ttlMs: number, address: string, now = Date.now()): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const session: Session = { user, csrf: randomBytes(24).toString('base64url'), createdAt: now, expiresAt: now + ttlMs, address };
    await this.#db.put(hashOf(id), session);
    // expired sessions go as new ones come (bounded by the users' logins)
    void this.sweep(now);
    return { id, session };
  }

  /** The live session of a cookie id, or undefined (unknown, ended or expired). */
  get(id: string | undefined, now = Date.now()): Session | undefined {
    if (!id || !ID.test(id)) return undefined;
    const s = this.#db.get(hashOf(id));
    return s && s.expiresAt > now ? s : undefined;
  }

  async end(id: string): Promise<void> {
    if (ID.test(id)) await this.#db.remove(hashOf(id));
  }

  async endAllOf(user: string): Promise<number> {
    let n = 0;
    for (const { key, value } of this.#db.getRange()) {
      if (value.user === user) {
        await this.#db.remove(key);
        n++;
      }
    }
    return n;
  }

  async sweep(now = Date.now()): Promise<void> {
    for (const { key, value } of this.#db.getRange()) if (value.expiresAt <= now) await this.#db.remove(key);
  }
}
