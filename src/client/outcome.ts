// What an upstream answer (or failure) means for the item, decided by HTTP status, envelope code
// and error code from the configured lists, never by message text:
//
//   delivered  HTTP 200 with code 0: the only way an item is marked delivered
//   auth       the token was refused (HTTP 401/424, or code 1 anywhere): log in again once, retry
//   retry      a network error or status on the retry lists, or an answer that is not an envelope
//   reject     a definite refusal: another 4xx, or HTTP 200 with a code other than 0 and 1
//
// and what a login answer without a token means (refusesLogin).
//
// Shared by everything that sends to the national API: the relay's forwarder and the edge uploader.
import type { ApiAnswer } from './NationalClient.ts';

export type Outcome =
  | { kind: 'delivered' }
  | { kind: 'auth'; reason: string }
  /** transport: the upstream could not be reached or answered with an overload status (counts toward the circuit breaker) */
  | { kind: 'retry'; reason: string; transport: boolean }
  | { kind: 'reject'; reason: string };

export interface RetryLists {
  statuses: readonly number[];
  errors: readonly string[];
}

/**
 * What is worth a retry unless configured otherwise: timeouts, throttling and server faults, and
 * the network's (and undici's) errors. The relay's forward.retry defaults and the edge uploader's.
 */
export const DEFAULT_RETRY_LISTS: RetryLists = Object.freeze({
  statuses: Object.freeze([408, 425, 429, 500, 502, 503, 504]),
  errors: Object.freeze([
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'EAI_AGAIN',
    'ENOTFOUND',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
    'UND_ERR_SOCKET',
    'UND_ERR_CLOSED',
    'UND_ERR_ABORTED',
  ]),
});

const AUTH_STATUSES = new Set([401, 424]);

function shown(a: ApiAnswer): string {
  const body = a.text.length > 300 ? a.text.slice(0, 297) + '…' : a.text;
  return `HTTP ${a.status} ${body.replace(/\s+/g, ' ').trim()}`;
}

/** The answer refuses the token (NATIONAL-API.md: any code 1, or HTTP 401/424): log in again once. */
export function refusesToken(a: ApiAnswer): boolean {
  return AUTH_STATUSES.has(a.status) || a.envelope?.code === 1;
}

/** pig's answers at the token endpoint: 426 wrong username or password, 401 wrong Basic client */
const LOGIN_REFUSED_STATUSES = new Set([401, 426]);

/**
 * The login answer (without a token) refuses the credentials: the operator must fix them, and the
 * platform's public key is fetched again first (a stale key makes a good password look wrong).
 *
 * - HTTP 426 or 401: what the national platform's framework (pig) answers (NATIONAL-API.md).
 * - HTTP 200 with envelope code 1: a gateway that answers every failure with 200 and code 1.
 * - HTTP 400 only with the OAuth2 error `invalid_grant` (RFC 6749 5.2: a plain Spring OAuth2 server
 *   answers bad credentials so). Any other 400 is a request the server cannot read, e.g. pig's
 *   `{"code":1,"msg":"grant_type: …"}` for a broken rule (code 1 is every failure's code there):
 *   a configuration or relay fault that other credentials would not cure, so it is reported as an
 *   HTTP error with its status, not as refused credentials.
 * Anything else (5xx, other 4xx, a 200 without a token) is an HTTP error too.
 */
export function refusesLogin(a: ApiAnswer): boolean {
  if (LOGIN_REFUSED_STATUSES.has(a.status)) return true;
  if (a.status === 200) return a.envelope?.code === 1;
  if (a.status === 400) {
    try {
      return (JSON.parse(a.text) as { error?: unknown })?.error === 'invalid_grant';
    } catch {
      return false;
    }
  }
  return false;
}

export function outcomeOfAnswer(a: ApiAnswer, lists: RetryLists): Outcome {
  const code = a.envelope?.code;
  if (a.status === 200 && code === 0) return { kind: 'delivered' };
  if (refusesToken(a)) {
    // NATIONAL-API.md: any answer with code 1 means "token invalid": log in again once, then retry
    return { kind: 'auth', reason: shown(a) };
  }
  if (lists.statuses.includes(a.status)) return { kind: 'retry', reason: shown(a), transport: a.status >= 500 || a.status === 429 };
  if (a.status >= 400 && a.status < 500) return { kind: 'reject', reason: shown(a) };
  if (a.status === 200 && code !== undefined) return { kind: 'reject', reason: shown(a) };
  // a 5xx not on the list, a 3xx, or a 200 that is not an envelope (a proxy's page): try again later
  return { kind: 'retry', reason: shown(a), transport: a.status >= 500 };
}

/** After a fresh login the call was refused again: a 4xx then is definite, anything else retried. */
export function outcomeAfterRelogin(a: ApiAnswer, lists: RetryLists): Outcome {
  const first = outcomeOfAnswer(a, lists);
  if (first.kind !== 'auth') return first;
  if (a.status >= 400 && a.status < 500 && !AUTH_STATUSES.has(a.status) && !lists.statuses.includes(a.status)) {
    return { kind: 'reject', reason: `${first.reason} (again after a fresh login)` };
  }
  return { kind: 'retry', reason: `${first.reason} (again after a fresh login)`, transport: false };
}

export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return 'UNKNOWN';
}

/**
 * A call that got no answer. Errors on the list are the network's: retried, and counted toward the
 * circuit breaker. Others are retried too (nothing definite was said upstream) but do not open the
 * circuit: they are ours to fix, and the log says so.
 */
export function outcomeOfError(err: unknown, lists: RetryLists): Outcome {
  const code = errorCode(err);
  const reason = `${code}: ${(err as Error)?.message ?? String(err)}`;
  return lists.errors.includes(code) ? { kind: 'retry', reason, transport: true } : { kind: 'retry', reason, transport: false };
}

/** Exponential back-off with full jitter: random in [base·2^(n-1)/2, base·2^(n-1)], capped. */
export function backoffMs(attempt: number, baseSeconds: number, maxSeconds: number, random = Math.random): number {
  const ceiling = Math.min(maxSeconds * 1000, baseSeconds * 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
