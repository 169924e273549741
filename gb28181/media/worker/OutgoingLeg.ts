// One outgoing leg of the cascade: the RTP packets of an incoming stream re-sent to the upper
// platform with its SSRC and our own sequence numbers, over UDP, TCP active (we connect) or TCP
// passive (it connects to our port). A slow TCP peer loses packets rather than growing our memory.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { MediaConnectFailed } from '../errors.ts';
import type { MediaTransport } from '../MediaTypes.ts';
import { frame4571 } from '../rtp/rfc4571.ts';
import { buildRtp, rtpHeader, type RtpPacket } from '../rtp/rtpPacket.ts';

const MAX_QUEUED = 1024 * 1024;

export class OutgoingLeg {
  #udp: UdpSocket | undefined;
  #server: Server | undefined;
  #tcp: Socket | undefined;
  #seq = Math.floor(Math.random() * 0xffff);
  sent = 0;
  dropped = 0;

  constructor(
    readonly legId: string,
    readonly streamId: string,
    readonly transport: MediaTransport,
    readonly port: number,
    private readonly host: string,
    private readonly peer: { host: string; port: number },
    private readonly ssrc: number,
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

  send(p: RtpPacket): void {
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
    if (!t || t.destroyed || t.writableLength > MAX_QUEUED) {
      this.dropped++;
      return;
    }
    t.write(frame4571(out));
    this.sent++;
  }

  close(): void {
    this.#udp?.close();
    this.#tcp?.destroy();
    this.#server?.close();
  }
}
