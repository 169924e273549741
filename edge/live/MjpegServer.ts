// The live view of one camera, served the way mjpg-streamer serves it (the guide's liveUrl points at
// an MJPEG stream over HTTP, and the platform's players are written against mjpg-streamer):
// `/<token>/?action=stream` multipart/x-mixed-replace with the same boundary and part headers,
// `/<token>/?action=snapshot` one JPEG, and `/<token>/` a page that shows the stream in a browser.
//
// Access: the national platform opens liveUrl without credentials, so the URL itself is the
// credential: its first path segment is a random token (LiveToken.ts) and every other path is 404.
// No CORS header (no foreign page may read the pictures), viewers capped in all and per address,
// and no request, however malformed, can reach the process (src/http/guard.ts).
//
// Encoding is lazy: publish() keeps the latest raw frame, and a JPEG is made only when a viewer is
// ready for it or a snapshot asks, at most once per published frame and at most maxFps times a
// second, on the shared JPEG worker thread (JpegWorker.ts), never on the main thread. A viewer whose
// socket has not drained the previous part skips frames instead of queueing them, so a slow viewer
// costs at most one part of memory, and one that has not taken its part within stalledViewerMs is
// disconnected (by its own timer: also while the camera sends no frames), freeing its place.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { LENGTHS } from '../../src/contract/codes.ts';
import { guardServer, requestUrl, type GuardLogger } from '../../src/http/guard.ts';
import { drawMarks, type Overlay } from '../marks/draw.ts';
import { snapshotMarks } from '../marks/snapshot.ts';
import type { Frame, Marks } from '../types.ts';
import { LiveListen, LiveNotListening, LiveToken, LiveUrlTooLong } from './errors.ts';
import { LIVE_TOKEN_PATTERN } from './LiveToken.ts';
import { jpegWorker } from './JpegWorker.ts';

export const BOUNDARY = 'boundarydonotcross';

/** mjpg-streamer's STD_HEADER, sent on every answer (without its `Access-Control-Allow-Origin: *`). */
const STD_HEADERS: Record<string, string> = {
  Connection: 'close',
  Server: 'MJPG-Streamer/0.2 (eseal-edge)',
  'Cache-Control': 'no-store, no-cache, must-revalidate, pre-check=0, post-check=0, max-age=0',
  Pragma: 'no-cache',
  Expires: 'Mon, 3 Jan 2000 12:34:56 GMT',
};

export interface MjpegServerOptions {
  /** address to listen on; default '0.0.0.0' */
  host?: string;
  /** port to listen on; 0 picks a free one */
  port: number;
  /** the secret first path segment (LiveToken.ts): only `/<pathToken>/…` is served, all else is 404 */
  pathToken: string;
  /** JPEG quality 1…100; default 70 */
  quality?: number;
  /** stream viewers at once; the next gets 503; default 8 */
  maxClients?: number;
  /** stream viewers at once from one address; the next from it gets 429; default 4 */
  maxClientsPerAddress?: number;
  /** most frames a second sent to viewers; default 10; 0 for no cap */
  maxFps?: number;
  /** the camera name, for the page title */
  camera?: string;
  /** a viewer whose socket has not drained for this long is dropped, freeing its place; default 10 s */
  stalledViewerMs?: number;
  /** open connections at once from one address, viewers included; the next is closed at once; default maxClientsPerAddress + 4 */
  maxConnectionsPerAddress?: number;
  /** a connection must send its request within this long (viewers are exempt once streaming); default 10 s */
  idleMs?: number;
  /** where refused and failed requests are logged */
  log?: GuardLogger;
}

export interface MjpegStats {
  /** stream viewers connected now */
  clients: number;
  published: number;
  /** JPEG encodes done (at most one per published frame) */
  encoded: number;
  /** parts written to viewers */
  sent: number;
  /** parts a viewer missed because its socket had not drained */
  skipped: number;
  /** viewers dropped for not draining within stalledViewerMs */
  dropped: number;
  /** viewers now with a part their socket has not taken (each is dropped unless it drains in time) */
  waiting: number;
  /** the most bytes any viewer's response had queued in Node after a write */
  maxQueuedBytes: number;
  /** connections open now (viewers, requests, idle ones) */
  connections: number;
  /** connections closed at once for being over maxConnectionsPerAddress */
  refused: number;
}

interface Latest {
  id: number;
  frame: Frame;
  marks: Marks[];
  overlay: Overlay;
  /** the part (headers, JPEG, CRLF, next boundary) once encoded */
  part: Buffer | undefined;
  jpeg: Buffer | undefined;
  /** the encoding under way */
  encoding: Promise<Latest> | undefined;
}

interface Viewer {
  res: ServerResponse;
  /** the client's address, for the per-address cap */
  address: string;
  /** waiting for 'drain' since this instant (performance.now()): skip frames until then */
  busySince: number | undefined;
  /** drops the viewer unless its socket drains first */
  stallTimer: NodeJS.Timeout | undefined;
  /** id of the last frame sent, so a frame is never sent twice */
  lastId: number;
}

/** `seconds.micros`, as mjpg-streamer's X-Timestamp. */
export function timestampHeader(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const micros = Math.round((ms - whole * 1000) * 1000);
  return `${whole}.${String(Math.min(999_999, micros)).padStart(6, '0')}`;
}

/** An IPv4 client seen through a dual-stack socket counts as its IPv4 address. */
function clientAddress(socket: Socket): string {
  const a = socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Constant-time check of the path's first segment against the token. */
function tokenMatches(segment: string, token: Buffer): boolean {
  const given = Buffer.from(segment, 'utf8');
  return given.length === token.length && timingSafeEqual(given, token);
}

/** A liveUrl for logs: its secret path segment replaced by `<token>`. */
export function redactLiveUrl(url: string): string {
  return url.replace(/^(https?:\/\/[^/]+\/)[A-Za-z0-9_-]{22,64}(?=\/|\?|$)/, '$1<token>');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export class MjpegServer {
  readonly #options: MjpegServerOptions;
  readonly #token: Buffer;
  readonly #server: Server;
  readonly #viewers = new Set<Viewer>();
  /** open connections by client address */
  readonly #connections = new Map<string, number>();
  #refused = 0;
  #latest: Latest | undefined;
  #nextId = 0;
  #lastSentAt = -Infinity;
  /** an encode for the viewers is under way */
  #encoding = false;
  /** a newer frame came while encoding: send it once the encoder is free */
  #sendAgain = false;
  #port: number | undefined;
  readonly #stats: Omit<MjpegStats, 'waiting' | 'connections' | 'refused'> = { clients: 0, published: 0, encoded: 0, sent: 0, skipped: 0, dropped: 0, maxQueuedBytes: 0 };

  constructor(options: MjpegServerOptions) {
    if (!LIVE_TOKEN_PATTERN.test(options.pathToken)) throw LiveToken('the live stream needs a pathToken of 22–64 URL-safe characters (at least 128 bits)', { field: 'pathToken' });
    this.#options = options;
    this.#token = Buffer.from(options.pathToken, 'utf8');
    this.#server = guardServer(createServer(), (req, res) => this.#handle(req, res), { name: `live stream ${options.camera ?? ''}`.trim(), log: options.log });
    // Viewers hold their connection for as long as they watch.
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 10_000;
    // A connection that never sends a request was held for ever, and one address could hold any
    // number: an idle connection is closed after idleMs (no 'timeout' listener: Node destroys it),
    // and an address past its connections is closed at once.
    this.#server.setTimeout(options.idleMs ?? 10_000);
    this.#server.on('connection', (socket: Socket) => this.#admit(socket));
  }

  get port(): number | undefined {
    return this.#port;
  }

  async listen(): Promise<{ port: number }> {
    const host = this.#options.host ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(LiveListen(`the live stream could not listen on ${host}:${this.#options.port}: ${err.message}`, { cause: err }));
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port, host, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    return { port: this.#port };
  }

  /**
   * The liveUrl for the guide's camera/live call: the stream as seen from the platform, through
   * `publicHost` (the address or name the platform reaches this box by) and `publicPort` (default
   * the listening port, for when a NAT maps another one).
   */
  url(publicHost: string, publicPort?: number): string {
    const port = publicPort ?? this.#port;
    if (port === undefined) throw LiveNotListening('the live stream has no port yet: call listen() first');
    const host = publicHost.includes(':') && !publicHost.startsWith('[') ? `[${publicHost}]` : publicHost;
    const url = `http://${host}:${port}/${this.#options.pathToken}/?action=stream`;
    if (url.length > LENGTHS.liveUrlMax) {
      throw LiveUrlTooLong(`liveUrl ${url} is ${url.length} characters, the guide allows ${LENGTHS.liveUrlMax}: use a shorter public host name`, {
        field: 'liveUrl',
      });
    }
    return url;
  }

  stats(): MjpegStats {
    let waiting = 0;
    for (const v of this.#viewers) if (v.busySince !== undefined) waiting++;
    let connections = 0;
    for (const n of this.#connections.values()) connections += n;
    return { ...this.#stats, clients: this.#viewers.size, waiting, connections, refused: this.#refused };
  }

  /**
   * Offers the newest frame. Keeps it (by reference, with a copy of the marks) and sends it to the
   * viewers that are ready, encoding it only if one is and the fps cap allows.
   */
  publish(frame: Frame, marks: readonly Marks[], overlay: Overlay): void {
    this.#stats.published++;
    this.#latest = { id: ++this.#nextId, frame, marks: snapshotMarks(marks), overlay: { ...overlay }, part: undefined, jpeg: undefined, encoding: undefined };
    if (this.#viewers.size === 0) return;
    const maxFps = this.#options.maxFps ?? 10;
    const now = performance.now();
    if (maxFps > 0 && now - this.#lastSentAt < 1000 / maxFps) return;
    if (this.#sendLatest()) this.#lastSentAt = now;
  }

  /** Ends every viewer and stops listening. */
  async close(): Promise<void> {
    for (const v of this.#viewers) {
      clearTimeout(v.stallTimer);
      v.res.destroy();
    }
    this.#viewers.clear();
    await new Promise<void>((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    this.#latest = undefined;
  }

  /**
   * Sends the latest frame to every ready viewer that has not had it, once encoded; true when any
   * will get it. One encode at a time: frames published meanwhile are not queued, the newest is
   * encoded next (as a slow viewer skips frames, so does a busy encoder).
   */
  #sendLatest(): boolean {
    const latest = this.#latest;
    if (!latest || this.#ready(latest, true).length === 0) return false;
    if (latest.part) {
      this.#deliver(latest);
      return true;
    }
    if (this.#encoding) {
      this.#sendAgain = true;
      return true;
    }
    this.#encoding = true;
    this.#encode(latest)
      .then((done) => this.#deliver(done), () => {})
      .finally(() => {
        this.#encoding = false;
        if (this.#sendAgain) {
          this.#sendAgain = false;
          if (this.#latest && this.#latest.id !== latest.id) this.#sendLatest();
        }
      });
    return true;
  }

  /** Viewers that have not had `entry` nor a newer frame and whose socket has drained; drops stalled ones. */
  #ready(entry: Latest, count = false): Viewer[] {
    const stalledMs = this.#options.stalledViewerMs ?? 30_000;
    const ready: Viewer[] = [];
    for (const v of this.#viewers) {
      if (v.lastId >= entry.id) continue;
      if (v.busySince !== undefined) {
        if (count) this.#stats.skipped++;
        if (performance.now() - v.busySince > stalledMs) this.#drop(v);
        continue;
      }
      ready.push(v);
    }
    return ready;
  }

  #admit(socket: Socket): void {
    const address = clientAddress(socket);
    const max = this.#options.maxConnectionsPerAddress ?? (this.#options.maxClientsPerAddress ?? 4) + 4;
    const open = this.#connections.get(address) ?? 0;
    if (open >= max) {
      this.#refused++;
      socket.destroy();
      return;
    }
    this.#connections.set(address, open + 1);
    socket.once('close', () => {
      const left = (this.#connections.get(address) ?? 1) - 1;
      if (left > 0) this.#connections.set(address, left);
      else this.#connections.delete(address);
    });
  }

  /** A viewer that does not take what it was sent is disconnected: it holds no place and no memory. */
  #drop(v: Viewer): void {
    if (!this.#viewers.delete(v)) return;
    clearTimeout(v.stallTimer);
    this.#stats.dropped++;
    v.res.destroy();
  }

  /** An encoded frame to the viewers ready for it (a newer frame may have come meanwhile: this one is still the freshest picture encoded). */
  #deliver(entry: Latest): void {
    for (const v of this.#ready(entry)) this.#write(v, entry.part!, entry.id);
  }

  #write(v: Viewer, part: Buffer, id: number): void {
    v.lastId = id;
    const ok = v.res.write(part);
    this.#stats.sent++;
    this.#stats.maxQueuedBytes = Math.max(this.#stats.maxQueuedBytes, v.res.writableLength);
    if (!ok) {
      v.busySince = performance.now();
      v.stallTimer = setTimeout(() => this.#drop(v), this.#options.stalledViewerMs ?? 10_000);
      v.stallTimer.unref();
      v.res.once('drain', () => {
        clearTimeout(v.stallTimer);
        v.busySince = undefined;
      });
    }
  }

  /** Draws the marks on a copy and encodes it on the JPEG worker, once per frame. */
  #encode(latest: Latest): Promise<Latest> {
    if (latest.part) return Promise.resolve(latest);
    latest.encoding ??= (async () => {
      const { frame } = latest;
      const draw = new Uint8Array(frame.rgb.subarray(0, frame.width * frame.height * 3));
      drawMarks(draw, frame.width, frame.height, latest.marks, latest.overlay);
      const encoded = await jpegWorker.encode(draw, frame.width, frame.height, this.#options.quality ?? 70);
      this.#stats.encoded++;
      const head = Buffer.from(
        `Content-Type: image/jpeg\r\nContent-Length: ${encoded.length}\r\nX-Timestamp: ${timestampHeader(frame.at)}\r\n\r\n`,
        'latin1',
      );
      latest.jpeg = encoded;
      latest.part = Buffer.concat([head, encoded, Buffer.from(`\r\n--${BOUNDARY}\r\n`, 'latin1')]);
      return latest;
    })();
    latest.encoding.catch(() => (latest.encoding = undefined));
    return latest.encoding;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    // an unparsable target (`GET http://a:99999/`) throws ESEAL_ERR_HTTP_BAD_REQUEST: the guard answers 400
    const url = requestUrl(req, 'http://live');
    // `/<token>`, `/<token>/` or `/<token>/index.html`; without the token nothing tells what is here
    const [, segment = '', rest = '', ...more] = url.pathname.split('/');
    if (!tokenMatches(segment, this.#token) || more.length > 0 || (rest !== '' && rest !== 'index.html')) return this.#plain(res, 404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.#plain(res, 405, 'only GET and HEAD are served here\n', { Allow: 'GET, HEAD' });
    const action = url.searchParams.get('action');
    if (action === 'stream') return this.#stream(req, res);
    if (action === 'snapshot') return this.#snapshot(req, res);
    if (action === null) return this.#page(req, res);
    return this.#plain(res, 404, `unknown action ${action}: use stream or snapshot\n`);
  }

  #plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { ...STD_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...extra });
    res.end(text);
  }

  #stream(req: IncomingMessage, res: ServerResponse): void {
    const maxClients = this.#options.maxClients ?? 8;
    if (this.#viewers.size >= maxClients) {
      return this.#plain(res, 503, `this camera already has ${maxClients} viewers; try again later\n`, { 'Retry-After': '5' });
    }
    const address = clientAddress(req.socket);
    const perAddress = Math.min(maxClients, this.#options.maxClientsPerAddress ?? 4);
    let fromAddress = 0;
    for (const v of this.#viewers) if (v.address === address) fromAddress++;
    if (fromAddress >= perAddress) {
      return this.#plain(res, 429, `${address} already has ${perAddress} viewers of this camera; close one first\n`, { 'Retry-After': '5' });
    }
    // As mjpg-streamer: no chunked framing, the body runs until the connection closes.
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, { ...STD_HEADERS, 'Content-Type': `multipart/x-mixed-replace;boundary=${BOUNDARY}` });
    if (req.method === 'HEAD') return void res.end();
    res.write(`--${BOUNDARY}\r\n`);
    // a viewer may wait long for a frame (camera offline): its stall timer, not idleMs, watches it
    req.socket.setTimeout(0);
    const viewer: Viewer = { res, address, busySince: undefined, stallTimer: undefined, lastId: 0 };
    this.#viewers.add(viewer);
    const leave = (): void => {
      clearTimeout(viewer.stallTimer);
      this.#viewers.delete(viewer);
    };
    res.on('close', leave);
    res.on('error', leave);
    // A new viewer sees the latest picture at once rather than waiting for the next frame.
    const latest = this.#latest;
    if (latest) this.#encode(latest).then((done) => this.#deliver(done), () => {});
  }

  #snapshot(req: IncomingMessage, res: ServerResponse): void {
    const latest = this.#latest;
    if (!latest) return this.#plain(res, 503, 'no frame yet from this camera; try again shortly\n', { 'Retry-After': '1' });
    this.#encode(latest).then(
      (done) => this.#sendSnapshot(req, res, done),
      (err: unknown) => this.#plain(res, 500, `the picture could not be encoded: ${(err as Error).message}\n`),
    );
  }

  #sendSnapshot(req: IncomingMessage, res: ServerResponse, latest: Latest): void {
    const image = latest.jpeg!;
    res.writeHead(200, {
      ...STD_HEADERS,
      'Content-Type': 'image/jpeg',
      'Content-Length': image.length,
      'X-Timestamp': timestampHeader(latest.frame.at),
    });
    res.end(req.method === 'HEAD' ? undefined : image);
  }

  #page(req: IncomingMessage, res: ServerResponse): void {
    const title = escapeHtml(this.#options.camera ?? 'camera');
    const base = escapeHtml(this.#options.pathToken);
    const html =
      `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title} live</title>` +
      `<style>body{margin:0;background:#111;color:#ddd;font:14px sans-serif}img{display:block;max-width:100%;margin:auto}</style></head>` +
      `<body><img src="/${base}/?action=stream" alt="${title} live stream"><p style="text-align:center">${title} · ` +
      `<a style="color:#8cf" href="/${base}/?action=snapshot">snapshot</a></p></body></html>\n`;
    res.writeHead(200, { ...STD_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
    res.end(req.method === 'HEAD' ? undefined : html);
  }
}
