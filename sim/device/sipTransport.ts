// The device's SIP flow to its server: one UDP socket, or one TCP connection with its own framing
// (headers up to CRLFCRLF, then Content-Length bytes). Every parse is wrapped: a datagram or stream
// that is not SIP is counted and dropped, never thrown out of a socket callback. `rebind()` moves
// the flow to a new local port, as a NAT that forgets its mapping does.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { connect, type Socket as TcpSocket } from 'node:net';
import sip from 'sip';
import type { Message } from 'sip';

export type SipProtocol = 'udp' | 'tcp';

export interface SipTransportOptions {
  protocol: SipProtocol;
  server: { host: string; port: number };
  /** local bind address (default 127.0.0.1) and port (default 0: any) */
  localHost: string;
  localPort: number;
}

export interface SipTransportEvents {
  message: [m: Message];
  /** bytes that were not a SIP message */
  garbage: [why: string];
  error: [err: Error];
}

const MAX_HEADERS = 64 * 1024;
const MAX_CONTENT = 1024 * 1024;

/** Parses one message from latin1 text; undefined when it is not SIP (never throws). */
export function parseSip(text: string): Message | undefined {
  try {
    const m = sip.parse(text);
    if (!m || !m.headers || typeof m.headers['call-id'] !== 'string' || !m.headers.cseq || typeof m.headers.cseq !== 'object') return undefined;
    if (!m.method && !(typeof m.status === 'number' && m.status >= 100 && m.status < 700)) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

export class SipTransport extends EventEmitter<SipTransportEvents> {
  private udp: UdpSocket | undefined;
  private tcp: TcpSocket | undefined;
  private tcpReady: Promise<void> | undefined;
  private pending = '';
  private closed = false;
  local = { host: '127.0.0.1', port: 0 };

  constructor(private readonly o: SipTransportOptions) {
    super();
  }

  get protocol(): SipProtocol {
    return this.o.protocol;
  }

  async open(localPort = this.o.localPort): Promise<void> {
    if (this.o.protocol === 'udp') {
      const s = createSocket('udp4');
      s.on('error', (err) => this.emit('error', err));
      s.on('message', (buf) => {
        const m = parseSip(buf.toString('latin1'));
        if (m) this.emit('message', m);
        else this.emit('garbage', `a ${buf.length}-byte datagram that is not SIP`);
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(localPort, this.o.localHost, () => {
          s.off('error', reject);
          resolve();
        });
      });
      this.udp = s;
      this.local = { host: this.o.localHost, port: s.address().port };
    } else {
      await this.connectTcp(localPort);
    }
  }

  private connectTcp(localPort: number): Promise<void> {
    const s = connect({ host: this.o.server.host, port: this.o.server.port, localAddress: this.o.localHost, ...(localPort ? { localPort } : {}) });
    s.setNoDelay(true);
    this.pending = '';
    this.tcp = s;
    s.on('data', (chunk: Buffer) => this.onTcpData(s, chunk));
    s.on('error', (err) => this.emit('error', err));
    s.on('close', () => {
      if (this.tcp === s) {
        this.tcp = undefined;
        this.tcpReady = undefined;
      }
    });
    this.tcpReady = new Promise<void>((resolve, reject) => {
      s.once('connect', () => {
        this.local = { host: s.localAddress ?? this.o.localHost, port: s.localPort ?? 0 };
        resolve();
      });
      s.once('error', reject);
    });
    return this.tcpReady;
  }

  private onTcpData(s: TcpSocket, chunk: Buffer): void {
    if (this.tcp !== s) return;
    this.pending += chunk.toString('latin1');
    for (;;) {
      this.pending = this.pending.replace(/^(\r\n)+/, ''); // keepalive CRLFs (RFC 5626)
      const end = this.pending.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.pending.length > MAX_HEADERS) this.dropTcp(s, 'headers longer than 64 KiB');
        return;
      }
      const len = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d{1,9})[ \t]*\r\n/i.exec(this.pending.slice(0, end + 2));
      const contentLength = len ? Number(len[1]) : 0;
      if (contentLength > MAX_CONTENT) return this.dropTcp(s, 'Content-Length over 1 MiB');
      if (this.pending.length < end + 4 + contentLength) return;
      const text = this.pending.slice(0, end + 4 + contentLength);
      this.pending = this.pending.slice(end + 4 + contentLength);
      const m = parseSip(text);
      if (m) this.emit('message', m);
      else this.emit('garbage', 'a TCP message that is not SIP');
    }
  }

  private dropTcp(s: TcpSocket, why: string): void {
    this.emit('garbage', why);
    this.pending = '';
    s.destroy();
  }

  /** Sends one message (a latin1 string); over TCP it (re)connects first. */
  async send(text: string): Promise<void> {
    if (this.closed) return;
    const bytes = Buffer.from(text, 'latin1');
    if (this.udp) {
      const s = this.udp;
      await new Promise<void>((resolve) => s.send(bytes, this.o.server.port, this.o.server.host, () => resolve()));
      return;
    }
    if (!this.tcp) await this.connectTcp(0);
    await this.tcpReady;
    const s = this.tcp;
    if (s && !s.destroyed) s.write(bytes);
  }

  /** A new local port (the old socket closed), as after a NAT rebinding. */
  async rebind(): Promise<void> {
    const oldPort = this.local.port;
    const oldUdp = this.udp;
    const oldTcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    // a different port than before: any free one, then check
    for (let i = 0; i < 5; i++) {
      await this.open(0);
      if (this.local.port !== oldPort) break;
      (this.udp as UdpSocket | undefined)?.close();
      (this.tcp as TcpSocket | undefined)?.destroy();
    }
    oldUdp?.close();
    oldTcp?.destroy();
  }

  close(): void {
    this.closed = true;
    this.udp?.close();
    this.udp = undefined;
    this.tcp?.destroy();
    this.tcp = undefined;
  }
}
