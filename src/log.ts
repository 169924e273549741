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

/** The URL without a query string that could carry a credential. */
export function safeUrl(url: string): string {
  // rtsp://user:password@camera/… : the password never reaches a log line
  url = url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*):[^/\s]*@/i, '$1:[redacted]@');
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url.slice(q + 1);
  if (/(^|&)(password|access_token|token|secret)=/i.test(query)) return `${url.slice(0, q)}?[redacted]`;
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
