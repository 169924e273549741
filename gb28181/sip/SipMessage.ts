// SIP messages on top of the `sip` package's parser and stringifier, which we keep (they are
// tolerant and tested); what it lacks we add here: a total parse (malformed input is an error value,
// never an exception), a check that a request has what we need to answer it, and response building.
import sip, { type Message, type Request, type Response, type NameAddr, type Via } from 'sip';

export type { Message, Request, Response };

/** Where a message came from or goes to: a UDP address, or a TCP connection (its flow). */
export interface Remote {
  protocol: 'UDP' | 'TCP';
  address: string;
  port: number;
}

export const SIP_MAX_BYTES = 64 * 1024;

export type ParseResult =
  | { ok: true; message: Message }
  /** `request`: the start line is a request's (worth a 400); `partial`: what could be read, to build it */
  | { ok: false; error: string; request: boolean; partial?: Message };

const REQUEST_LINE = /^[A-Za-z]{1,32} \S{1,1024} SIP\/2\.0\r?$/;

/** Parses one message (bytes or latin1 string); never throws. */
export function parseSip(data: Buffer | string): ParseResult {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  const nl = text.indexOf('\n');
  const firstLine = (nl < 0 ? text : text.slice(0, nl)).slice(0, 2048).replace(/\r$/, '');
  const request = !firstLine.startsWith('SIP/');
  if (text.length > SIP_MAX_BYTES) return { ok: false, error: 'message too long', request };
  let m: Message | undefined;
  try {
    m = sip.parse(text);
  } catch (err) {
    return { ok: false, error: `unparsable: ${(err as Error).message}`, request };
  }
  if (!m) return { ok: false, error: 'not a SIP message', request: request && REQUEST_LINE.test(firstLine + '\r') };
  const problem = missing(m);
  if (problem) return { ok: false, error: problem, request: !m.status, partial: m };
  return { ok: true, message: m };
}

function missing(m: Message): string | undefined {
  const h = m.headers;
  if (!Array.isArray(h.via) || !h.via.length || !h.via[0] || typeof h.via[0].host !== 'string' || !h.via[0].protocol) return 'no usable Via';
  if (typeof h['call-id'] !== 'string' || !h['call-id'] || h['call-id'].length > 256) return 'no Call-ID';
  if (!h.cseq || typeof h.cseq !== 'object' || !Number.isSafeInteger(h.cseq.seq) || h.cseq.seq < 0 || h.cseq.seq > 2 ** 31 || typeof h.cseq.method !== 'string') return 'no usable CSeq';
  if (!h.from || typeof h.from !== 'object' || typeof h.from.uri !== 'string') return 'no usable From';
  if (!h.to || typeof h.to !== 'object' || typeof h.to.uri !== 'string') return 'no usable To';
  if (m.method !== undefined) {
    if (typeof m.uri !== 'string' || !sip.parseUri(m.uri)) return 'bad Request-URI';
    if (m.method.toUpperCase() !== h.cseq.method.toUpperCase()) return 'CSeq method differs from the request method';
  }
  const cl = h['content-length'];
  if (cl !== undefined && (typeof cl !== 'number' || !Number.isFinite(cl) || cl < 0)) return 'bad Content-Length';
  return undefined;
}

/** The message as bytes (the `sip` package writes latin1 strings); undefined when it cannot be written. */
export function serializeSip(m: Message): Buffer | undefined {
  try {
    return Buffer.from(sip.stringify(m), 'latin1');
  } catch {
    return undefined;
  }
}

/** The user part (the GB/T 28181 id) of a From / To / Contact; '' when none. */
export function userOf(addr: NameAddr | undefined): string {
  if (!addr) return '';
  const uri = typeof addr.uri === 'string' ? sip.parseUri(addr.uri) : addr.uri;
  return uri?.user ?? '';
}

export function tagOf(addr: NameAddr | undefined): string {
  const t = addr?.params?.['tag'];
  return typeof t === 'string' ? t : '';
}

export function randomToken(bytes = 8): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return s;
}

/** A response to `rq`; the To gets our tag on anything but 100. */
export function makeResponse(rq: Request, status: number, reason: string, extra: { headers?: Record<string, unknown>; content?: string; toTag?: string } = {}): Response {
  const to = { ...rq.headers.to, params: { ...rq.headers.to.params } };
  if (status > 100 && !to.params['tag']) to.params['tag'] = extra.toTag ?? randomToken(6);
  const rs: Response = {
    status,
    reason,
    version: '2.0',
    headers: {
      via: rq.headers.via,
      to,
      from: rq.headers.from,
      'call-id': rq.headers['call-id'],
      cseq: rq.headers.cseq,
      ...(extra.headers ?? {}),
    },
  };
  if (extra.content !== undefined) rs.content = extra.content;
  return rs;
}

/**
 * A bare 400 for input too broken to answer properly: echo what can be read (so a device can match
 * it), or a status line alone. Never sent in reply to something that looks like a response.
 */
export function badRequestBytes(reason: string, partial?: Message): Buffer {
  const lines = [`SIP/2.0 400 ${reason.replace(/[\r\n]/g, ' ').slice(0, 100)}`];
  const h = partial?.headers;
  if (h) {
    try {
      const s = sip.stringify({ status: 400, reason: 'x', headers: pick(h) } as Response).split('\r\n').slice(1);
      for (const l of s) if (l && !/^Content-Length/i.test(l)) lines.push(l);
    } catch {
      /* the status line alone */
    }
  }
  lines.push('Content-Length: 0', '', '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

function pick(h: Message['headers']): Message['headers'] {
  const out: Record<string, unknown> = {};
  if (Array.isArray(h.via) && h.via.every((v: Via) => v && typeof v.host === 'string' && v.protocol)) out['via'] = h.via;
  for (const k of ['to', 'from'] as const) if (h[k] && typeof h[k].uri === 'string') out[k] = h[k];
  if (typeof h['call-id'] === 'string') out['call-id'] = h['call-id'];
  if (h.cseq && Number.isSafeInteger(h.cseq.seq) && typeof h.cseq.method === 'string') out['cseq'] = h.cseq;
  return out as Message['headers'];
}

/** The Expires a REGISTER asks for: the Expires header, else the Contact's expires parameter; undefined when neither. */
export function requestedExpires(rq: Request): number | undefined {
  const raw = rq.headers.expires ?? (Array.isArray(rq.headers.contact) ? rq.headers.contact[0]?.params?.['expires'] : undefined);
  if (raw === undefined || raw === null) return undefined;
  const n = Number(String(raw).trim());
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
