// Two limits at the socket level, so that they hold for every route alike (records, multipart
// uploads, tus PATCH, the token endpoint, unknown paths): a cap on the connections one address holds
// at once, and a minimum rate at which a request body must keep arriving. Without them a client
// that sends a body one byte every few seconds holds a connection (and an upload slot) until the
// request timeout. Headers are bounded by the server's headersTimeout, idle keep-alive connections by
// keepAliveTimeout, a whole request by requestTimeout; this covers the body in between.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { failure } from '../../src/contract/index.ts';
import type { EsealError } from '../../src/errors.ts';
import { SlowBody } from '../errors.ts';

export interface ConnectionGuardOptions {
  /** connections one address may hold at once; the next one is closed at once */
  perAddress: number;
  /** bytes per second a request body must keep arriving at (0: no floor) */
  minBodyBytesPerSecond: number;
  /** the rate is measured over windows of this length */
  windowMs: number;
  /** time after the headers before the first window starts (TCP slow start, the route's checks) */
  graceMs: number;
}

export interface SlowBodyCut {
  req: IncomingMessage;
  address: string;
  error: EsealError;
  bytesPerSecond: number;
}

export interface ConnectionGuardEvents {
  /** a connection over the cap was closed; `first` is true for the first of a run from that address */
  refused(address: string, open: number, first: boolean): void;
  /** a request whose body came too slowly was answered 408 and its connection closed */
  cut(info: SlowBodyCut): void;
}

interface Watched {
  req: IncomingMessage;
  res: ServerResponse;
  socket: Socket;
  address: string;
  graceEnds: number;
  /** start of the current window (undefined until the grace period is over) */
  windowStart: number | undefined;
  windowBytes: number;
  /** the relay itself held bytes unread during this window: its slowness, not the client's */
  excused: boolean;
}

/** After the 408 and our FIN, how long the client gets to read them before the socket is destroyed. */
const LINGER_MS = 2000;

/** The address a connection is counted under: IPv4-mapped IPv6 as plain IPv4. */
export function addressOf(socket: Socket): string {
  const a = socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export class ConnectionGuard {
  readonly #server: Server;
  readonly #o: ConnectionGuardOptions;
  readonly #events: ConnectionGuardEvents;
  readonly #open = new Map<string, number>();
  /** addresses refused since they last went below the cap (one log line per run of refusals) */
  readonly #refusing = new Set<string>();
  readonly #watched = new Set<Watched>();
  readonly #cutRequests = new WeakMap<IncomingMessage, EsealError>();
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(server: Server, options: ConnectionGuardOptions, events: ConnectionGuardEvents) {
    this.#server = server;
    this.#o = options;
    this.#events = events;
    server.on('connection', this.#onConnection);
    if (options.minBodyBytesPerSecond > 0) {
      server.on('request', this.#onRequest);
      this.#timer = setInterval(this.#tick, Math.max(50, Math.min(1000, options.windowMs / 4)));
      this.#timer.unref();
    }
  }

  /** connections open now from `address` */
  openFrom(address: string): number {
    return this.#open.get(address) ?? 0;
  }

  /** the refusal of a request this guard cut off for a slow body, if it did */
  cutError(req: IncomingMessage): EsealError | undefined {
    return this.#cutRequests.get(req);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#server.off('connection', this.#onConnection);
    this.#server.off('request', this.#onRequest);
    this.#watched.clear();
  }

  // For TLS this is the raw TCP socket, before the handshake: an over-cap connection costs no crypto.
  readonly #onConnection = (socket: Socket): void => {
    const address = addressOf(socket);
    const open = this.#open.get(address) ?? 0;
    if (open >= this.#o.perAddress) {
      const first = !this.#refusing.has(address);
      this.#refusing.add(address);
      socket.destroy();
      this.#events.refused(address, open, first);
      return;
    }
    this.#open.set(address, open + 1);
    socket.once('close', () => {
      const left = (this.#open.get(address) ?? 1) - 1;
      if (left <= 0) this.#open.delete(address);
      else this.#open.set(address, left);
      if (left < this.#o.perAddress) this.#refusing.delete(address);
    });
  };

  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.complete) return;
    this.#watched.add({
      req,
      res,
      socket: req.socket,
      address: addressOf(req.socket),
      graceEnds: performance.now() + this.#o.graceMs,
      windowStart: undefined,
      windowBytes: 0,
      excused: false,
    });
  };

  readonly #tick = (): void => {
    const now = performance.now();
    for (const w of this.#watched) {
      if (w.req.complete || w.socket.destroyed) {
        this.#watched.delete(w);
        continue;
      }
      if (now < w.graceEnds) continue;
      // Bytes waiting in the request stream mean the route is not reading (busy, or applying
      // backpressure while it writes to disk): the socket was not read, so the client is not to blame.
      if (w.req.readableLength > 0) w.excused = true;
      if (w.windowStart === undefined) {
        this.#startWindow(w, now);
        continue;
      }
      const elapsed = now - w.windowStart;
      if (elapsed < this.#o.windowMs) continue;
      const rate = ((w.socket.bytesRead - w.windowBytes) * 1000) / elapsed;
      if (rate >= this.#o.minBodyBytesPerSecond || w.excused) {
        this.#startWindow(w, now);
        continue;
      }
      this.#watched.delete(w);
      this.#cut(w, rate, elapsed);
    }
  };

  #startWindow(w: Watched, now: number): void {
    w.windowStart = now;
    w.windowBytes = w.socket.bytesRead;
    w.excused = false;
  }

  #cut(w: Watched, rate: number, elapsedMs: number): void {
    const shownRate = Math.round(rate * 10) / 10;
    const error = SlowBody(
      `body: arrived at ${shownRate} bytes/s over the last ${Math.round(elapsedMs / 1000)} s, below the relay's minimum of ${this.#o.minBodyBytesPerSecond} bytes/s; the connection is closed and nothing of this request was stored (on a slow link, send videos as resumable uploads)`,
      { field: 'body', detail: { bytesPerSecond: shownRate } },
    );
    this.#cutRequests.set(w.req, error);
    const { socket, res } = w;
    // The route is still waiting for the body, so nothing was answered yet: answer 408 ourselves.
    // Closing our side (FIN) before destroying lets the client read it instead of a reset.
    if (!res.headersSent && socket.writable) {
      const body = JSON.stringify(failure(error.message));
      socket.end(
        `HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    } else {
      socket.end();
    }
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
    this.#events.cut({ req: w.req, address: w.address, error, bytesPerSecond: shownRate });
  }
}
