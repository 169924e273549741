// 实时视频: the streams the console can show. (a) The marked MJPEG streams: each camera's last
// camera/live liveUrl (the edge's mjpg-streamer), which the browser opens itself. (b) GB/T 28181
// channels, through the console: GET /api/live/gb/<device>/<channel>.mjpeg opens the bridge's
// MJPEG stream with the bridge's tokens and streams its body through, so the browser never holds a
// token; the upstream closes when the browser leaves. Streams are bounded per session and in all.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { ConsoleLiveLimit, ConsoleNotFound, ConsoleUpstream } from '../errors.ts';
import { closeGbOf, gbOf } from '../upstream/GbAdmin.ts';
import { API_ERROR, envelope, ok } from './schemas.ts';

/** streams the page shows at once */
export const LIVE_MAX_SHOWN = 9;
/** GB/T 28181 streams one session holds open: the page's nine and slack for a reload, whose old streams close a moment after the new ones open */
export const LIVE_MAX_PER_SESSION = 12;
/** GB/T 28181 streams the console proxies at once, all sessions together */
export const LIVE_MAX_TOTAL = 64;

export interface MjpegStream {
  /** `m:<mine>:<camera>` */
  id: string;
  mineId: string;
  cameraId: string;
  /** http(s) URL the browser opens (a bare ip:port given by the mine gets http://) */
  url: string;
  online?: boolean;
  lastSeenAt: number;
}

export interface GbStream {
  /** `g:<device>:<channel>` */
  id: string;
  deviceId: string;
  channelId: string;
  name?: string;
  deviceName?: string;
  online: boolean;
  status?: string;
  /** the console's proxy */
  url: string;
}

export interface LiveStreams {
  mjpeg: MjpegStream[];
  gb: { url: string; running: boolean; error?: string; channels: GbStream[] };
  maxShown: number;
}

interface MineRowLite {
  mineId: string;
  cameras: { cameraId: string; lastSeenAt: number; online?: boolean; liveUrl?: string }[];
}

/** A liveUrl as the browser may open it: http(s) to a host, or the guide's bare ip:port; anything else is not shown. */
export function browserUrl(liveUrl: string | undefined): string | undefined {
  if (!liveUrl || liveUrl.length > 300) return undefined;
  const candidate = /^https?:\/\//i.test(liveUrl) ? liveUrl : /^[A-Za-z0-9.-]+:\d{1,5}(\/\S*)?$/.test(liveUrl) ? `http://${liveUrl}` : undefined;
  if (!candidate) return undefined;
  try {
    const u = new URL(candidate);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? u.href : undefined;
  } catch {
    return undefined;
  }
}

export function gbProxyPath(deviceId: string, channelId: string): string {
  return `/api/live/gb/${deviceId}/${channelId}.mjpeg`;
}

/** Every stream there is to show: one /admin/mines call and one bridge call, whatever the number of mines. */
export async function liveStreams(ctx: ConsoleContext): Promise<LiveStreams> {
  const [relay, gb] = await Promise.all([ctx.relay.get<{ mines: MineRowLite[] }>('/admin/mines'), gbOf(ctx).devices()]);
  const mjpeg: MjpegStream[] = [];
  for (const m of relay.mines) {
    for (const c of m.cameras) {
      const url = browserUrl(c.liveUrl);
      if (url) mjpeg.push({ id: `m:${m.mineId}:${c.cameraId}`, mineId: m.mineId, cameraId: c.cameraId, url, ...(c.online !== undefined ? { online: c.online } : {}), lastSeenAt: c.lastSeenAt });
    }
  }
  const channels: GbStream[] = [];
  for (const d of gb.devices) {
    for (const ch of d.channels) {
      if (!/^\d{20}$/.test(d.deviceId) || !/^\d{20}$/.test(ch.channelId)) continue;
      channels.push({
        id: `g:${d.deviceId}:${ch.channelId}`,
        deviceId: d.deviceId,
        channelId: ch.channelId,
        ...(ch.name ? { name: ch.name } : {}),
        ...(d.name ? { deviceName: d.name } : {}),
        online: d.online && (ch.status === undefined || /^(ON|ONLINE|OK)$/i.test(ch.status)),
        ...(ch.status ? { status: ch.status } : {}),
        url: gbProxyPath(d.deviceId, ch.channelId),
      });
    }
  }
  return { mjpeg, gb: { url: gb.url, running: gb.running, ...(gb.error ? { error: gb.error } : {}), channels }, maxShown: LIVE_MAX_SHOWN };
}

/** Counts the proxied streams per session and in all. */
export class LiveSlots {
  readonly #bySession = new Map<string, number>();
  #total = 0;

  constructor(
    readonly perSession = LIVE_MAX_PER_SESSION,
    readonly total = LIVE_MAX_TOTAL,
  ) {}

  /** A slot for the session, or a throw naming the limit; the returned function gives it back (once). */
  take(sessionId: string): () => void {
    const mine = this.#bySession.get(sessionId) ?? 0;
    if (mine >= this.perSession) throw ConsoleLiveLimit(`streams: this session has ${mine} live streams open, at most ${this.perSession}; close one first`, { field: 'streams' });
    if (this.#total >= this.total) throw ConsoleLiveLimit(`streams: the console proxies ${this.#total} live streams, at most ${this.total}; try again later`, { field: 'streams' });
    this.#bySession.set(sessionId, mine + 1);
    this.#total++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.#total--;
      const n = (this.#bySession.get(sessionId) ?? 1) - 1;
      if (n > 0) this.#bySession.set(sessionId, n);
      else this.#bySession.delete(sessionId);
    };
  }

  open(sessionId?: string): number {
    return sessionId === undefined ? this.#total : (this.#bySession.get(sessionId) ?? 0);
  }
}

const GbParams = Type.Object({
  device: Type.String({ pattern: '^[0-9]{20}$', description: 'the GB/T 28181 device id (20 digits)' }),
  channel: Type.String({ pattern: '^[0-9]{20}$', description: 'the channel id (20 digits)' }),
});

async function proxyGb(ctx: ConsoleContext, slots: LiveSlots, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const { device, channel } = request.params as { device: string; channel: string };
  const release = slots.take(request.caller!.sessionId);
  const aborter = new AbortController();
  reply.raw.once('close', () => {
    aborter.abort();
    release();
  });
  let up;
  try {
    up = await gbOf(ctx).mjpeg({ deviceId: device, channelId: channel }, aborter.signal);
  } catch (err) {
    release();
    throw err;
  }
  if (up.status !== 200) {
    release();
    const msg = `the bridge refused channel ${device}/${channel}: HTTP ${up.status}: ${up.msg ?? ''}`;
    if (up.status === 404) throw ConsoleNotFound(`channel: ${msg}`, { field: 'channel' });
    throw ConsoleUpstream(msg, { statusCode: up.status === 429 || up.status === 503 ? 503 : 502 });
  }
  // a stream lasts as long as someone watches: no idle timeout of the socket while frames flow or wait
  request.raw.socket.setTimeout(0);
  up.body.on('error', () => undefined);
  reply.header('content-type', up.contentType || 'multipart/x-mixed-replace').header('cache-control', 'no-store');
  return reply.send(up.body);
}

export async function liveApi(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const slots = new LiveSlots();
  app.addHook('onClose', async () => closeGbOf(ctx));
  app.get(
    '/api/live',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'the streams to show: the marked MJPEG streams (each camera\'s last liveUrl) and the GB/T 28181 channels (through the console)',
        tags: ['live'],
        response: {
          200: envelope(
            Type.Object({
              mjpeg: Type.Array(Type.Object({ id: Type.String(), mineId: Type.String(), cameraId: Type.String(), url: Type.String(), online: Type.Optional(Type.Boolean()), lastSeenAt: Type.Number() })),
              gb: Type.Object({
                url: Type.String(),
                running: Type.Boolean(),
                error: Type.Optional(Type.String()),
                channels: Type.Array(
                  Type.Object({
                    id: Type.String(),
                    deviceId: Type.String(),
                    channelId: Type.String(),
                    name: Type.Optional(Type.String()),
                    deviceName: Type.Optional(Type.String()),
                    online: Type.Boolean(),
                    status: Type.Optional(Type.String()),
                    url: Type.String({ description: 'the console\'s MJPEG proxy of the channel' }),
                  }),
                ),
              }),
              maxShown: Type.Integer({ description: 'streams the page shows at once' }),
            }),
          ),
          401: API_ERROR,
          502: API_ERROR,
        },
      },
    },
    async () => ok(await liveStreams(ctx)),
  );
  app.get(
    '/api/live/gb/:device/:channel.mjpeg',
    {
      config: { role: 'viewer' },
      schema: {
        summary: `a GB/T 28181 channel as multipart MJPEG, through the console (at most ${LIVE_MAX_PER_SESSION} at once per session, ${LIVE_MAX_TOTAL} in all)`,
        tags: ['live'],
        params: GbParams,
        response: {
          200: Type.String({ description: 'multipart/x-mixed-replace JPEG frames', contentMediaType: 'multipart/x-mixed-replace' }),
          400: API_ERROR,
          401: API_ERROR,
          404: API_ERROR,
          429: API_ERROR,
          502: API_ERROR,
          503: API_ERROR,
        },
      },
    },
    async (request, reply) => proxyGb(ctx, slots, request, reply),
  );
}
