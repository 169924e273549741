// A small real RTP receiver standing in for the media engine in the signalling tests: it binds the
// UDP port or TCP listener it returns (TCP active: connects to the device's port on the answer),
// reads RTP (RFC 4571 framing on TCP) and counts packets per SSRC. It implements MediaEngineLike.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { IncomingStreamSpec, MediaEngineLike } from '../../gb28181/invite/MediaEngineLike.ts';

export interface ReceivedStream {
  spec: IncomingStreamSpec;
  port: number;
  answer?: { host: string; port: number; ssrc?: string };
  packets: number;
  ssrcs: Set<number>;
  closed: boolean;
  close(): void;
}

export class RtpReceiver extends EventEmitter implements MediaEngineLike {
  readonly streams = new Map<string, ReceivedStream>();
  readonly opened: string[] = [];
  readonly closedIds: string[] = [];

  #packet(s: ReceivedStream, rtp: Buffer): void {
    if (rtp.length < 12 || rtp[0]! >> 6 !== 2) return;
    const ssrc = rtp.readUInt32BE(8);
    s.packets++;
    s.ssrcs.add(ssrc);
    if (s.packets === 1) this.emit('firstMedia', { streamId: s.spec.streamId, ssrc });
  }

  #readFramed(s: ReceivedStream, socket: net.Socket): void {
    let buf = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        this.#packet(s, buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
      }
    });
  }

  async openIncoming(spec: IncomingStreamSpec): Promise<{ port: number }> {
    this.opened.push(spec.streamId);
    const s: ReceivedStream = { spec, port: 0, packets: 0, ssrcs: new Set(), closed: false, close: () => {} };
    if (spec.transport === 'udp') {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      sock.on('message', (b) => this.#packet(s, b));
      s.port = sock.address().port;
      s.close = () => sock.close();
    } else if (spec.transport === 'tcp-passive') {
      const server = net.createServer((c) => this.#readFramed(s, c));
      const conns: net.Socket[] = [];
      server.on('connection', (c) => conns.push(c));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      s.port = (server.address() as net.AddressInfo).port;
      s.close = () => {
        for (const c of conns) c.destroy();
        server.close();
      };
    } else {
      // TCP active: we connect on the answer; the offer's port is informational (a free port number)
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
      s.port = (probe.address() as net.AddressInfo).port;
      probe.close();
    }
    this.streams.set(spec.streamId, s);
    return { port: s.port };
  }

  async answerIncoming(streamId: string, answer: { host: string; port: number; ssrc?: string }): Promise<void> {
    const s = this.streams.get(streamId);
    if (!s) throw new Error(`no stream ${streamId}`);
    s.answer = answer;
    if (s.spec.transport === 'tcp-active') {
      const c = net.connect(answer.port, answer.host);
      await new Promise<void>((resolve, reject) => {
        c.once('connect', resolve);
        c.once('error', reject);
      });
      this.#readFramed(s, c);
      s.close = () => c.destroy();
    }
  }

  async closeStream(streamId: string): Promise<void> {
    const s = this.streams.get(streamId);
    if (!s || s.closed) return;
    s.closed = true;
    this.closedIds.push(streamId);
    s.close();
  }

  /** What the engine does when nothing arrived for noMediaSeconds. */
  reportNoMedia(streamId: string): void {
    this.emit('noMedia', { streamId });
  }

  async closeAll(): Promise<void> {
    for (const id of this.streams.keys()) await this.closeStream(id);
  }
}
