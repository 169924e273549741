// Our answer to an upper platform's digest challenge (RFC 2617, MD5; GB/T 28181 platforms offer qop
// "auth" or no qop at all). The challenge is read from the 401's WWW-Authenticate as the `sip`
// package parsed it (values still quoted) or as a raw header string.
import { createHash, randomBytes } from 'node:crypto';
import type { AuthHeader } from 'sip';

export interface Challenge {
  realm: string;
  nonce: string;
  opaque: string;
  /** 'auth' when offered (alone or in a list), else '' */
  qop: string;
  stale: boolean;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const unquote = (v: unknown) => {
  const s = typeof v === 'string' ? v : '';
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
};

/** The first usable MD5 Digest challenge of a 401, or undefined. Never throws. */
export function readChallenge(header: unknown): Challenge | undefined {
  const list: unknown[] = Array.isArray(header) ? header : header === undefined ? [] : [header];
  for (const h of list) {
    let a: Record<string, unknown> | undefined;
    if (typeof h === 'string') a = parseAuthString(h);
    else if (h && typeof h === 'object') a = h as AuthHeader;
    if (!a || typeof a['scheme'] !== 'string' || a['scheme'].toLowerCase() !== 'digest') continue;
    const algorithm = unquote(a['algorithm']).toLowerCase();
    if (algorithm && algorithm !== 'md5') continue;
    const nonce = unquote(a['nonce']);
    if (!nonce || nonce.length > 256) continue;
    const qops = unquote(a['qop']).toLowerCase().split(/\s*,\s*/);
    return { realm: unquote(a['realm']).slice(0, 128), nonce, opaque: unquote(a['opaque']).slice(0, 256), qop: qops.includes('auth') ? 'auth' : '', stale: /^true$/i.test(unquote(a['stale'])) };
  }
  return undefined;
}

function parseAuthString(s: string): Record<string, unknown> | undefined {
  const m = /^\s*(\w+)\s+(.*)$/s.exec(s.slice(0, 2048));
  if (!m) return undefined;
  const out: Record<string, unknown> = { scheme: m[1] };
  for (const p of m[2]!.matchAll(/(\w+)\s*=\s*("[^"]*"|[^\s,]+)/g)) out[p[1]!.toLowerCase()] = p[2];
  return out;
}

/** The Authorization value for `method uri` as `user` with `password` (nc counts per nonce). */
export function authorization(c: Challenge, method: string, uri: string, user: string, password: string, nc = 1, cnonce = randomBytes(8).toString('hex')): string {
  const ha1 = md5(`${user}:${c.realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const ncHex = nc.toString(16).padStart(8, '0');
  const response = c.qop ? md5(`${ha1}:${c.nonce}:${ncHex}:${cnonce}:${c.qop}:${ha2}`) : md5(`${ha1}:${c.nonce}:${ha2}`);
  return (
    `Digest username="${user}", realm="${c.realm}", nonce="${c.nonce}", uri="${uri}", response="${response}", algorithm=MD5` +
    (c.opaque ? `, opaque="${c.opaque}"` : '') +
    (c.qop ? `, qop=${c.qop}, nc=${ncHex}, cnonce="${cnonce}"` : '')
  );
}
