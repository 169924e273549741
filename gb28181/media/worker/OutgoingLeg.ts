// One outgoing leg of the cascade: the RTP packets of an incoming stream re-sent to the upper
// platform with its SSRC and our own sequence numbers, over UDP, TCP active (we connect) or TCP
// passive (it connects to our port). A slow TCP peer loses packets rather than growing our memory.
// A leg starts with its stream's GOP cache (the packets since the last keyframe's first one; for
// TCP passive, each time the peer connects), then the live packets: the peer decodes at once. Over
// UDP the cache goes out paced, a batch per millisecond, so that a GOP of a thousand packets does
// not overflow the peer's receive buffer; live packets queue behind it. Over TCP it is written at
// once (flow control paces it) and the queue bound is raised by its size until the socket drains.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { MediaConnectFailed } from '../errors.ts';
import type { MediaTransport } from '../MediaTypes.ts';
import { frame4571 } from '../rtp/rfc4571.ts';
import { buildRtp, rtpHeader, type RtpPacket } from '../rtp/rtpPacket.ts';

const MAX_QUEUED = 1024 * 1024;
/** UDP: cached packets sent per millisecond */
const PACE_BATCH = 32;
/** UDP: packets waiting behind the cache beyond this are dropped */
const MAX_PACED = 4000;

export class OutgoingLeg {
  #udp: UdpSocket | undefined;
  #server: Server | undefined;
  #tcp: Socket | undefined;
  #seq = Math.floor(Math.random() * 0xffff);
  /** UDP: packets waiting to be sent behind the cache */
  #paced: RtpPacket[] | undefined;
  #paceTimer: NodeJS.Timeout | undefined;
  /** TCP: bytes of cache written, allowed on top of MAX_QUEUED until the socket drains */
  #allowance = 0;
  #started = false;
  sent = 0;
  dropped = 0;
  /** packets of the GOP cache sent first */
  primed = 0;

  constructor(
    readonly legId: string,
    readonly streamId: string,
    readonly transport: MediaTransport,
    readonly port: number,
    private readonly host: string,
    private readonly peer: { host: string; port: number },
    private readonly ssrc: number,
    /** the stream's GOP cache now */
    private readonly backlog: () => readonly RtpPacket[] = () => [],
  ) {}

  async open(): Promise<void> {
    if (this.transport === 'udp') {
      const s = createSocket('udp4');
      s.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(this.port, this.host, () => resolve());
      });
      // connected: each send skips the address lookup Node does for a send with host and port
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.connect(this.peer.port, this.peer.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      this.#udp = s;
    } else if (this.transport === 'tcp-passive') {
      const server = createServer((sock) => {
        sock.on('error', () => undefined);
        sock.setNoDelay(true);
        this.#tcp?.destroy();
        this.#tcp = sock;
        if (this.#started) this.#prime();
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.port, this.host, () => resolve());
      });
      this.#server = server;
    } else {
      this.#tcp = await new Promise<Socket>((resolve, reject) => {
        const sock = connect({ host: this.peer.host, port: this.peer.port });
        sock.once('connect', () => resolve(sock));
        sock.once('error', (err) => reject(MediaConnectFailed(`cannot connect to ${this.peer.host}:${this.peer.port} for leg ${this.legId}: ${err.message}`, { cause: err })));
      });
      this.#tcp.on('error', () => undefined);
      this.#tcp.setNoDelay(true);
    }
  }

  /** The leg is live (it is in its stream's legs): the cache first, then what send() gets. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#udp || this.#tcp) this.#prime();
  }

  #prime(): void {
    const cached = this.backlog();
    if (cached.length === 0) return;
    this.primed += cached.length;
    if (this.#udp) {
      this.#paced = [...cached, ...(this.#paced ?? [])];
      if (!this.#paceTimer) this.#pace();
      return;
    }
    const t = this.#tcp!;
    let bytes = 0;
    for (const p of cached) bytes += p.payload.length + 14;
    this.#allowance = bytes;
    for (const p of cached) this.#sendNow(p);
    if (t.writableLength > 0) t.once('drain', () => (this.#allowance = 0));
    else this.#allowance = 0;
  }

  #pace(): void {
    this.#paceTimer = undefined;
    const q = this.#paced;
    if (!q) return;
    const n = Math.min(PACE_BATCH, q.length);
    for (let i = 0; i < n; i++) this.#sendNow(q[i]!);
    if (n === q.length) this.#paced = undefined;
    else {
      this.#paced = q.slice(n);
      this.#paceTimer = setTimeout(() => this.#pace(), 1);
    }
  }

  send(p: RtpPacket): void {
    if (this.#paced) {
      if (this.#paced.length >= MAX_PACED) this.dropped++;
      else this.#paced.push(p);
      return;
    }
    this.#sendNow(p);
  }

  #sendNow(p: RtpPacket): void {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0xffff;
    if (this.#udp) {
      // header and payload as two pieces of one datagram: no copy of the payload per leg
      this.#udp.send([rtpHeader(p.payloadType, p.marker, seq, p.timestamp, this.ssrc), p.payload]);
      this.sent++;
      return;
    }
    const out = buildRtp({ ...p, ssrc: this.ssrc, seq }, p.payload);
    const t = this.#tcp;
    if (!t || t.destroyed || t.writableLength > MAX_QUEUED + this.#allowance) {
      this.dropped++;
      return;
    }
    t.write(frame4571(out));
    this.sent++;
  }

  close(): void {
    clearTimeout(this.#paceTimer);
    this.#paced = undefined;
    this.#udp?.close();
    this.#tcp?.destroy();
    this.#server?.close();
  }
}
