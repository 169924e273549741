// Entry of the media worker process (started by MediaEngine through spawnNodeChild): every RTP
// socket, the demuxers and the relay legs live here, so a fault in the media path costs this
// process, not the role. Requests come over IPC, frames leave on the pipe at fd 4. No input may
// end it: a request that fails is answered with its error code, a bad packet is counted.
// Frames go up the pipe for a stream the parent subscribed to, and for a stream without relay legs
// (opened to be viewed); a relayed stream nobody views keeps its frames here: piping them would
// cost both processes a copy, a write and a parse per frame for nothing. A subscription ('frames'
// on) is answered on the pipe by a start record, then the stream's GOP cache demuxed, then live
// frames: a viewer of a relay-only stream starts at once, not at the next keyframe.
import { Socket } from 'node:net';
import { MediaBadRequest, MediaDuplicateStream, MediaUnknownStream } from '../errors.ts';
import { EsealError } from '../../../src/errors.ts';
import { PortPool } from '../rtp/portPool.ts';
import { IncomingStream } from './IncomingStream.ts';
import { OutgoingLeg } from './OutgoingLeg.ts';
import { encodeFrame, encodeStart, FRAME_FD, parseSsrc, type FromWorker, type Request, type ToWorker, type WorkerConfig } from './protocol.ts';
import type { MediaFrame, MediaTransport, StreamStats } from '../MediaTypes.ts';

const TRANSPORTS: readonly MediaTransport[] = ['udp', 'tcp-passive', 'tcp-active'];
/** frames queued on the pipe beyond this are dropped (the parent is not reading) */
const MAX_PIPE_QUEUE = 32 * 1024 * 1024;
const BIND_TRIES = 8;

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const pool = new PortPool(config.ports.min, config.ports.max);
const streams = new Map<string, IncomingStream>();
const legs = new Map<string, { leg: OutgoingLeg; stream: IncomingStream }>();
const pipe = new Socket({ fd: FRAME_FD, readable: false, writable: true });
pipe.on('error', () => process.exit(0)); // the parent is gone
let framesDropped = 0;
/** streams the parent has frame subscribers for */
const wanted = new Set<string>(config.wanted ?? []);

function send(m: FromWorker): void {
  if (process.connected) process.send!(m);
}

function onFrame(streamId: string, f: MediaFrame): void {
  if (!wanted.has(streamId) && (streams.get(streamId)?.legs.size ?? 0) > 0) return;
  writeFrame(streamId, f);
}

function writeFrame(streamId: string, f: MediaFrame): void {
  if (pipe.writableLength > MAX_PIPE_QUEUE) {
    framesDropped++;
    return;
  }
  pipe.write(encodeFrame(streamId, f));
}

const ctx = {
  host: config.host,
  noMediaMs: config.noMediaSeconds * 1000,
  gopCache: config.gopCache !== false,
  onFrame,
  wantsFrames: (streamId: string) => wanted.has(streamId) || (streams.get(streamId)?.legs.size ?? 0) === 0,
  onFirstMedia: (streamId: string, ssrc: string) => send({ t: 'firstMedia', streamId, ssrc }),
  onNoMedia: (streamId: string) => send({ t: 'noMedia', streamId }),
  onEnded: (streamId: string, reason: 'peer-closed' | 'connect-failed' | 'closed' | 'worker-exit') => {
    closeStream(streamId);
    send({ t: 'ended', streamId, reason });
  },
  log: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => send({ t: 'log', level, msg, fields }),
};

/** Takes ports until one binds (another program may hold some of the range). */
async function bindWithPort<T>(make: (port: number) => Promise<T>): Promise<{ port: number; value: T }> {
  const failed = new Set<number>();
  for (let i = 0; ; i++) {
    const port = pool.take(failed);
    try {
      return { port, value: await make(port) };
    } catch (err) {
      pool.give(port);
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i >= BIND_TRIES) throw err;
      failed.add(port);
    }
  }
}

function closeStream(streamId: string): boolean {
  const s = streams.get(streamId);
  if (!s) return false;
  streams.delete(streamId);
  for (const legId of s.legs.keys()) legs.delete(legId);
  for (const leg of s.legs.values()) pool.give(leg.port);
  s.close();
  pool.give(s.port);
  return true;
}

function checkTransport(t: unknown): MediaTransport {
  if (!TRANSPORTS.includes(t as MediaTransport)) throw MediaBadRequest(`transport must be one of ${TRANSPORTS.join(', ')}`, { field: 'transport' });
  return t as MediaTransport;
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'openIncoming': {
      const { spec } = req;
      checkTransport(spec.transport);
      if (streams.has(spec.streamId)) throw MediaDuplicateStream(`stream ${spec.streamId} is already open`, { field: 'streamId' });
      if (parseSsrc(spec.ssrc) === undefined) throw MediaBadRequest(`ssrc ${JSON.stringify(spec.ssrc)} is not a decimal SSRC`, { field: 'ssrc' });
      if (spec.payload !== undefined && !['ps', 'h264', 'h265'].includes(spec.payload)) throw MediaBadRequest('payload must be ps, h264 or h265', { field: 'payload' });
      const { port, value } = await bindWithPort(async (port) => {
        const s = new IncomingStream(spec, port, ctx);
        try {
          await s.open();
        } catch (err) {
          s.close();
          throw err;
        }
        return s;
      });
      streams.set(spec.streamId, value);
      return { port };
    }
    case 'answerIncoming': {
      const s = streams.get(req.streamId);
      if (!s) throw MediaUnknownStream(`no stream ${req.streamId}`, { field: 'streamId' });
      try {
        await s.answer(req.answer);
      } catch (err) {
        if (streams.get(req.streamId) === s) ctx.onEnded(req.streamId, 'connect-failed');
        throw err;
      }
      return undefined;
    }
    case 'closeStream':
      if (!closeStream(req.streamId)) throw MediaUnknownStream(`no stream ${req.streamId}`, { field: 'streamId' });
      return undefined;
    case 'openOutgoing': {
      const { spec } = req;
      const transport = checkTransport(spec.transport);
      const stream = streams.get(spec.streamId);
      if (!stream) throw MediaUnknownStream(`no stream ${spec.streamId} to relay`, { field: 'streamId' });
      if (legs.has(spec.legId)) throw MediaDuplicateStream(`leg ${spec.legId} is already open`, { field: 'legId' });
      const ssrc = parseSsrc(spec.ssrc);
      if (ssrc === undefined) throw MediaBadRequest(`ssrc ${JSON.stringify(spec.ssrc)} is not a decimal SSRC`, { field: 'ssrc' });
      if (transport !== 'tcp-passive' && (!spec.host || !(spec.port > 0 && spec.port < 65536))) throw MediaBadRequest('an outgoing leg needs the peer host and port', { field: 'port' });
      const { port, value } = await bindWithPort(async (port) => {
        const leg = new OutgoingLeg(spec.legId, spec.streamId, transport, port, config.host, { host: spec.host, port: spec.port }, ssrc, () => stream.gop.snapshot());
        try {
          await leg.open();
        } catch (err) {
          leg.close();
          throw err;
        }
        return leg;
      });
      if (!streams.has(spec.streamId)) {
        value.close();
        pool.give(port);
        throw MediaUnknownStream(`stream ${spec.streamId} closed while its leg opened`, { field: 'streamId' });
      }
      stream.legs.set(spec.legId, value);
      legs.set(spec.legId, { leg: value, stream });
      // in the same turn as joining the stream: the cache, then every live packet, none twice
      value.start();
      return { port };
    }
    case 'closeOutgoing': {
      const l = legs.get(req.legId);
      if (!l) throw MediaUnknownStream(`no leg ${req.legId}`, { field: 'legId' });
      legs.delete(req.legId);
      l.stream.legs.delete(req.legId);
      l.leg.close();
      pool.give(l.leg.port);
      return undefined;
    }
    case 'frames':
      if (typeof req.streamId !== 'string') throw MediaBadRequest('frames needs a streamId', { field: 'streamId' });
      if (req.on) {
        wanted.add(req.streamId);
        pipe.write(encodeStart(req.streamId));
        streams.get(req.streamId)?.replayFrames((f) => writeFrame(req.streamId, f));
      } else wanted.delete(req.streamId);
      return undefined;
    case 'shutdown':
      for (const id of [...streams.keys()]) closeStream(id);
      setImmediate(() => process.exit(0));
      return undefined;
  }
}

process.on('message', (m: ToWorker) => {
  if (!m || m.t !== 'req') return;
  handle(m.req).then(
    (value) => send({ t: 'res', id: m.id, ok: true, value }),
    (err: unknown) => {
      const e = err instanceof EsealError ? err : undefined;
      send({ t: 'res', id: m.id, ok: false, code: e?.code ?? 'ESEAL_ERR_GBMEDIA_BAD_REQUEST', message: err instanceof Error ? err.message : String(err) });
    },
  );
});
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (err) => {
  // a fault of ours in the media path: say it, and let the engine restart us
  send({ t: 'log', level: 'warn', msg: 'media worker fault', fields: { err: String(err?.stack ?? err) } });
  process.exit(70);
});

setInterval(() => {
  const stats: Record<string, StreamStats> = {};
  let any = false;
  for (const [id, s] of streams) {
    const st = s.stats();
    if (st) {
      stats[id] = st;
      any = true;
    }
  }
  if (any) send({ t: 'stats', stats });
  if (framesDropped > 0) {
    send({ t: 'log', level: 'warn', msg: 'media frames dropped: the engine does not read them fast enough', fields: { framesDropped } });
    framesDropped = 0;
  }
}, 250).unref();

send({ t: 'ready' });
