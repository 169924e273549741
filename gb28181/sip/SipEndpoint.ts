// The bridge's SIP endpoint: its UDP and TCP transports, the client transaction table (requests we
// send) and the server side (requests we answer). Every request gets an answer: a handler's answer,
// 400 for malformed input, 503 above the per-address rate, 500 when a handler fails; a
// retransmitted request gets the same answer again. Nothing a peer sends can throw out of here.
// An INVITE is answered 100 Trying at once (its handler may take seconds: the cascade first plays
// the mine's stream), so that a peer over UDP stops re-sending it; a handler may send more
// provisional answers (provisional()). Over UDP the final answer to an INVITE is re-sent until the
// ACK comes (RFC 3261 §13.3.1.4 and §17.2.1: T1 doubling up to T2, given up after 64·T1).
import type { Logger } from 'pino';
import { SipListen, SipUnreachable } from '../errors.ts';
import { TcpTransport } from './TcpTransport.ts';
import { Transactions, transactionKey } from './Transactions.ts';
import { UdpTransport } from './UdpTransport.ts';
import { badRequestBytes, makeResponse, parseSip, randomToken, serializeSip, type Message, type Remote, type Request, type Response } from './SipMessage.ts';

export type RequestHandler = (rq: Request, remote: Remote) => Promise<Response | undefined> | Response | undefined;

export interface SipEndpointOptions {
  host: string;
  /** 0: any free port (the same number for UDP and TCP is not guaranteed then; tests read udpPort / tcpPort) */
  port: number;
  /** written in our Via headers */
  publicHost: string;
  transactionSeconds: number;
  requestsPerSecond: number;
  maxConnections: number;
  log: Logger;
  /** a TCP connection closed */
  onFlowClosed?: (remote: Remote) => void;
  /** RFC 3261's T1 in ms (default 500; tests shorten it): the INVITE answer's retransmission interval starts there, doubles up to T2 = 8·T1, gives up after 64·T1 */
  t1Ms?: number;
}

interface Answered {
  bytes?: Buffer;
  /** the last provisional answer (an INVITE's 100 Trying), re-sent to a retransmission while the final one is pending */
  provisional?: Buffer;
  at: number;
}

/** A final answer to an INVITE over UDP, re-sent until the ACK. */
interface Unacked {
  timer: NodeJS.Timeout;
  giveUpAt: number;
}

/** how long an answer is kept for retransmissions of its request (RFC 3261 timer J: 64 × T1) */
const ANSWER_KEEP_MS = 32_000;
const MAX_ANSWERS = 200_000;

export class SipEndpoint {
  readonly #options: SipEndpointOptions;
  readonly #log: Logger;
  #udp?: UdpTransport;
  #tcp?: TcpTransport;
  readonly transactions = new Transactions();
  readonly #answered = new Map<string, Answered>();
  /** the requests being handled, for provisional() */
  readonly #entries = new WeakMap<Request, Answered>();
  readonly #rate = new Map<string, { second: number; count: number }>();
  readonly #unacked = new Map<string, Unacked>();
  #handler: RequestHandler = () => undefined;
  #sweep?: NodeJS.Timeout;
  #closed = false;
  /** counters for logs and the bench */
  readonly stats = { received: 0, malformed: 0, limited: 0, failures: 0, answersResent: 0, ackTimeouts: 0 };

  constructor(options: SipEndpointOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  onRequest(handler: RequestHandler): void {
    this.#handler = handler;
  }

  async start(): Promise<void> {
    const { host, port } = this.#options;
    const onError = (err: Error) => this.#log.warn({ err: err.message }, 'gb28181: SIP socket error');
    // port 0 (tests): any free UDP port, then TCP on the same number; another process may hold
    // that number for TCP, so a few tries
    for (let attempt = 1; ; attempt++) {
      try {
        this.#udp = await UdpTransport.bind(host, port, (b, r) => this.#receive(b, r), onError);
        this.#tcp = await TcpTransport.listen(host, port || this.#udp.port, (b, r) => this.#receive(b, r), onError, {
          maxConnections: this.#options.maxConnections,
          idleSeconds: 600,
          ...(this.#options.onFlowClosed ? { onClose: this.#options.onFlowClosed } : {}),
        });
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        await this.#udp?.close();
        this.#udp = undefined;
        if (port === 0 && code === 'EADDRINUSE' && attempt < 10) continue;
        await this.close();
        throw SipListen(`cannot listen for SIP on ${host}:${port} (${code || (err as Error).message}); check gb28181.sip.listen`, { cause: err, field: 'gb28181.sip.listen' });
      }
    }
    this.#sweep = setInterval(() => this.#sweepAnswers(), 5000);
    this.#sweep.unref();
  }

  get udpPort(): number {
    return this.#udp?.port ?? 0;
  }
  get tcpPort(): number {
    return this.#tcp?.port ?? 0;
  }
  get publicHost(): string {
    return this.#options.publicHost;
  }

  /** Whether we can still reach the remote (a TCP device's connection is up; UDP always). */
  reachable(remote: Remote): boolean {
    return remote.protocol === 'UDP' ? !!this.#udp : !!this.#tcp?.has(remote);
  }

  /** Opens a TCP flow to `remote` unless one is up (cascade to an upper platform over TCP; `remote.address` an IP). */
  async connect(remote: Remote): Promise<void> {
    if (remote.protocol === 'TCP' && this.#tcp && !this.#tcp.has(remote)) await this.#tcp.connect(remote);
  }

  #receive(bytes: Buffer, remote: Remote): void {
    if (this.#closed) return;
    this.stats.received++;
    const parsed = parseSip(bytes);
    if (!parsed.ok) {
      this.stats.malformed++;
      this.#log.debug({ remote: `${remote.address}:${remote.port}`, error: parsed.error }, 'gb28181: malformed SIP');
      if (parsed.request && this.#allow(remote)) this.#write(badRequestBytes(parsed.error, parsed.partial), remote);
      return;
    }
    const m = parsed.message;
    if (m.status !== undefined) {
      this.#onResponse(m as Response);
      return;
    }
    this.#onRequestMessage(m as Request, remote);
  }

  #onResponse(rs: Response): void {
    const key = transactionKey(rs.headers['call-id'], rs.headers.cseq.seq, rs.headers.cseq.method);
    if (!this.transactions.settle(key, rs)) this.#log.debug({ callId: rs.headers['call-id'], status: rs.status }, 'gb28181: response without a transaction');
  }

  #onRequestMessage(rq: Request, remote: Remote): void {
    const method = rq.method.toUpperCase();
    if (method === 'ACK') {
      this.#acked(rq, remote);
      // ACKs are not answered; the handler may still want them (dialog confirmation)
      void Promise.resolve()
        .then(() => this.#handler(rq, remote))
        .catch(() => {});
      return;
    }
    const key = `${remote.protocol}|${remote.address}|${remote.port}|` + transactionKey(rq.headers['call-id'], rq.headers.cseq.seq, method) + `|${String(rq.headers.via[0]?.params?.['branch'] ?? '')}`;
    const seen = this.#answered.get(key);
    if (seen) {
      // a retransmission: the same answer again (none yet: the first is still being handled, and an INVITE gets its 100 again)
      const again = seen.bytes ?? seen.provisional;
      if (again) this.#write(again, remote);
      return;
    }
    if (!this.#allow(remote)) {
      this.stats.limited++;
      this.#reply(rq, remote, makeResponse(rq, 503, 'Service Unavailable', { headers: { 'retry-after': 5 } }));
      return;
    }
    const entry: Answered = { at: Date.now() };
    if (this.#answered.size < MAX_ANSWERS) this.#answered.set(key, entry);
    this.#entries.set(rq, entry);
    if (method === 'INVITE') this.provisional(rq, remote, 100, 'Trying');
    void (async () => {
      let rs: Response | undefined;
      try {
        rs = await this.#handler(rq, remote);
      } catch (err) {
        this.stats.failures++;
        this.#log.error({ err, method, callId: rq.headers['call-id'] }, 'gb28181: a request handler failed');
        rs = makeResponse(rq, 500, 'Server Internal Error');
      }
      rs ??= makeResponse(rq, 500, 'Server Internal Error');
      entry.bytes = this.#reply(rq, remote, rs);
      this.#entries.delete(rq);
      if (method === 'INVITE' && remote.protocol === 'UDP' && entry.bytes) this.#resendUntilAck(rq, remote, entry.bytes);
    })();
  }

  /**
   * Sends a provisional answer (1xx) to a request being handled (its server transaction): 100
   * Trying goes to every INVITE at once; a handler may add 180 / 183. A retransmission of the
   * request gets the last one again until the final answer. False once the request is answered.
   */
  provisional(rq: Request, remote: Remote, status = 100, reason = 'Trying'): boolean {
    const entry = this.#entries.get(rq);
    if (!entry || entry.bytes || status < 100 || status > 199) return false;
    // 100 has no To tag (RFC 3261 §8.2.6.1); other 1xx would open an early dialog, which we never need
    const bytes = this.#reply(rq, remote, makeResponse(rq, status, reason));
    if (bytes) entry.provisional = bytes;
    return !!bytes;
  }

  #unackedKey(rq: Request, remote: Remote): string {
    // not the port: a peer may ACK from another source port than it INVITEd from
    return `${remote.address}|${rq.headers["call-id"]}|${rq.headers.cseq.seq}`;
  }

  /** RFC 3261 §13.3.1.4 / §17.2.1 (timer G): T1, 2·T1, … at most T2 apart, until the ACK or 64·T1. */
  #resendUntilAck(rq: Request, remote: Remote, bytes: Buffer): void {
    const key = this.#unackedKey(rq, remote);
    const t1 = this.#options.t1Ms ?? 500;
    let interval = t1;
    const giveUpAt = Date.now() + 64 * t1;
    const again = (): void => {
      if (this.#closed || this.#unacked.get(key) !== u) return;
      if (Date.now() >= giveUpAt) {
        this.#unacked.delete(key);
        this.stats.ackTimeouts++;
        this.#log.info({ callId: rq.headers['call-id'], remote: `${remote.address}:${remote.port}` }, 'gb28181: no ACK to our answer to an INVITE');
        return;
      }
      this.stats.answersResent++;
      this.#write(bytes, remote);
      interval = Math.min(interval * 2, 8 * t1);
      u.timer = setTimeout(again, Math.min(interval, Math.max(0, giveUpAt - Date.now())));
      u.timer.unref?.();
    };
    clearTimeout(this.#unacked.get(key)?.timer);
    const u: Unacked = { timer: setTimeout(again, interval), giveUpAt };
    u.timer.unref?.();
    this.#unacked.set(key, u);
  }

  #acked(ack: Request, remote: Remote): void {
    const key = this.#unackedKey(ack, remote);
    const u = this.#unacked.get(key);
    if (!u) return;
    clearTimeout(u.timer);
    this.#unacked.delete(key);
  }

  /** final answers to INVITEs still re-sent, waiting for their ACK (tests, logs) */
  get awaitingAck(): number {
    return this.#unacked.size;
  }

  /** Sends a response to where its request came from (rport: the source address and port, RFC 3581). */
  #reply(rq: Request, remote: Remote, rs: Response): Buffer | undefined {
    const via = rq.headers.via.map((v, i) => (i === 0 && remote.protocol === 'UDP' ? { ...v, params: { ...v.params, received: remote.address, rport: remote.port } } : v));
    rs.headers.via = via;
    const bytes = serializeSip(rs);
    if (!bytes) {
      this.#log.error({ status: rs.status }, 'gb28181: a response could not be written');
      return undefined;
    }
    this.#write(bytes, remote);
    return bytes;
  }

  #write(bytes: Buffer, remote: Remote): boolean {
    return remote.protocol === 'UDP' ? !!this.#udp?.send(bytes, remote) : !!this.#tcp?.send(bytes, remote);
  }

  #allow(remote: Remote): boolean {
    const second = Math.floor(Date.now() / 1000);
    const k = remote.address;
    const r = this.#rate.get(k);
    if (!r || r.second !== second) {
      this.#rate.set(k, { second, count: 1 });
      return true;
    }
    return ++r.count <= this.#options.requestsPerSecond;
  }

  #sweepAnswers(): void {
    const old = Date.now() - ANSWER_KEEP_MS;
    for (const [k, a] of this.#answered) if (a.at < old) this.#answered.delete(k);
    const second = Math.floor(Date.now() / 1000);
    for (const [k, r] of this.#rate) if (r.second < second - 1) this.#rate.delete(k);
  }

  /** Our Via for a request to `remote`. */
  via(remote: Remote): Message['headers']['via'][number] {
    const port = remote.protocol === 'UDP' ? this.udpPort : this.tcpPort;
    return { version: '2.0', protocol: remote.protocol, host: this.#options.publicHost, port, params: { branch: `z9hG4bK${randomToken(8)}`, rport: null } };
  }

  /**
   * Sends a request and resolves with its final response (rejects SipTimeout, SipUnreachable,
   * SipClosed). `onProvisional` sees 1xx answers.
   */
  request(rq: Request, remote: Remote, onProvisional?: (rs: Response) => void, timeoutMs = this.#options.transactionSeconds * 1000): Promise<Response> {
    if (this.#closed) return Promise.reject(SipUnreachable('the SIP service is closed'));
    rq.headers.via = [this.via(remote)];
    const bytes = serializeSip(rq);
    if (!bytes) return Promise.reject(new Error(`the ${rq.method} request could not be written`));
    const what = `${rq.method} to ${remote.address}:${remote.port}/${remote.protocol}`;
    const key = transactionKey(rq.headers['call-id'], rq.headers.cseq.seq, rq.method);
    const resend = remote.protocol === 'UDP' ? () => this.#write(bytes, remote) : undefined;
    const waiting = this.transactions.wait(key, timeoutMs, what, resend, onProvisional);
    if (!this.#write(bytes, remote)) {
      this.transactions.settle(key, { status: 503, reason: 'unreachable', headers: rq.headers } as Response);
      return waiting.then(() => {
        throw SipUnreachable(`${what}: the device's connection is closed; it must register again`);
      });
    }
    return waiting;
  }

  /** Sends a request that has no response (ACK; `via`: the INVITE's, for the ACK of a non-2xx answer). */
  sendAck(rq: Request, remote: Remote, via?: Message['headers']['via']): boolean {
    rq.headers.via = via ?? [this.via(remote)];
    const bytes = serializeSip(rq);
    return !!bytes && this.#write(bytes, remote);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweep) clearInterval(this.#sweep);
    for (const u of this.#unacked.values()) clearTimeout(u.timer);
    this.#unacked.clear();
    this.transactions.destroy();
    await Promise.all([this.#udp?.close(), this.#tcp?.close()]);
    this.#udp = undefined;
    this.#tcp = undefined;
  }
}
