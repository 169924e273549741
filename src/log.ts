// Logs are pino JSON lines (journald-friendly). Nothing secret is ever written: passwords,
// tokens, Basic and Bearer credentials and keys are redacted by path, and URLs are logged without
// their query string where one can carry a password (the token endpoint takes it as a GET query).
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'secret',
  '*.secret',
  'privateKey',
  '*.privateKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

/** Parameter names that carry a credential, compared without case and without - _ . or spaces. */
const SECRET_NAMES = /password|passwd|pwd|token|secret|credential|apikey|accesskey|signature|^pass$|^pw$/;

/** Percent-decoding that never throws: malformed escapes stay as they are (bytes as latin1: names are ASCII). */
function decodeLoosely(s: string): string {
  return s.replace(/\+/g, ' ').replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function isSecretName(raw: string): boolean {
  // a query parser decodes once; a proxy on the way may have decoded already: look through three layers
  let name = raw;
  for (let i = 0; i < 3; i++) {
    const next = decodeLoosely(name);
    if (next === name) break;
    name = next;
  }
  return SECRET_NAMES.test(name.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/**
 * The URL without a query string that could carry a credential. Parameter names are matched after
 * percent-decoding (`access%5Ftoken` is access_token to the query parser), with `&` and `;` both as
 * separators and path parameters (`/x;token=…`) included, so the whole query goes as soon as one
 * name, repeated or not, is a credential's.
 */
export function safeUrl(url: string): string {
  // rtsp://user:password@camera/… : the password never reaches a log line
  url = url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*):[^/\s]*@/i, '$1:[redacted]@');
  const at = url.search(/[?;]/);
  if (at < 0) return url;
  const params = url.slice(at + 1).split(/[&;?]/);
  if (params.some((p) => isSecretName(p.split('=', 1)[0] ?? ''))) return `${url.slice(0, at)}${url[at]}[redacted]`;
  return url;
}

export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { name: options.name ?? 'eseal' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(opts, options.destination as DestinationStream) : pino(opts);
}
