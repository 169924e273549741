// Response bodies: the envelope {code, msg, data} of 5.2.5 and the pig framework's auth answers
// (NATIONAL-API.md, "Framework behind the national platform").
import { RESPONSE_CODES } from './codes.ts';

export interface Envelope<D = unknown> {
  code: number;
  msg: string;
  data: D;
}

export const SUCCESS: Envelope<true> = Object.freeze({ code: RESPONSE_CODES.success, msg: 'success', data: true as const });

export function success<D>(data: D): Envelope<D> {
  return { code: RESPONSE_CODES.success, msg: 'success', data };
}

export function failure(msg: string, data: unknown = null): Envelope {
  return { code: RESPONSE_CODES.failure, msg, data };
}

export function serverError(msg: string): Envelope {
  return { code: RESPONSE_CODES.serverError, msg, data: null };
}

/** What pig answers, with HTTP status, for each authentication failure. */
export const AUTH_FAILURES = {
  /** missing, unknown or expired Bearer token on a data call */
  tokenInvalid: { status: 424, body: (token: string) => failure('token expire', `Invalid access token: ${token}`) },
  /** wrong username or password */
  badCredentials: { status: 426, body: (msg = 'Bad credentials') => failure(msg, 'invalid_exception') },
  /** wrong or missing Basic client */
  badClient: { status: 401, body: (msg: string) => failure(msg) },
} as const;

/** The token endpoint's success body (5.2.2, table 5-18). */
export interface TokenAnswer {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: 'server';
  dept_name: string;
  org_name: string;
}

/**
 * Reads an upstream answer: numeric or string `code`, `msg` or `message` (table 5-21 and the
 * examples disagree). Returns undefined when the body is not an envelope at all.
 */
export function readEnvelope(body: unknown): Envelope | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const o = body as Record<string, unknown>;
  const rawCode = o['code'];
  const code = typeof rawCode === 'number' ? rawCode : typeof rawCode === 'string' && /^-?\d+$/.test(rawCode.trim()) ? Number(rawCode) : undefined;
  if (code === undefined) return undefined;
  const msg = typeof o['msg'] === 'string' ? o['msg'] : typeof o['message'] === 'string' ? o['message'] : '';
  return { code, msg, data: o['data'] ?? null };
}
