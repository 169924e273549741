// A media engine for the cascade's tests (MediaEngineLike) over real UDP sockets on 127.0.0.1:
// openIncoming binds a port and every datagram that arrives there is sent on through the stream's
// outgoing legs (what the real engine in gb28181/media does with PS over RTP); the TCP modes only
// record what they were asked. The lead joins the real engine after merging.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { IncomingStreamSpec, MediaEngineLike, OutgoingLegSpec } from '../../../gb28181/invite/MediaEngineLike.ts';

interface Incoming {
  spec: IncomingStreamSpec;
  socket?: dgram.Socket;
  answer?: { host: string; port: number; ssrc?: string };
  received: Buffer[];
}

interface Outgoing {
  spec: OutgoingLegSpec;
  socket?: dgram.Socket;
  sent: number;
}

async function bindUdp(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

export class FakeMedia implements MediaEngineLike {
  readonly events = new EventEmitter();
  readonly incoming = new Map<string, Incoming>();
  readonly outgoing = new Map<string, Outgoing>();
  readonly closedStreams: string[] = [];
  readonly closedLegs: string[] = [];
  /** openOutgoing fails while set */
  failOutgoing = false;

  async openIncoming(spec: IncomingStreamSpec): Promise<{ port: number }> {
    const entry: Incoming = { spec, received: [] };
    if (spec.transport === 'udp') {
      const socket = await bindUdp();
      socket.on('message', (b) => {
        entry.received.push(b);
        for (const o of this.outgoing.values()) {
          if (o.spec.streamId !== spec.streamId || !o.socket) continue;
          o.sent++;
          o.socket.send(b, o.spec.port, o.spec.host);
        }
      });
      entry.socket = socket;
      this.incoming.set(spec.streamId, entry);
      return { port: socket.address().port };
    }
    this.incoming.set(spec.streamId, entry);
    return { port: 40_000 + this.incoming.size };
  }

  async answerIncoming(streamId: string, answer: { host: string; port: number; ssrc?: string }): Promise<void> {
    const e = this.incoming.get(streamId);
    if (!e) throw new Error(`no stream ${streamId}`);
    e.answer = answer;
  }

  async closeStream(streamId: string): Promise<void> {
    this.closedStreams.push(streamId);
    const e = this.incoming.get(streamId);
    this.incoming.delete(streamId);
    e?.socket?.close();
  }

  async openOutgoing(spec: OutgoingLegSpec): Promise<{ port: number }> {
    if (this.failOutgoing) throw new Error('no outgoing port (test)');
    if (!this.incoming.has(spec.streamId)) throw new Error(`no stream ${spec.streamId} to send on`);
    const o: Outgoing = { spec, sent: 0 };
    if (spec.transport === 'udp') o.socket = await bindUdp();
    this.outgoing.set(spec.legId, o);
    return { port: o.socket ? o.socket.address().port : 41_000 + this.outgoing.size };
  }

  async closeOutgoing(legId: string): Promise<void> {
    this.closedLegs.push(legId);
    const o = this.outgoing.get(legId);
    this.outgoing.delete(legId);
    o?.socket?.close();
  }

  on(event: 'firstMedia' | 'noMedia' | 'ended', listener: (...args: never[]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off(event: 'firstMedia' | 'noMedia' | 'ended', listener: (...args: never[]) => void): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Bytes received on a stream's incoming port so far. */
  receivedOn(streamId: string): Buffer[] {
    return this.incoming.get(streamId)?.received ?? [];
  }

  async close(): Promise<void> {
    for (const id of [...this.incoming.keys()]) await this.closeStream(id);
    for (const id of [...this.outgoing.keys()]) await this.closeOutgoing(id);
  }
}
