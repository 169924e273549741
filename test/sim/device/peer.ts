// A minimal GB/T 28181 platform for the device simulator's tests, written independently of
// sim/device: a registrar (digest computed here from RFC 2617, with or without qop), a MESSAGE
// sink, a way to send Query / INVITE / ACK / BYE, and RTP receivers for UDP, TCP listening and
// TCP connecting. Over loopback only.
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import iconv from 'iconv-lite';
import type { Test } from 'tap';
import type { SimDeviceOptions } from '../../../sim/device/SimDeviceTypes.ts';

export const SERVER_ID = '34020000002000000001';
export const DOMAIN = '3402000000';
export const DEVICE_ID = '34020000001320000001';
export const PASSWORD = '12345678';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

export interface PeerMessage {
  /** the first line */
  start: string;
  headers: Record<string, string>;
  body: Buffer;
  from: { address: string; port: number };
  raw: string;
}

function parse(raw: string, from: { address: string; port: number }): PeerMessage | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  const len = Number(headers['content-length'] ?? 0);
  return { start: lines[0]!, headers, body: Buffer.from(raw.slice(end + 4, end + 4 + len), 'latin1'), from, raw };
}

export interface PeerOptions {
  protocol: 'udp' | 'tcp';
  /** offer qop=auth in the challenge (default true) */
  qop?: boolean;
  password?: string;
  /** the Expires the 200 grants (default: what was asked) */
  grantExpires?: number;
}

export class Peer {
  readonly messages: PeerMessage[] = [];
  readonly registers: PeerMessage[] = [];
  readonly responses: PeerMessage[] = [];
  registered = false;
  unregistered = false;
  forbidden = 0;
  port = 0;
  private udp: UdpSocket | undefined;
  private server: Server | undefined;
  private conn: TcpSocket | undefined;
  private deviceAddr: { address: string; port: number } | undefined;
  private readonly nonce = randomBytes(12).toString('hex');
  private waiters: Array<{ match: (m: PeerMessage) => boolean; resolve: (m: PeerMessage) => void }> = [];
  private cseq = 1;

  constructor(readonly o: PeerOptions) {}

  static async start(t: Test, o: PeerOptions): Promise<Peer> {
    const p = new Peer(o);
    await p.listen();
    t.teardown(() => p.close());
    return p;
  }

  private async listen(): Promise<void> {
    if (this.o.protocol === 'udp') {
      const s = createSocket('udp4');
      s.on('message', (b, r) => this.onRaw(b.toString('latin1'), { address: r.address, port: r.port }));
      await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
      this.udp = s;
      this.port = s.address().port;
    } else {
      const server = createServer((sock) => {
        this.conn = sock;
        let pending = '';
        sock.on('data', (d) => {
          pending += d.toString('latin1');
          for (;;) {
            const end = pending.indexOf('\r\n\r\n');
            if (end < 0) return;
            const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(pending.slice(0, end + 2))?.[1] ?? 0);
            if (pending.length < end + 4 + len) return;
            const raw = pending.slice(0, end + 4 + len);
            pending = pending.slice(end + 4 + len);
            this.onRaw(raw, { address: sock.remoteAddress!, port: sock.remotePort! });
          }
        });
        sock.on('error', () => {});
      });
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
      this.server = server;
      this.port = (server.address() as { port: number }).port;
    }
  }

  close(): void {
    this.udp?.close();
    this.conn?.destroy();
    this.server?.close();
  }

  private send(text: string): void {
    if (this.udp && this.deviceAddr) this.udp.send(Buffer.from(text, 'latin1'), this.deviceAddr.port, this.deviceAddr.address);
    else this.conn?.write(Buffer.from(text, 'latin1'));
  }

  private respond(m: PeerMessage, status: string, extra: string[] = []): void {
    const keep = ['via', 'from', 'to', 'call-id', 'cseq'].map((h) => `${h === 'call-id' ? 'Call-ID' : h === 'cseq' ? 'CSeq' : h[0]!.toUpperCase() + h.slice(1)}: ${m.headers[h]}`);
    const to = keep[2]!.includes('tag=') ? keep[2]! : `${keep[2]};tag=peer${randomBytes(3).toString('hex')}`;
    this.send([`SIP/2.0 ${status}`, keep[0], keep[1], to, keep[3], keep[4], ...extra, 'Content-Length: 0', '', ''].join('\r\n'));
  }

  /** Resolves with the next message (already received or to come) that matches. */
  next(match: (m: PeerMessage) => boolean, seen: PeerMessage[] = []): Promise<PeerMessage> {
    const old = seen.find(match);
    if (old) return Promise.resolve(old);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  private onRaw(raw: string, from: { address: string; port: number }): void {
    const m = parse(raw, from);
    if (!m) return;
    this.deviceAddr = from;
    if (m.start.startsWith('SIP/2.0')) this.responses.push(m);
    else if (m.start.startsWith('REGISTER')) this.onRegister(m);
    else if (m.start.startsWith('MESSAGE')) {
      this.messages.push(m);
      this.respond(m, '200 OK');
    } else if (m.start.startsWith('BYE')) {
      this.messages.push(m);
      this.respond(m, '200 OK');
    }
    for (const w of [...this.waiters]) {
      if (w.match(m)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  private onRegister(m: PeerMessage): void {
    this.registers.push(m);
    const auth = m.headers['authorization'];
    const challenge = `WWW-Authenticate: Digest realm="${DOMAIN}", nonce="${this.nonce}"${this.o.qop === false ? '' : ', qop="auth"'}, algorithm=MD5`;
    if (!auth) return this.respond(m, '401 Unauthorized', [challenge]);
    const p: Record<string, string> = {};
    for (const x of auth.replace(/^Digest\s+/i, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) p[x[1]!] = x[2] ?? x[3]!;
    const ha1 = md5(`${p['username']}:${DOMAIN}:${this.o.password ?? PASSWORD}`);
    const ha2 = md5(`REGISTER:${p['uri']}`);
    const expect = p['qop'] ? md5(`${ha1}:${p['nonce']}:${p['nc']}:${p['cnonce']}:${p['qop']}:${ha2}`) : md5(`${ha1}:${p['nonce']}:${ha2}`);
    if (p['nonce'] !== this.nonce || p['response'] !== expect) {
      this.forbidden++;
      return this.respond(m, '403 Forbidden');
    }
    const expires = Number(m.headers['expires'] ?? 3600);
    if (expires === 0) {
      this.unregistered = true;
      this.registered = false;
      return this.respond(m, '200 OK', ['Expires: 0']);
    }
    this.registered = true;
    this.respond(m, '200 OK', [`Expires: ${this.o.grantExpires ?? expires}`, 'Date: 2024-05-01T12:34:56.789']);
  }

  private request(method: string, target: string, headers: string[], body?: Buffer | string, callId = randomBytes(6).toString('hex'), cseq = this.cseq++, toTag = ''): { callId: string; cseq: number } {
    const b = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
    const proto = this.o.protocol.toUpperCase();
    const lines = [
      `${method} sip:${target}@${DOMAIN} SIP/2.0`,
      `Via: SIP/2.0/${proto} 127.0.0.1:${this.port};rport;branch=z9hG4bK${randomBytes(6).toString('hex')}`,
      `From: <sip:${SERVER_ID}@${DOMAIN}>;tag=peerfrom`,
      `To: <sip:${target}@${DOMAIN}>${toTag ? `;tag=${toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:${SERVER_ID}@127.0.0.1:${this.port}>`,
      'Max-Forwards: 70',
      ...headers,
      `Content-Length: ${b?.length ?? 0}`,
      '',
      '',
    ];
    this.send(lines.join('\r\n') + (b ? b.toString('latin1') : ''));
    return { callId, cseq };
  }

  /** A MANSCDP Query; returns its SN. */
  query(cmdType: string, sn: number, deviceId = DEVICE_ID): Promise<PeerMessage> {
    const body = `<?xml version="1.0" encoding="GB2312"?>\r\n<Query>\r\n<CmdType>${cmdType}</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${deviceId}</DeviceID>\r\n</Query>\r\n`;
    const { callId } = this.request('MESSAGE', deviceId, ['Content-Type: Application/MANSCDP+xml'], body);
    return this.next((m) => m.start.startsWith('SIP/2.0') && m.headers['call-id'] === callId, this.responses);
  }

  /** Raw bytes to the device (malformed input tests). */
  sendRaw(text: string): void {
    this.send(text);
  }

  /** INVITE with an SDP offer; resolves with the final response. */
  async invite(channelId: string, sdp: string, ssrc: string): Promise<{ callId: string; ok: PeerMessage }> {
    const { callId } = this.request('INVITE', channelId, [`Subject: ${channelId}:${ssrc},${SERVER_ID}:0`, 'Content-Type: APPLICATION/SDP'], sdp);
    const ok = await this.next((m) => m.start.startsWith('SIP/2.0') && !m.start.startsWith('SIP/2.0 1') && m.headers['call-id'] === callId && /INVITE/.test(m.headers['cseq'] ?? ''), this.responses);
    return { callId, ok };
  }

  ack(channelId: string, callId: string, ok: PeerMessage): void {
    const toTag = /tag=([^;>\s]+)/.exec(ok.headers['to'] ?? '')?.[1] ?? '';
    const cseq = Number(/^(\d+)/.exec(ok.headers['cseq'] ?? '')?.[1]);
    this.request('ACK', channelId, [], undefined, callId, cseq, toTag);
  }

  bye(channelId: string, callId: string, ok: PeerMessage): Promise<PeerMessage> {
    const toTag = /tag=([^;>\s]+)/.exec(ok.headers['to'] ?? '')?.[1] ?? '';
    this.request('BYE', channelId, [], undefined, callId, this.cseq++, toTag);
    return this.next((m) => m.start.startsWith('SIP/2.0') && m.headers['call-id'] === callId && /BYE/.test(m.headers['cseq'] ?? ''), this.responses);
  }

  /** MANSCDP bodies of MESSAGEs received, decoded by GB18030 or UTF-8 as asked. */
  bodies(cmdType: string, charset: 'gb18030' | 'utf8' = 'gb18030'): string[] {
    return this.messages
      .filter((m) => m.start.startsWith('MESSAGE'))
      .map((m) => (charset === 'utf8' ? m.body.toString('utf8') : iconv.decode(m.body, 'gb18030')))
      .filter((b) => b.includes(`<CmdType>${cmdType}</CmdType>`));
  }
}

export function offerSdp(o: { port: number; transport: 'udp' | 'tcp-listen' | 'tcp-connect'; ssrc: string }): string {
  const proto = o.transport === 'udp' ? 'RTP/AVP' : 'TCP/RTP/AVP';
  return [
    'v=0',
    `o=${SERVER_ID} 0 0 IN IP4 127.0.0.1`,
    's=Play',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=video ${o.port} ${proto} 96 98 97`,
    'a=recvonly',
    'a=rtpmap:96 PS/90000',
    'a=rtpmap:98 H264/90000',
    'a=rtpmap:97 MPEG4/90000',
    // the platform listens: it says setup:passive; it connects: setup:active
    ...(o.transport === 'tcp-listen' ? ['a=setup:passive', 'a=connection:new'] : o.transport === 'tcp-connect' ? ['a=setup:active', 'a=connection:new'] : []),
    `y=${o.ssrc}`,
    '',
  ].join('\r\n');
}

/** Collects RTP packets: UDP socket, TCP server (device connects), or TCP client (connects to the device). */
export class RtpReceiver {
  readonly packets: Buffer[] = [];
  port = 0;
  private udp: UdpSocket | undefined;
  private server: Server | undefined;
  private sock: TcpSocket | undefined;
  private pending = Buffer.alloc(0);

  static async udp(t: Test): Promise<RtpReceiver> {
    const r = new RtpReceiver();
    const s = createSocket('udp4');
    s.on('message', (b) => r.packets.push(b));
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
    r.udp = s;
    r.port = s.address().port;
    t.teardown(() => r.close());
    return r;
  }

  static async tcpListen(t: Test): Promise<RtpReceiver> {
    const r = new RtpReceiver();
    r.server = createServer((sock) => r.adopt(sock));
    await new Promise<void>((res) => r.server!.listen(0, '127.0.0.1', () => res()));
    r.port = (r.server.address() as { port: number }).port;
    t.teardown(() => r.close());
    return r;
  }

  static tcpConnect(t: Test, port: number): RtpReceiver {
    const r = new RtpReceiver();
    r.adopt(connect({ host: '127.0.0.1', port }));
    t.teardown(() => r.close());
    return r;
  }

  private adopt(sock: TcpSocket): void {
    this.sock = sock;
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => {
      this.pending = Buffer.concat([this.pending, d]);
      while (this.pending.length >= 2 && this.pending.length >= 2 + this.pending.readUInt16BE(0)) {
        const len = this.pending.readUInt16BE(0);
        this.packets.push(this.pending.subarray(2, 2 + len));
        this.pending = this.pending.subarray(2 + len);
      }
    });
  }

  /** markers seen = pictures (and audio packs) completed */
  get markers(): number {
    return this.packets.filter((p) => (p[1]! & 0x80) !== 0).length;
  }

  /** The RTP payloads in sequence order (loopback does not reorder; sorted anyway, modulo 2^16 from the first). */
  payload(): Buffer {
    if (this.packets.length === 0) return Buffer.alloc(0);
    const first = this.packets[0]!.readUInt16BE(2);
    const sorted = [...this.packets].sort((a, b) => ((a.readUInt16BE(2) - first) & 0xffff) - ((b.readUInt16BE(2) - first) & 0xffff));
    return Buffer.concat(sorted.map((p) => p.subarray(12)));
  }

  close(): void {
    this.udp?.close();
    this.sock?.destroy();
    this.server?.close();
  }
}

/** The device simulator's options for this peer: its address and transport, the test ids, no waiting keepalives. */
export function simOptions(peer: Peer, extra: Partial<SimDeviceOptions> = {}): SimDeviceOptions {
  return {
    server: { host: '127.0.0.1', port: peer.port },
    serverId: SERVER_ID,
    domain: DOMAIN,
    deviceId: DEVICE_ID,
    password: PASSWORD,
    transport: peer.o.protocol,
    keepaliveSeconds: 3600,
    transactionTimeoutMs: 5000,
    ...extra,
  };
}
