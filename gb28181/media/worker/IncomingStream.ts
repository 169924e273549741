// One incoming stream in the worker: its socket (UDP, TCP passive, TCP active), the SSRC it locks
// onto, the reorder buffer, the demuxer (PS or raw H.264/H.265), its outgoing legs and its
// no-media watch. SSRC rule: the one we offered, or the device's answer (y=) when it gave another;
// when the first packets carry yet another one (many devices ignore ours) we lock onto it, but a
// packet with the expected SSRC always wins; once locked, other SSRCs on the port are dropped and
// counted (a stale session still sending to a reused port). Every packet delivered also goes to
// the stream's GOP cache (GopCache.ts): a leg opened later starts with it, and so does a parent
// subscription (the cache demuxed again by a demuxer of its own: replayFrames).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseH264Sps } from '../es/h264Sps.ts';
import { parseH265Sps } from '../es/h265Sps.ts';
import { nalType, splitAnnexB, type VideoCodec } from '../es/nal.ts';
import { MediaConnectFailed } from '../errors.ts';
import type { EndReason, IncomingAnswer, IncomingSpec, MediaFrame, StreamStats } from '../MediaTypes.ts';
import { PsDemuxer } from '../ps/PsDemuxer.ts';
import { RawDepacketizer } from '../rtp/RawDepacketizer.ts';
import { ReorderBuffer } from '../rtp/ReorderBuffer.ts';
import { Rfc4571Deframer } from '../rtp/rfc4571.ts';
import { parseRtp, type RtpPacket } from '../rtp/rtpPacket.ts';
import { markPs, markRaw } from '../rtp/keyframeStart.ts';
import { GopCache } from './GopCache.ts';
import type { OutgoingLeg } from './OutgoingLeg.ts';
import { formatSsrc, parseSsrc } from './protocol.ts';

export interface StreamContext {
  host: string;
  noMediaMs: number;
  /** keep the GOP cache (false: legs and late viewers start at the next keyframe, for more streams per core) */
  gopCache: boolean;
  onFrame(streamId: string, f: MediaFrame): void;
  /** someone takes this stream's frames: a subscriber in the parent, or it has no legs (they may subscribe) */
  wantsFrames(streamId: string): boolean;
  onFirstMedia(streamId: string, ssrc: string): void;
  onNoMedia(streamId: string): void;
  onEnded(streamId: string, reason: EndReason): void;
  log(level: 'info' | 'warn', msg: string, fields: Record<string, unknown>): void;
}

const REORDER_WINDOW = 32;
const GAP_WAIT_MS = 80;

export class IncomingStream {
  readonly legs = new Map<string, OutgoingLeg>();
  readonly #reorder = new ReorderBuffer(REORDER_WINDOW);
  #demux: PsDemuxer | RawDepacketizer;
  #ps: PsDemuxer | undefined;
  /** the PS video codec once known, kept for the keyframe marks while the demuxer is skipped */
  #psCodec: VideoCodec | undefined;
  /**
   * A stream only relayed (legs, no one wants its frames) is not demuxed once its codec and size are
   * known: the legs need packets and the cache needs keyframe marks, not pictures; demuxing every
   * frame for nothing cost the relay much of its capacity. Demuxing resumes with a fresh demuxer fed
   * the GOP cache (see #resume).
   */
  #skipping = false;
  readonly gop = new GopCache();
  #lastTs: number | undefined;
  #lastMarker = false;
  #expected: number;
  #locked: number | undefined;
  #udp: UdpSocket | undefined;
  #server: Server | undefined;
  #tcp: Socket | undefined;
  #gapTimer: NodeJS.Timeout | undefined;
  #watch: NodeJS.Timeout | undefined;
  readonly #openedAt = Date.now();
  #silentReported = false;
  #closed = false;
  #changed = true;
  readonly #s = { staleSsrcDropped: 0, bytes: 0, frames: 0, codec: null as string | null, width: undefined as number | undefined, height: undefined as number | undefined, lastPacketAt: null as number | null, invalid: 0 };

  constructor(
    readonly spec: IncomingSpec,
    readonly port: number,
    private readonly ctx: StreamContext,
  ) {
    this.#expected = parseSsrc(spec.ssrc)!;
    const onFrame = (f: MediaFrame): void => this.#frame(f);
    this.#demux = this.#newDemuxer(onFrame);
    this.#ps = this.#demux instanceof PsDemuxer ? this.#demux : undefined;
  }

  #newDemuxer(onFrame: (f: MediaFrame) => void): PsDemuxer | RawDepacketizer {
    const { payload } = this.spec;
    return payload === 'h264' || payload === 'h265' ? new RawDepacketizer(payload, onFrame) : new PsDemuxer(onFrame);
  }

  /**
   * The frames of the GOP cache, demuxed by a demuxer of their own: the same packets in the same
   * order give the frames the stream's demuxer gave from them, so these followed by the live frames
   * are the stream from its last keyframe on, without a gap or a repeat. The frame under way at the
   * end is left to the live demuxer.
   */
  replayFrames(onFrame: (f: MediaFrame) => void): number {
    // skipped until now: the fresh demuxer's frames of the cache go out the normal way (they were never sent)
    if (this.#skipping) return this.#resume();
    let n = 0;
    const demux = this.#newDemuxer((f) => {
      n++;
      onFrame(f);
    });
    for (const p of this.gop.snapshot()) demux.push(p.payload, p.timestamp, p.marker);
    return n;
  }

  get streamId(): string {
    return this.spec.streamId;
  }

  async open(): Promise<void> {
    const { transport } = this.spec;
    if (transport === 'udp') {
      const s = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(this.port, this.ctx.host, () => resolve());
      });
      s.on('error', (err) => this.ctx.log('warn', 'media UDP socket error', { streamId: this.streamId, err: String(err) }));
      s.on('message', (msg) => this.#packet(msg));
      // a burst of a 4K I-frame must not overflow the kernel's default buffer
      try {
        s.setRecvBufferSize(4 * 1024 * 1024);
      } catch {
        /* the OS keeps its own limit */
      }
      this.#udp = s;
    } else if (transport === 'tcp-passive') {
      const server = createServer((sock) => this.#attach(sock));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, this.ctx.host, () => resolve());
      });
      server.on('error', () => undefined);
      this.#server = server;
    }
    const everyMs = Math.max(20, Math.min(1000, this.ctx.noMediaMs / 4));
    this.#watch = setInterval(() => this.#checkSilence(), everyMs);
  }

  async answer(a: IncomingAnswer): Promise<void> {
    const answered = parseSsrc(a.ssrc);
    if (answered !== undefined && answered !== this.#expected) {
      this.ctx.log('info', 'the device answered with another SSRC: expecting it', { streamId: this.streamId, offered: this.spec.ssrc, answered: a.ssrc });
      this.#expected = answered;
    }
    if (this.spec.transport !== 'tcp-active') return;
    // Devices open their TCP server when they answer, sometimes a little later: a few tries.
    let last: Error | undefined;
    for (let attempt = 0; attempt < 5 && !this.#closed; attempt++) {
      try {
        const sock = await this.#connect(a, attempt === 0);
        this.#attach(sock);
        return;
      } catch (err) {
        last = err as Error;
        await sleep(100 * (attempt + 1));
      }
    }
    throw MediaConnectFailed(`cannot connect to the device's media port ${a.host}:${a.port}: ${last?.message ?? 'stream closed'}`, { cause: last });
  }

  #connect(a: IncomingAnswer, fromOurPort: boolean): Promise<Socket> {
    return new Promise((resolve, reject) => {
      // from the port we offered (some devices check it); later tries from any port (TIME_WAIT)
      const sock = connect({ host: a.host, port: a.port, localAddress: this.ctx.host, ...(fromOurPort ? { localPort: this.port } : {}) });
      sock.once('connect', () => {
        sock.off('error', reject);
        resolve(sock);
      });
      sock.once('error', reject);
    });
  }

  #attach(sock: Socket): void {
    if (this.#closed) return void sock.destroy();
    this.#tcp?.destroy();
    this.#tcp = sock;
    sock.setNoDelay(true);
    const deframer = new Rfc4571Deframer();
    sock.on('data', (chunk: Buffer) => {
      for (const p of deframer.push(chunk)) this.#packet(p);
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (this.#tcp === sock && !this.#closed) {
        this.#tcp = undefined;
        this.ctx.onEnded(this.streamId, 'peer-closed');
      }
    });
  }

  #packet(buf: Buffer): void {
    if (this.#closed) return;
    const p = parseRtp(buf);
    if (!p) {
      this.#s.invalid++;
      return;
    }
    if (!this.#acceptSsrc(p.ssrc)) {
      this.#s.staleSsrcDropped++;
      this.#changed = true;
      return;
    }
    this.#s.bytes += buf.length;
    this.#s.lastPacketAt = Date.now();
    this.#silentReported = false;
    this.#changed = true;
    this.#deliver(this.#reorder.push(p));
    clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
    if (this.#reorder.holding > 0) this.#gapTimer = setTimeout(() => this.#deliver(this.#reorder.flushGap()), GAP_WAIT_MS);
  }

  #acceptSsrc(ssrc: number): boolean {
    if (this.#locked === ssrc) return true;
    if (ssrc === this.#expected) {
      if (this.#locked !== undefined) {
        this.ctx.log('info', 'the expected SSRC arrived: switching to it', { streamId: this.streamId, from: formatSsrc(this.#locked), to: formatSsrc(ssrc) });
        this.#reorder.reset();
        this.gop.reset();
      } else this.ctx.onFirstMedia(this.streamId, formatSsrc(ssrc));
      this.#locked = ssrc;
      return true;
    }
    if (this.#locked !== undefined) return false;
    this.ctx.log('warn', 'the device sends another SSRC than the one agreed: locking onto the first packet\'s', { streamId: this.streamId, expected: formatSsrc(this.#expected), got: formatSsrc(ssrc) });
    this.#locked = ssrc;
    this.ctx.onFirstMedia(this.streamId, formatSsrc(ssrc));
    return true;
  }

  #deliver(packets: RtpPacket[]): void {
    const skip = this.legs.size > 0 && this.#s.width !== undefined && !this.ctx.wantsFrames(this.streamId);
    if (!skip && this.#skipping) this.#resume();
    else if (skip && !this.#skipping) {
      this.#skipping = true;
      this.#changed = true;
    }
    // the keyframe marks feed the GOP cache and, while skipped, the picture count: no one else needs them
    const marks = this.ctx.gopCache || this.#skipping;
    for (const p of packets) {
      if (!this.#skipping) this.#demux.push(p.payload, p.timestamp, p.marker);
      if (marks) {
        if (this.#ps) this.#psCodec = this.#ps.videoCodec ?? this.#psCodec;
        const mark = this.#ps ? markPs(p.payload, this.#psCodec, this.#lastMarker) : markRaw(p.payload, this.spec.payload as 'h264' | 'h265', p.timestamp !== this.#lastTs);
        // skipped: the pictures counted from the marks (a picture starts a pack), not from a demuxer
        if (this.#skipping && mark.unitStart) this.#s.frames++;
        if (this.ctx.gopCache) this.gop.push(p, mark);
      }
      this.#lastTs = p.timestamp;
      this.#lastMarker = p.marker;
      for (const leg of this.legs.values()) leg.send(p);
    }
  }

  /**
   * Demuxing again after a skip: a fresh demuxer (the old one's state is stale), fed the GOP cache
   * first, so that its frames start at the last keyframe and the picture under way is whole; its
   * frames take the normal way out. Returns how many the cache gave.
   */
  #resume(): number {
    this.#skipping = false;
    this.#changed = true;
    let n = 0;
    const demux = this.#newDemuxer((f) => {
      n++;
      this.#frame(f);
    });
    for (const p of this.gop.snapshot()) demux.push(p.payload, p.timestamp, p.marker);
    // the demuxer that read the cache reads on: it holds the picture under way
    this.#demux = demux;
    this.#ps = demux instanceof PsDemuxer ? demux : undefined;
    return n;
  }

  #frame(f: MediaFrame): void {
    this.#s.frames++;
    if (f.kind === 'video') {
      this.#s.codec = f.codec;
      if (f.keyframe) {
        // the picture size from the SPS a keyframe carries (it may change mid-stream)
        const info =
          f.codec === 'h264'
            ? parseH264Sps(splitAnnexB(f.data).find((n) => (n[0]! & 0x1f) === 7) ?? Buffer.alloc(0))
            : parseH265Sps(splitAnnexB(f.data).find((n) => nalType('h265', n) === 33) ?? Buffer.alloc(0));
        if (info) {
          this.#s.width = info.width;
          this.#s.height = info.height;
        }
      }
    } else this.#s.codec ??= f.codec;
    this.ctx.onFrame(this.streamId, f);
  }

  #checkSilence(): void {
    if (this.#silentReported || this.#closed) return;
    const since = this.#s.lastPacketAt ?? this.#openedAt;
    if (Date.now() - since >= this.ctx.noMediaMs) {
      this.#silentReported = true;
      this.ctx.onNoMedia(this.streamId);
    }
  }

  /** Stats when they changed since the last call (or always with `force`). */
  stats(force = false): StreamStats | undefined {
    if (!force && !this.#changed) return undefined;
    this.#changed = false;
    const c = this.#reorder.counts;
    const s = this.#s;
    return {
      ssrc: this.#locked === undefined ? null : formatSsrc(this.#locked),
      packets: c.packets,
      lost: c.lost,
      reordered: c.reordered,
      duplicates: c.duplicates,
      staleSsrcDropped: s.staleSsrcDropped,
      bytes: s.bytes,
      frames: s.frames,
      codec: s.codec,
      ...(s.width !== undefined ? { width: s.width, height: s.height! } : {}),
      lastPacketAt: s.lastPacketAt,
      demuxed: !this.#skipping,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#demux.flush();
    this.#closed = true;
    clearTimeout(this.#gapTimer);
    clearInterval(this.#watch);
    this.#udp?.close();
    this.#tcp?.destroy();
    this.#server?.close();
    for (const leg of this.legs.values()) leg.close();
    this.legs.clear();
  }
}
