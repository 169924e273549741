// One upper platform, seen from below: REGISTER as its lower platform (digest, with or without qop),
// again before the registration runs out, a keepalive MESSAGE every keepaliveSeconds, and back to
// REGISTER when the platform forgets us (404 to a keepalive), after 3 keepalives without an
// answer, or when a REGISTER fails (403/404/timeout/transport error: retried with a backoff of 1 s
// doubling up to the keepalive interval, at most 60 s). Its state is what `eseal gb28181 cascade` shows.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { EsealError } from '../../src/errors.ts';
import type { SipEndpoint } from '../sip/SipEndpoint.ts';
import { randomToken, type Response } from '../sip/SipMessage.ts';
import { CascadeChallenge, CascadeRefused, CascadeUnreachable } from './errors.ts';
import { initialState, type UpperState } from './state.ts';
import { authorization, readChallenge } from './upperDigest.ts';
import { MANSCDP_TYPE, manscdpBody, upperRequest, type UpperPeer } from './upperRequest.ts';

export const KEEPALIVE_MISSES = 3;

export class UpperClient {
  readonly peer: UpperPeer;
  readonly state: UpperState;
  readonly #endpoint: SipEndpoint;
  readonly #log: Logger;
  readonly #onChange: () => void;
  readonly #callId: string;
  #cseq = 0;
  #sn = 0;
  #timer?: NodeJS.Timeout;
  #keepalive?: NodeJS.Timeout;
  #attempt = 0;
  #busy = false;
  #closed = false;

  constructor(peer: UpperPeer, endpoint: SipEndpoint, log: Logger, onChange: () => void) {
    this.peer = peer;
    this.#endpoint = endpoint;
    this.#log = log.child({ upper: peer.entry.id, at: `${peer.entry.host}:${peer.entry.port}/${peer.remote.protocol}` });
    this.#onChange = onChange;
    this.#callId = `${randomToken(12)}@${endpoint.publicHost}`;
    this.state = initialState(peer.entry, peer.localId);
  }

  start(): void {
    this.#schedule(0);
  }

  get registered(): boolean {
    return this.state.registered;
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#register(), ms);
    this.#timer.unref();
  }

  #fail(err: unknown): void {
    const e = err as Error;
    this.state.registered = false;
    this.state.lastError = e.message.slice(0, 300);
    this.state.lastErrorCode = err instanceof EsealError ? err.code : '';
    this.state.lastErrorAt = Date.now();
    this.#stopKeepalive();
    const cap = Math.min(60_000, Math.max(1000, this.peer.entry.keepaliveSeconds * 1000));
    const delay = Math.min(cap, 1000 * 2 ** Math.min(this.#attempt, 10));
    this.#attempt++;
    this.#log.warn({ err: this.state.lastError, retryMs: delay }, 'gb28181 cascade: not registered with the upper platform');
    this.#onChange();
    this.#schedule(delay);
  }

  /** Sends REGISTER (answering one challenge) and resolves with the final answer. */
  async #sendRegister(expires: number, timeoutMs?: number): Promise<Response> {
    const { entry, localId } = this.peer;
    // a host name is looked up again at each registration (flows and answers are keyed by address)
    if (!isIP(entry.host)) this.peer.remote.address = (await lookup(entry.host, { family: 4 })).address;
    // over TCP the bridge keeps one connection to the platform; a lost one is opened again here
    if (this.peer.remote.protocol === 'TCP') await this.#endpoint.connect(this.peer.remote);
    const rq = () => upperRequest(this.#endpoint, this.peer, 'REGISTER', { callId: this.#callId, cseq: ++this.#cseq, headers: { expires } });
    let rs = await this.#endpoint.request(rq(), this.peer.remote, undefined, timeoutMs);
    if (rs.status === 401 || rs.status === 407) {
      const challenge = readChallenge(rs.headers[rs.status === 401 ? 'www-authenticate' : 'proxy-authenticate']);
      if (!challenge) throw CascadeChallenge(`upper platform ${entry.id} answered ${rs.status} without a usable MD5 Digest challenge`);
      const next = rq();
      // a string header is written as it is (the `sip` package types it as parsed AuthHeaders)
      (next.headers as Record<string, unknown>)[rs.status === 401 ? 'authorization' : 'proxy-authorization'] = authorization(challenge, 'REGISTER', String(next.uri), localId, entry.password);
      rs = await this.#endpoint.request(next, this.peer.remote, undefined, timeoutMs);
      if (rs.status === 401 || rs.status === 407) throw CascadeChallenge(`upper platform ${entry.id} challenged our credentials again: wrong password (gb28181.cascade[].password) or id (localId)`);
    }
    return rs;
  }

  async #register(): Promise<void> {
    if (this.#closed || this.#busy) return;
    this.#busy = true;
    const { entry } = this.peer;
    try {
      const rs = await this.#sendRegister(entry.expires);
      if (rs.status >= 300) throw CascadeRefused(`upper platform ${entry.id} refused our REGISTER: ${rs.status} ${rs.reason}`, { detail: { status: rs.status } });
      const granted = grantedExpires(rs, entry.expires);
      const now = Date.now();
      const was = this.state.registered;
      Object.assign(this.state, { registered: true, registeredAt: now, expiresAt: now + granted * 1000, registrations: this.state.registrations + 1, keepaliveFailures: 0, lastError: '', lastErrorCode: '' });
      this.#attempt = 0;
      if (!was) this.#log.info({ expires: granted }, 'gb28181 cascade: registered with the upper platform');
      this.#onChange();
      // again before it runs out: a quarter early, at most a minute
      const ms = granted * 1000;
      this.#schedule(Math.max(500, ms - Math.min(ms / 4, 60_000)));
      if (!was || !this.#keepalive) this.#startKeepalive();
    } catch (err) {
      this.#fail(wrapTransport(err, entry.id));
    } finally {
      this.#busy = false;
    }
  }

  #startKeepalive(): void {
    this.#stopKeepalive();
    const every = this.peer.entry.keepaliveSeconds * 1000;
    this.#keepalive = setInterval(() => void this.#sendKeepalive(), every);
    this.#keepalive.unref();
  }

  #stopKeepalive(): void {
    if (this.#keepalive) clearInterval(this.#keepalive);
    this.#keepalive = undefined;
  }

  async #sendKeepalive(): Promise<void> {
    if (this.#closed || this.#busy || !this.state.registered) return;
    const { entry, localId } = this.peer;
    this.#sn = (this.#sn % 999_999) + 1;
    const rq = upperRequest(this.#endpoint, this.peer, 'MESSAGE', {
      cseq: ++this.#cseq,
      contentType: MANSCDP_TYPE,
      content: manscdpBody('Notify', { CmdType: 'Keepalive', SN: this.#sn, DeviceID: localId, Status: 'OK' }),
    });
    let status = 0;
    try {
      status = (await this.#endpoint.request(rq, this.peer.remote, undefined, Math.min(entry.keepaliveSeconds * 1000, 32_000))).status;
    } catch (err) {
      this.state.lastError = `keepalive: ${(err as Error).message}`.slice(0, 300);
      this.state.lastErrorAt = Date.now();
    }
    if (this.#closed) return;
    this.state.lastKeepaliveAt = Date.now();
    this.state.lastKeepaliveOk = status >= 200 && status < 300;
    if (this.state.lastKeepaliveOk) {
      this.state.keepaliveFailures = 0;
    } else if (status === 404 || status === 403 || status === 401 || !this.#endpoint.reachable(this.peer.remote)) {
      // the platform no longer knows us (it restarted), or our TCP connection is gone: register at once
      this.#log.info({ status }, 'gb28181 cascade: the upper platform refused a keepalive; registering again');
      this.state.registered = false;
      this.#stopKeepalive();
      this.#schedule(0);
    } else if (++this.state.keepaliveFailures >= KEEPALIVE_MISSES) {
      this.#fail(CascadeUnreachable(`upper platform ${entry.id}: ${KEEPALIVE_MISSES} keepalives without an answer${status ? ` (last ${status})` : ''}`));
      this.#attempt = 0;
      this.#schedule(0);
    }
    this.#onChange();
  }

  /** Stops, and unregisters (Expires: 0) when registered; never throws. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#stopKeepalive();
    if (!this.state.registered) return;
    this.state.registered = false;
    try {
      await this.#sendRegister(0, 2000);
    } catch {
      /* the platform will see our registration run out */
    }
  }
}

function grantedExpires(rs: Response, asked: number): number {
  const contact = Array.isArray(rs.headers.contact) ? rs.headers.contact[0]?.params?.['expires'] : undefined;
  const n = Number(rs.headers.expires ?? contact ?? asked);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 7 * 86400) : asked;
}

function wrapTransport(err: unknown, id: string): unknown {
  if (err instanceof EsealError && err.code.startsWith('ESEAL_ERR_CASCADE_')) return err;
  return CascadeUnreachable(`upper platform ${id}: ${(err as Error).message}`, { cause: err });
}
