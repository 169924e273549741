// The bridge's live view (gb28181.http.listen, default 127.0.0.1:9092):
// Every URL also takes &stream=main|sub (or 0–3; default main): the camera's main or sub stream,
// each its own upstream pull (INVITE with a=streamnumber, see src/gb28181/sdp.ts).
//   GET /play/<device>/<channel>?token=…       a page that plays the channel (playPage.ts)
//   WS  /live/<device>/<channel>.mp4?token=…   fragmented MP4 (H.264), first a JSON text message {codec,width,height}
//   GET /live/<device>/<channel>.mp4?token=…   the same fMP4 over HTTP (ffmpeg, the edge module)
//   GET /live/<device>/<channel>.mjpeg?token=… multipart MJPEG through one ffmpeg per channel (H.265, old browsers)
//   GET  /api/devices                          the operators' API: every device known, online or not, with its channels
//                                              {code:0,msg,data:{devices:[{deviceId,name,online,transport,address,registeredAt,keepaliveAt,channels}]}}
//   POST /api/devices/<device>/catalog         the operators' API (`eseal gb28181 catalog`): from loopback only,
//                                              Authorization: Bearer <dataDir/gb28181/admin.token>; asks the
//                                              device for its catalog again, answers {code:0,msg,data:{deviceId,channels}}
// One upstream pull per channel, shared by every viewer: the first viewer acquires it from the
// LiveSource, the last one's leaving releases it. Viewers are bounded per channel and per address;
// one whose socket does not drain skips frames up to the next keyframe, and is dropped when it
// stays stalled (as edge/live/MjpegServer.ts). Every request passes src/http/guard.ts.
// Each channel keeps its current group of pictures (from the last keyframe, bounded): a viewer that
// joins starts with it at once instead of waiting up to a GOP for the next keyframe (ZLMediaKit's
// GOP cache; the play page then skips ahead to the live edge). A new SPS/PPS mid-stream (the camera
// changed its resolution) makes every fMP4 viewer's muxer send a new init segment, and a WebSocket
// viewer gets the JSON codec message again right before it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { EsealError } from '../../src/errors.ts';
import { parseStreamSelector, streamName, type StreamNumber } from '../../src/gb28181/sdp.ts';
import { guardServer, requestUrl } from '../../src/http/guard.ts';
import { Fmp4Muxer } from '../media/fmp4/Fmp4Muxer.ts';
import type { MediaFrame } from '../media/MediaTypes.ts';
import { ViewAdmin, ViewCodec, ViewListen, ViewNotFound, ViewToken, ViewTooMany, ViewUnavailable } from './errors.ts';
import { MjpegTranscoder } from './MjpegTranscoder.ts';
import { playPage } from './playPage.ts';
import type { LiveLease, ViewerServerOptions } from './ViewTypes.ts';

export const MJPEG_BOUNDARY = 'boundarydonotcross';
const ID = /^[A-Za-z0-9_-]{1,64}$/;
/** the GOP cache of a channel is dropped (until the next keyframe) past these */
const GOP_MAX_FRAMES = 300;
const GOP_MAX_BYTES = 8 * 1024 * 1024;

interface Viewer {
  kind: 'ws' | 'http' | 'mjpeg';
  address: string;
  /** writes one chunk; false when the socket is not draining */
  queued(): number;
  write(b: Buffer | string): void;
  close(): void;
  /** the stream ended: a clean end (HTTP: the response ends; WebSocket: close 1011) */
  finish(): void;
  muxer: Fmp4Muxer | undefined;
  /** skipping frames up to the next keyframe (was too slow) */
  skipping: boolean;
  stalledSince: number | undefined;
  sentInfo: boolean;
}

interface Channel {
  key: string;
  viewers: Set<Viewer>;
  lease: Promise<LiveLease>;
  unsubscribe: (() => void) | undefined;
  codec: 'h264' | 'h265' | undefined;
  mjpeg: MjpegTranscoder | undefined;
  /** video frames from the last keyframe (what a joining viewer starts with) */
  gop: MediaFrame[];
  gopBytes: number;
  /** resolves when the first video frame told the codec */
  codecKnown: Promise<void>;
  onCodec: () => void;
  /** the upstream ended before its first frame: viewers waiting get this error */
  noCodec: (err: Error) => void;
}

interface Route {
  kind: 'play' | 'mp4' | 'mjpeg';
  deviceId: string;
  channelId: string;
  stream: StreamNumber;
}

/** One upstream pull per (device, channel, stream): the main stream keeps the plain key. */
function channelKey(deviceId: string, channelId: string, stream: StreamNumber): string {
  return stream ? `${deviceId}/${channelId}@${streamName(stream)}` : `${deviceId}/${channelId}`;
}

function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}

function clientAddress(socket: Socket): string {
  const a = socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

export class ViewerServer {
  readonly #o: ViewerServerOptions;
  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  readonly #channels = new Map<string, Channel>();
  readonly #catalogQueries = new Map<string, Promise<{ id: string; name: string; status: string }[]>>();
  readonly #token: Buffer;
  #port: number | undefined;
  #sweep: NodeJS.Timeout | undefined;
  readonly counts = { viewers: 0, dropped: 0, skippedFrames: 0 };

  constructor(options: ViewerServerOptions) {
    this.#o = options;
    this.#token = Buffer.from(options.token, 'utf8');
    this.#server = guardServer(createServer(), (req, res) => this.#handle(req, res), { name: 'gb28181 viewer', log: options.log });
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 10_000;
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      this.#upgrade(req, socket, head).catch((err: unknown) => this.#refuseUpgrade(socket, err));
    });
  }

  get port(): number | undefined {
    return this.#port;
  }

  async listen(): Promise<{ port: number }> {
    const host = this.#o.host ?? '127.0.0.1';
    const port = this.#o.port ?? 9092;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(ViewListen(`the viewer could not listen on ${host}:${port}: ${err.message}`, { cause: err, field: 'gb28181.http.listen' }));
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#sweep = setInterval(() => this.#sweepStalled(), 1000);
    this.#sweep.unref();
    return { port: this.#port };
  }

  /** The local fMP4 URL of a channel (what gb28181:// resolves to for the edge module). */
  liveUrl(deviceId: string, channelId: string, kind: 'mp4' | 'mjpeg' = 'mp4', stream: StreamNumber = 0): string {
    return `http://127.0.0.1:${this.#port}/live/${deviceId}/${channelId}.${kind}?token=${encodeURIComponent(this.#o.token)}${stream ? `&stream=${streamName(stream)}` : ''}`;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    for (const ch of [...this.#channels.values()]) for (const v of [...ch.viewers]) v.close();
    for (const c of this.#wss.clients) c.terminate();
    await new Promise<void>((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** viewers of a channel now (tests) */
  viewers(deviceId: string, channelId: string, stream: StreamNumber = 0): number {
    return this.#channels.get(channelKey(deviceId, channelId, stream))?.viewers.size ?? 0;
  }

  #route(req: IncomingMessage): Route {
    const url = requestUrl(req, 'http://viewer');
    const given = Buffer.from(url.searchParams.get('token') ?? '', 'utf8');
    if (given.length !== this.#token.length || !timingSafeEqual(given, this.#token)) throw ViewToken('a valid ?token= is required', { field: 'token' });
    const m = /^\/(play|live)\/([^/]+)\/([^/]+?)(\.mp4|\.mjpeg)?$/.exec(url.pathname);
    if (!m) throw ViewNotFound(`no viewer at ${url.pathname.slice(0, 100)}`);
    const [, what, deviceId = '', channelId = '', ext] = m;
    if (!ID.test(deviceId) || !ID.test(channelId)) throw ViewNotFound('device and channel ids are 1–64 letters, digits, - or _');
    const stream = parseStreamSelector(url.searchParams.get('stream'));
    if (stream === undefined) throw ViewNotFound('?stream= is main, sub, or a stream number 0–3', { field: 'stream', statusCode: 400 });
    if (what === 'play' && !ext) return { kind: 'play', deviceId, channelId, stream };
    if (what === 'live' && ext) return { kind: ext === '.mp4' ? 'mp4' : 'mjpeg', deviceId, channelId, stream };
    throw ViewNotFound(`no viewer at ${url.pathname.slice(0, 100)}`);
  }

  #json(res: ServerResponse, err: unknown): void {
    const e = err instanceof EsealError ? err : ViewUnavailable(String((err as Error)?.message ?? err));
    const body = JSON.stringify({ code: e.code, msg: e.message });
    if (res.headersSent) return void res.destroy();
    res.writeHead(e.statusCode, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(body);
  }

  #refuseUpgrade(socket: Duplex, err: unknown): void {
    const e = err instanceof EsealError ? err : ViewUnavailable(String((err as Error)?.message ?? err));
    const body = JSON.stringify({ code: e.code, msg: e.message });
    if (!socket.writable) return void socket.destroy();
    socket.end(`HTTP/1.1 ${e.statusCode} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (requestUrl(req, 'http://viewer').pathname.startsWith('/api/')) return this.#api(req, res);
    let route;
    try {
      route = this.#route(req);
    } catch (err) {
      if (err instanceof EsealError && err.statusCode < 500 && err.code.startsWith('ESEAL_ERR_GBVIEW')) return this.#json(res, err);
      throw err;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' });
      return void res.end();
    }
    if (route.kind === 'play') {
      const html = playPage(route.deviceId, route.channelId, this.#o.token, route.stream);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html), 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'; media-src 'self' blob:; connect-src 'self'" });
      return void res.end(req.method === 'HEAD' ? undefined : html);
    }
    const address = clientAddress(req.socket);
    let channel: Channel;
    let viewer: Viewer;
    try {
      this.#checkLimits(route, address, this.#trusted(req));
      channel = this.#channel(route);
      viewer = this.#httpViewer(route.kind === 'mp4' ? 'http' : 'mjpeg', address, res);
      channel.viewers.add(viewer);
      this.counts.viewers++;
      res.once('close', () => this.#leave(channel, viewer));
      await channel.lease;
      await channel.codecKnown;
      if (route.kind === 'mp4' && channel.codec === 'h265') throw ViewCodec('this channel is H.265: open the .mjpeg URL');
    } catch (err) {
      return this.#json(res, err);
    }
    if (res.destroyed) return;
    if (route.kind === 'mp4') {
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Cache-Control': 'no-store', Connection: 'close' });
    } else {
      res.useChunkedEncodingByDefault = false;
      res.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace;boundary=${MJPEG_BOUNDARY}`, 'Cache-Control': 'no-store', Connection: 'close' });
      res.write(`--${MJPEG_BOUNDARY}\r\n`);
      this.#startMjpeg(channel);
    }
    if (req.method === 'HEAD') return void res.end();
    req.socket.setTimeout(0);
    viewer.sentInfo = true;
    if (route.kind === 'mp4') this.#startViewer(channel, viewer);
  }

  /** The operators' API: loopback, the admin token, one catalog query per device at a time (a second caller joins it). */
  async #api(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume(); // no body is read
    try {
      const admin = this.#o.admin;
      const url = requestUrl(req, 'http://viewer');
      const m = /^\/api\/devices\/([^/]+)\/catalog$/.exec(url.pathname);
      const list = url.pathname === '/api/devices' && admin?.devices !== undefined;
      if (!admin || (!m && !list)) throw ViewNotFound(`no API at ${url.pathname.slice(0, 100)}`);
      if (!isLoopback(clientAddress(req.socket))) throw ViewAdmin('the API answers this machine only (loopback)', { statusCode: 403 });
      const given = Buffer.from(/^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '', 'utf8');
      const want = Buffer.from(admin.token, 'utf8');
      if (given.length !== want.length || !timingSafeEqual(given, want)) throw ViewAdmin('Authorization: Bearer <dataDir/gb28181/admin.token> is required', { field: 'authorization' });
      if (!m) {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { Allow: 'GET, HEAD' });
          return void res.end();
        }
        const body = JSON.stringify({ code: 0, msg: 'success', data: { devices: admin.devices!() } });
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
        return void res.end(req.method === 'HEAD' ? undefined : body);
      }
      if (req.method !== 'POST') {
        res.writeHead(405, { Allow: 'POST' });
        return void res.end();
      }
      const deviceId = m[1]!;
      if (!/^\d{20}$/.test(deviceId)) throw ViewNotFound('the device id is 20 digits', { field: 'device' });
      let query = this.#catalogQueries.get(deviceId);
      if (!query) {
        query = admin.catalog(deviceId).finally(() => this.#catalogQueries.delete(deviceId));
        this.#catalogQueries.set(deviceId, query);
      }
      const channels = await query;
      const body = JSON.stringify({ code: 0, msg: 'success', data: { deviceId, channels: channels.map((c) => ({ id: c.id, name: c.name, status: c.status })) } });
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(body);
    } catch (err) {
      this.#json(res, err);
    }
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const route = this.#route(req);
    if (route.kind !== 'mp4') throw ViewNotFound('WebSocket is served on /live/<device>/<channel>.mp4 only');
    const address = clientAddress(req.socket);
    this.#checkLimits(route, address, this.#trusted(req));
    const channel = this.#channel(route);
    // held as a viewer while the pull starts, so that it counts and is released on failure
    const placeholder: Viewer = { kind: 'ws', address, queued: () => 0, write: () => undefined, close: () => socket.destroy(), finish: () => undefined, muxer: undefined, skipping: false, stalledSince: undefined, sentInfo: false };
    channel.viewers.add(placeholder);
    socket.once('close', () => this.#leave(channel, placeholder));
    try {
      await channel.lease;
      await channel.codecKnown;
    } catch (err) {
      this.#leave(channel, placeholder);
      throw err;
    }
    if (socket.destroyed) return;
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      channel.viewers.delete(placeholder);
      const viewer: Viewer = {
        kind: 'ws',
        address,
        queued: () => ws.bufferedAmount,
        write: (b) => ws.send(b),
        close: () => ws.terminate(),
        finish: () => ws.close(1011, 'the stream ended'),
        muxer: new Fmp4Muxer(),
        skipping: false,
        stalledSince: undefined,
        sentInfo: false,
      };
      channel.viewers.add(viewer);
      this.counts.viewers++;
      ws.on('error', () => undefined);
      ws.on('close', () => this.#leave(channel, viewer));
      if (channel.codec === 'h265') {
        ws.send(JSON.stringify({ codec: 'hevc' }));
        ws.close(1003, 'H.265: use the MJPEG URL');
        return;
      }
      this.#startViewer(channel, viewer);
    });
  }

  #httpViewer(kind: 'http' | 'mjpeg', address: string, res: ServerResponse): Viewer {
    return { kind, address, queued: () => res.writableLength, write: (b) => void res.write(b), close: () => res.destroy(), finish: () => void res.end(), muxer: kind === 'http' ? new Fmp4Muxer() : undefined, skipping: false, stalledSince: undefined, sentInfo: false };
  }

  /**
   * A consumer on this machine holding the admin token (the edge role beside the bridge) is not held
   * to the per-address limit meant for browsers: it watches as many channels as it has cameras.
   */
  #trusted(req: IncomingMessage): boolean {
    const admin = this.#o.admin;
    if (!admin || !isLoopback(clientAddress(req.socket))) return false;
    const given = Buffer.from(/^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '', 'utf8');
    const want = Buffer.from(admin.token, 'utf8');
    return given.length === want.length && timingSafeEqual(given, want);
  }

  #checkLimits(route: Route, address: string, trusted = false): void {
    const perChannel = this.#o.maxViewersPerChannel ?? 16;
    const perAddress = this.#o.maxViewersPerAddress ?? 8;
    const key = channelKey(route.deviceId, route.channelId, route.stream);
    const ch = this.#channels.get(key);
    if (ch && ch.viewers.size >= perChannel) throw ViewTooMany(`channel ${key} already has ${perChannel} viewers`, { statusCode: 503 });
    let fromAddress = 0;
    for (const c of this.#channels.values()) for (const v of c.viewers) if (v.address === address) fromAddress++;
    if (!trusted && fromAddress >= perAddress) throw ViewTooMany(`${address} already has ${perAddress} viewers; close one first`, { statusCode: 429 });
  }

  #channel({ deviceId, channelId, stream }: Route): Channel {
    const key = channelKey(deviceId, channelId, stream);
    const existing = this.#channels.get(key);
    if (existing) return existing;
    let onCodec!: () => void;
    let noCodec!: (err: Error) => void;
    const codecKnown = new Promise<void>((resolve, reject) => {
      onCodec = resolve;
      noCodec = reject;
    });
    codecKnown.catch(() => undefined);
    const ch: Channel = { key, viewers: new Set(), lease: this.#o.source.acquire(deviceId, channelId, stream), unsubscribe: undefined, codec: undefined, mjpeg: undefined, gop: [], gopBytes: 0, codecKnown, onCodec, noCodec };
    this.#channels.set(key, ch);
    ch.lease.then(
      (lease) => {
        if (this.#channels.get(key) !== ch) return lease.release();
        ch.unsubscribe = this.#o.frames.subscribe(lease.streamId, (f) => this.#frame(ch, f));
        void lease.ended?.then((why) => this.#ended(ch, why));
      },
      () => {
        if (this.#channels.get(key) === ch) this.#channels.delete(key);
      },
    );
    return ch;
  }

  /** The upstream ended (device BYE, no media, worker death, unregistered): its viewers end, the next viewer pulls anew. */
  #ended(ch: Channel, why: string): void {
    if (this.#channels.get(ch.key) === ch) this.#channels.delete(ch.key);
    ch.unsubscribe?.();
    ch.unsubscribe = undefined;
    void ch.mjpeg?.close();
    ch.mjpeg = undefined;
    // viewers still waiting for the first frame get a JSON 503 (or a refused upgrade)
    ch.noCodec(ViewUnavailable(`the stream of ${ch.key} ended (${why})`));
    for (const v of [...ch.viewers]) if (v.sentInfo || v.kind === 'ws') v.finish();
  }

  #leave(ch: Channel, v: Viewer): void {
    if (!ch.viewers.delete(v)) return;
    if (ch.viewers.size > 0) {
      if (ch.mjpeg && ![...ch.viewers].some((x) => x.kind === 'mjpeg')) {
        void ch.mjpeg.close();
        ch.mjpeg = undefined;
      }
      return;
    }
    if (this.#channels.get(ch.key) === ch) this.#channels.delete(ch.key);
    ch.unsubscribe?.();
    void ch.mjpeg?.close();
    ch.mjpeg = undefined;
    ch.lease.then((l) => l.release(), () => undefined);
  }

  #startMjpeg(ch: Channel): void {
    if (ch.mjpeg || !ch.codec) return;
    ch.mjpeg = new MjpegTranscoder(ch.codec, (jpeg) => {
      const part = Buffer.concat([Buffer.from(`Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`, 'latin1'), jpeg, Buffer.from(`\r\n--${MJPEG_BOUNDARY}\r\n`, 'latin1')]);
      for (const v of ch.viewers) {
        if (v.kind !== 'mjpeg' || !v.sentInfo) continue;
        if (v.queued() > (this.#o.maxQueuedBytes ?? 2 * 1024 * 1024)) {
          this.counts.skippedFrames++;
          v.stalledSince ??= Date.now();
          continue;
        }
        v.stalledSince = undefined;
        v.write(part);
      }
    });
    for (const f of ch.gop) ch.mjpeg.push(f);
  }

  #frame(ch: Channel, f: MediaFrame): void {
    if (f.kind !== 'video') return;
    if (!ch.codec) {
      ch.codec = f.codec === 'h265' ? 'h265' : 'h264';
      ch.onCodec();
    }
    this.#remember(ch, f);
    ch.mjpeg?.push(f);
    for (const v of ch.viewers) this.#feed(ch, v, f);
  }

  /** Keeps the group of pictures under way, bounded: past the bounds nothing until the next keyframe. */
  #remember(ch: Channel, f: MediaFrame): void {
    if (f.keyframe) {
      ch.gop = [f];
      ch.gopBytes = f.data.length;
    } else if (ch.gop.length > 0) {
      if (ch.gop.length >= GOP_MAX_FRAMES || ch.gopBytes + f.data.length > GOP_MAX_BYTES) {
        ch.gop = [];
        ch.gopBytes = 0;
      } else {
        ch.gop.push(f);
        ch.gopBytes += f.data.length;
      }
    }
  }

  /** A viewer ready for media starts with the cached group of pictures. */
  #startViewer(ch: Channel, v: Viewer): void {
    for (const f of ch.gop) this.#feed(ch, v, f);
  }

  #feed(ch: Channel, v: Viewer, f: MediaFrame): void {
    if (!v.muxer || ch.codec !== 'h264') return;
    if (v.kind === 'http' && !v.sentInfo) return;
    if (v.queued() > (this.#o.maxQueuedBytes ?? 2 * 1024 * 1024)) {
      v.skipping = true;
      v.stalledSince ??= Date.now();
      this.counts.skippedFrames++;
      return;
    }
    v.stalledSince = undefined;
    if (v.skipping) {
      if (!f.keyframe) {
        this.counts.skippedFrames++;
        return;
      }
      v.skipping = false;
    }
    const out = v.muxer.push(f.data, f.dts90k, f.pts90k, f.keyframe);
    if (out.length === 0) return;
    const init = v.muxer.init!;
    if (v.kind === 'ws' && out[0] === init.data) {
      // the first init segment, or a new one (new SPS/PPS): the page learns codec and size first
      v.write(JSON.stringify({ codec: init.codec, width: init.width, height: init.height }));
      v.sentInfo = true;
    }
    for (const b of out) v.write(b);
  }

  #sweepStalled(): void {
    const limit = this.#o.stalledViewerMs ?? 10_000;
    const now = Date.now();
    for (const ch of [...this.#channels.values()]) {
      for (const v of [...ch.viewers]) {
        if (v.stalledSince !== undefined && now - v.stalledSince > limit) {
          this.counts.dropped++;
          v.close();
          this.#leave(ch, v);
        }
      }
    }
  }
}
