// RFC 2617 / RFC 3261 §22 digest for the REGISTER challenge (GB/T 28181 §9.1: MD5, realm = the
// server's domain). Written here, not taken from the sip package, so that the simulator checks the
// bridge against the RFC rather than against a shared implementation. A kernel candidate.
import { createHash, randomBytes } from 'node:crypto';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** the qop the server offers, e.g. "auth" or "auth,auth-int"; absent: RFC 2069 style */
  qop?: string;
  opaque?: string;
  algorithm?: string;
}

export interface DigestAnswer {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: 'MD5';
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** response = MD5(HA1:nonce[:nc:cnonce:qop]:HA2), HA1 = MD5(user:realm:password), HA2 = MD5(method:uri). */
export function digestResponse(p: {
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
}): string {
  const ha1 = md5(`${p.username}:${p.realm}:${p.password}`);
  const ha2 = md5(`${p.method}:${p.uri}`);
  return p.qop ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
}

/** Splits `Digest a="b", c=d` into lower-cased names; tolerant of spacing, bounded by the header. */
export function parseChallenge(header: string): DigestChallenge | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let p = re.exec(m[1]!); p; p = re.exec(m[1]!)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  if (params['realm'] === undefined || params['nonce'] === undefined) return undefined;
  const c: DigestChallenge = { realm: params['realm'], nonce: params['nonce'] };
  if (params['qop'] !== undefined) c.qop = params['qop'];
  if (params['opaque'] !== undefined) c.opaque = params['opaque'];
  if (params['algorithm'] !== undefined) c.algorithm = params['algorithm'];
  return c;
}

/** Answers a challenge: qop=auth when the server offers it (nc counts per nonce), else the plain form. */
export function answerChallenge(c: DigestChallenge, username: string, password: string, method: string, uri: string, nc = 1): DigestAnswer {
  const offersAuth = c.qop !== undefined && c.qop.split(',').some((q) => q.trim().toLowerCase() === 'auth');
  const a: DigestAnswer = { username, realm: c.realm, nonce: c.nonce, uri, response: '', algorithm: 'MD5' };
  if (offersAuth) {
    a.qop = 'auth';
    a.nc = nc.toString(16).padStart(8, '0');
    a.cnonce = randomBytes(8).toString('hex');
  }
  a.response = digestResponse({ username, realm: c.realm, password, method, uri, nonce: c.nonce, ...(a.qop ? { qop: a.qop, nc: a.nc!, cnonce: a.cnonce! } : {}) });
  if (c.opaque !== undefined) a.opaque = c.opaque;
  return a;
}

/** The Authorization header value (qop, nc and algorithm unquoted, as RFC 2617 writes them). */
export function formatAuthorization(a: DigestAnswer): string {
  const parts = [`username="${a.username}"`, `realm="${a.realm}"`, `nonce="${a.nonce}"`, `uri="${a.uri}"`, `response="${a.response}"`, `algorithm=${a.algorithm}`];
  if (a.qop) parts.push(`qop=${a.qop}`, `nc=${a.nc}`, `cnonce="${a.cnonce}"`);
  if (a.opaque !== undefined) parts.push(`opaque="${a.opaque}"`);
  return `Digest ${parts.join(', ')}`;
}
