// HTTP digest (RFC 2617 / 3261 §22) for REGISTER, MD5, realm = the SIP domain, with and without qop
// (GB/T 28181 devices send both). We keep the `sip` package's digest arithmetic but write the
// challenge ourselves: its `challenge` offers qop "auth,auth-int" and drops the algorithm through a
// typo. Nonces carry their own time and a MAC, so they need no table and expire on their own.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import digest from 'sip/digest.js';
import type { AuthHeader } from 'sip';

export type DigestVerdict = 'ok' | 'missing' | 'stale' | 'wrong' | 'malformed';

function unquote(v: string | undefined): string {
  if (v === undefined) return '';
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

export class DigestAuth {
  readonly #secret = randomBytes(32);
  readonly realm: string;
  readonly #lifetimeMs: number;

  constructor(realm: string, nonceSeconds: number) {
    this.realm = realm;
    this.#lifetimeMs = nonceSeconds * 1000;
  }

  nonce(now = Date.now()): string {
    const ts = now.toString(16);
    const mac = createHmac('sha256', this.#secret).update(ts).digest('hex').slice(0, 24);
    return `${ts}${mac}`;
  }

  /** 'ok', 'stale' (well made but too old) or 'wrong'. */
  checkNonce(nonce: string, now = Date.now()): 'ok' | 'stale' | 'wrong' {
    if (!/^[0-9a-f]{9,13}[0-9a-f]{24}$/.test(nonce)) return 'wrong';
    const ts = nonce.slice(0, -24);
    const mac = createHmac('sha256', this.#secret).update(ts).digest('hex').slice(0, 24);
    if (!timingSafeEqual(Buffer.from(mac), Buffer.from(nonce.slice(-24)))) return 'wrong';
    const at = parseInt(ts, 16);
    return now - at > this.#lifetimeMs || at - now > 60_000 ? 'stale' : 'ok';
  }

  /** The WWW-Authenticate value of a 401. */
  challenge(stale = false, now = Date.now()): string {
    return `Digest realm="${this.realm}", nonce="${this.nonce(now)}", algorithm=MD5, qop="auth"${stale ? ', stale=TRUE' : ''}`;
  }

  /**
   * Checks the Authorization of a request from `user` against `password`. The digest's username
   * must be the device's id; the realm ours; algorithm MD5 (or none).
   */
  verify(headers: AuthHeader[] | undefined, method: string, user: string, password: string, now = Date.now()): DigestVerdict {
    const a = headers?.find((h) => h && typeof h.scheme === 'string' && h.scheme.toLowerCase() === 'digest');
    if (!a) return 'missing';
    const username = unquote(a['username']);
    const realm = unquote(a['realm']);
    const nonce = unquote(a['nonce']);
    const uri = unquote(a['uri']);
    const response = unquote(a['response']).toLowerCase();
    const algorithm = unquote(a['algorithm']).toLowerCase();
    const qop = unquote(a['qop']).toLowerCase();
    const nc = unquote(a['nc']);
    const cnonce = unquote(a['cnonce']);
    if (!username || !nonce || !uri || !/^[0-9a-f]{32}$/.test(response)) return 'malformed';
    if (algorithm && algorithm !== 'md5') return 'malformed';
    if (qop && (qop !== 'auth' || !nc || !cnonce)) return 'malformed';
    if (username !== user || realm !== this.realm) return 'wrong';
    const n = this.checkNonce(nonce, now);
    if (n === 'wrong') return 'wrong';
    const ha1 = digest.calculateUserRealmPasswordHash(username, realm, password);
    const expected = digest.calculateDigest({ ha1, method: method.toUpperCase(), nonce, uri, ...(qop ? { qop, nc, cnonce } : {}) });
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(response))) return 'wrong';
    // a right answer to an old nonce: challenge again with stale=TRUE (the device retries without asking its user)
    return n === 'stale' ? 'stale' : 'ok';
  }
}
