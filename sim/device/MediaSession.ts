// One live stream from the device to the platform: the local end answered in the SDP (a UDP
// socket, a TCP listener, or nothing for TCP active), then, after ACK, the clip as MPEG-PS over RTP,
// paced at the clip's frame rate and looped. Over TCP the packets are RFC 4571 framed.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { Clip } from './clip.ts';
import { muxAudioFrame, muxVideoFrame, type PsMuxOptions } from './psMux.ts';
import { frame4571, packetise, type RtpState } from './rtp.ts';
import type { MediaTransport, SdpOffer } from './sdp.ts';

export interface MediaSessionOptions {
  clip: Clip;
  offer: SdpOffer;
  /** the SSRC the device puts in its RTP (and its y=) */
  ssrc: number;
  localHost: string;
  ps: PsMuxOptions;
  /** RTP payload size forced smaller (PES split across packets variant); default: fill up to 1400-byte packets */
  rtpPayloadSize?: number;
}

export interface MediaStats {
  frames: number;
  packets: number;
  bytes: number;
  /** frames not sent because the TCP peer was not reading */
  dropped: number;
}

export interface MediaSessionEvents {
  /** the TCP connection is up (active: connected; passive: accepted) */
  connected: [];
  stopped: [why: string];
  error: [err: Error];
}

const TCP_BACKLOG_LIMIT = 4 * 1024 * 1024;
const PTS_START = 90_000;

export class MediaSession extends EventEmitter<MediaSessionEvents> {
  readonly stats: MediaStats = { frames: 0, packets: 0, bytes: 0, dropped: 0 };
  /** the port written in the answer's m= line */
  localPort = 0;
  private udp: UdpSocket | undefined;
  private server: Server | undefined;
  private tcp: TcpSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stoppedWhy: string | undefined;
  private readonly rtp: RtpState;
  private index = 0;
  private startedAt = 0;

  constructor(private readonly o: MediaSessionOptions) {
    super();
    this.rtp = { ssrc: o.ssrc, payloadType: 96, seq: Math.floor(Math.random() * 0x10000) };
  }

  get transport(): MediaTransport {
    return this.o.offer.transport;
  }

  get stopped(): boolean {
    return this.stoppedWhy !== undefined;
  }

  /** Opens the local end so the answer can name its port. */
  async prepare(): Promise<void> {
    const t = this.o.offer.transport;
    if (t === 'udp') {
      const s = createSocket('udp4');
      s.on('error', (err) => this.emit('error', err));
      s.on('message', () => {}); // RTCP from the platform: not used
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, this.o.localHost, () => resolve());
      });
      this.udp = s;
      this.localPort = s.address().port;
    } else if (t === 'tcp-passive') {
      const server = createServer((sock) => {
        if (this.tcp || this.stopped) return void sock.destroy();
        this.adopt(sock);
      });
      server.on('error', (err) => this.emit('error', err));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, this.o.localHost, () => resolve());
      });
      this.server = server;
      const addr = server.address();
      this.localPort = typeof addr === 'object' && addr ? addr.port : 0;
    } else {
      this.localPort = 9; // RFC 4145: an active endpoint writes the discard port
    }
  }

  private adopt(sock: TcpSocket): void {
    sock.setNoDelay(true);
    this.tcp = sock;
    sock.on('error', (err) => this.emit('error', err));
    sock.on('data', () => {}); // RTCP over TCP: not used
    sock.on('close', () => this.stop('the platform closed the TCP media connection'));
    this.emit('connected');
  }

  /** Starts sending (after ACK). TCP active connects first; TCP passive waits for the platform. */
  start(): void {
    if (this.stopped || this.timer) return;
    if (this.o.offer.transport === 'tcp-active') {
      const sock = connect({ host: this.o.offer.address, port: this.o.offer.port, localAddress: this.o.localHost });
      sock.once('connect', () => this.adopt(sock));
      sock.once('error', (err) => {
        if (!this.tcp) this.stop(`cannot connect to the platform's media port ${this.o.offer.address}:${this.o.offer.port}: ${err.message}`);
      });
    }
    this.startedAt = Date.now();
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    const { clip } = this.o;
    const frameMs = 1000 / clip.fps;
    if (this.o.offer.transport !== 'udp' && !this.tcp) {
      // TCP not up yet: hold the clip at its first keyframe, so the stream starts decodable at once
      this.startedAt = Date.now();
      this.index = 0;
      this.timer = setTimeout(() => this.tick(), 5);
      return;
    }
    // send every frame that is due (catch up after a slow tick), but never more than a second's worth
    let budget = Math.ceil(clip.fps);
    while (!this.stopped && budget-- > 0 && this.startedAt + this.index * frameMs <= Date.now()) {
      this.sendFrame(this.index);
      this.index++;
    }
    const next = this.startedAt + this.index * frameMs - Date.now();
    this.timer = setTimeout(() => this.tick(), Math.max(0, next));
  }

  private sendFrame(i: number): void {
    const { clip, ps } = this.o;
    const unit = clip.units[i % clip.units.length]!;
    // the clip starts on a keyframe (loadClip cuts it so); this guards a clip edited by hand
    if (this.stats.frames === 0 && !unit.keyframe) return;
    const pts = PTS_START + Math.round((i * 90_000) / clip.fps);
    const packs = [muxVideoFrame(unit, pts, ps)];
    if (ps.audio) packs.push(muxAudioFrame(Buffer.alloc(Math.round(8000 / clip.fps), 0xd5), pts)); // A-law silence
    const packets = packs.flatMap((p) => packetise(this.rtp, p, pts, undefined, this.o.rtpPayloadSize));
    if (this.udp) {
      for (const p of packets) this.udp.send(p, this.o.offer.port, this.o.offer.address);
    } else if (this.tcp) {
      if (this.tcp.writableLength > TCP_BACKLOG_LIMIT) {
        this.stats.dropped++;
        return;
      }
      this.tcp.write(Buffer.concat(packets.map(frame4571)));
    }
    this.stats.frames++;
    this.stats.packets += packets.length;
    this.stats.bytes += packets.reduce((n, p) => n + p.length, 0);
  }

  stop(why = 'stopped'): void {
    if (this.stopped) return;
    this.stoppedWhy = why;
    if (this.timer) clearTimeout(this.timer);
    this.udp?.close();
    this.server?.close();
    this.tcp?.destroy();
    this.emit('stopped', why);
  }
}
