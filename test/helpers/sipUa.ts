// A small SIP user agent for the bridge's tests: a device that registers (digest, with or without
// qop), sends keepalives and MANSCDP messages, and answers the bridge's requests, over UDP or TCP on
// 127.0.0.1. Built on the `sip` package's parse/stringify and dgram/net only (not on the bridge's
// own transport), so it checks the bridge from outside. The full device simulator is sim/device.
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import iconv from 'iconv-lite';
import sip, { type Message, type Request, type Response } from 'sip';

export interface SipUaOptions {
  protocol: 'UDP' | 'TCP';
  server: { host: string; port: number };
  deviceId: string;
  domain: string;
  /** sent with X-GB-Ver (3.0 = GB/T 28181-2022) */
  gbVersion?: string;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const token = () => randomBytes(6).toString('hex');

type RequestListener = (rq: Request) => void;

export class SipUa {
  readonly options: SipUaOptions;
  #udp?: dgram.Socket;
  #tcp?: net.Socket;
  localPort = 0;
  #cseq = 1;
  readonly #waiting = new Map<string, (rs: Response) => void>();
  /** requests from the bridge, in order */
  readonly requests: Request[] = [];
  /** every response seen (for tests of retransmission) */
  readonly responses: Response[] = [];
  readonly #listeners: RequestListener[] = [];
  #tcpBuffer = Buffer.alloc(0);
  readonly callId = `${token()}@127.0.0.1`;
  readonly fromTag = token();

  private constructor(options: SipUaOptions) {
    this.options = options;
  }

  static async create(options: SipUaOptions): Promise<SipUa> {
    const ua = new SipUa(options);
    if (options.protocol === 'UDP') {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      s.on('message', (b) => ua.#onBytes(b));
      ua.#udp = s;
      ua.localPort = s.address().port;
    } else {
      const s = net.connect(options.server.port, options.server.host);
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('error', reject);
      });
      s.on('error', () => {});
      s.on('data', (chunk: Buffer) => ua.#onTcp(chunk));
      ua.#tcp = s;
      ua.localPort = s.localPort ?? 0;
    }
    return ua;
  }

  /** Calls `fn` for every request the bridge sends (after it is recorded). */
  onRequest(fn: RequestListener): void {
    this.#listeners.push(fn);
  }

  #onTcp(chunk: Buffer): void {
    this.#tcpBuffer = Buffer.concat([this.#tcpBuffer, chunk]);
    for (;;) {
      const end = this.#tcpBuffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.#tcpBuffer.subarray(0, end).toString('latin1');
      const len = Number(/content-length\s*:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (this.#tcpBuffer.length < end + 4 + len) return;
      const one = this.#tcpBuffer.subarray(0, end + 4 + len);
      this.#tcpBuffer = this.#tcpBuffer.subarray(end + 4 + len);
      this.#onBytes(one);
    }
  }

  #onBytes(b: Buffer): void {
    const m = sip.parse(b.toString('latin1'));
    if (!m) return;
    if (m.status) {
      const rs = m as Response;
      this.responses.push(rs);
      if (rs.status < 200) return;
      const key = `${rs.headers['call-id']}|${rs.headers.cseq?.seq}`;
      const w = this.#waiting.get(key);
      if (w) {
        this.#waiting.delete(key);
        w(rs);
      }
    } else {
      const rq = m as Request;
      this.requests.push(rq);
      for (const l of this.#listeners) l(rq);
    }
  }

  sendBytes(b: Buffer | string): void {
    const bytes = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
    if (this.#udp) this.#udp.send(bytes, this.options.server.port, this.options.server.host);
    else this.#tcp!.write(bytes);
  }

  send(m: Message): void {
    this.sendBytes(sip.stringify(m));
  }

  get via() {
    return { version: '2.0', protocol: this.options.protocol, host: '127.0.0.1', port: this.localPort, params: { branch: `z9hG4bK${token()}`, rport: null } };
  }

  /** A request from this device to the bridge. */
  request(method: string, extra: { headers?: Record<string, unknown>; content?: string; callId?: string; contentType?: string } = {}): Request {
    const { deviceId, domain, server } = this.options;
    return {
      method,
      uri: `sip:34020000002000000001@${server.host}:${server.port}`,
      version: '2.0',
      headers: {
        via: [this.via],
        from: { uri: `sip:${deviceId}@${domain}`, params: { tag: this.fromTag } },
        to: { uri: method === 'REGISTER' ? `sip:${deviceId}@${domain}` : `sip:34020000002000000001@${domain}`, params: {} },
        'call-id': extra.callId ?? (method === 'REGISTER' ? this.callId : `${token()}@127.0.0.1`),
        cseq: { seq: this.#cseq++, method },
        contact: [{ uri: `sip:${deviceId}@127.0.0.1:${this.localPort}`, params: {} }],
        'max-forwards': 70,
        ...(this.options.gbVersion ? { 'x-gb-ver': this.options.gbVersion } : {}),
        ...(extra.contentType ? { 'content-type': extra.contentType } : {}),
        ...(extra.headers ?? {}),
      },
      ...(extra.content !== undefined ? { content: extra.content } : {}),
    };
  }

  /** Sends a request and waits for its final response. */
  transact(rq: Request, ms = 5000): Promise<Response> {
    const key = `${rq.headers['call-id']}|${rq.headers.cseq.seq}`;
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        reject(new Error(`no answer to ${rq.method} within ${ms} ms`));
      }, ms);
      this.#waiting.set(key, (rs) => {
        clearTimeout(timer);
        resolve(rs);
      });
      this.send(rq);
    });
  }

  /**
   * REGISTER: first without credentials; on 401, again with digest (qop when offered and `qop`).
   * Returns every response: [401, final] or [final].
   */
  async register(password: string, options: { expires?: number; qop?: boolean; authenticate?: boolean } = {}): Promise<Response[]> {
    const expires = options.expires ?? 3600;
    const first = await this.transact(this.request('REGISTER', { headers: { expires } }));
    if (first.status !== 401 || options.authenticate === false) return [first];
    const second = await this.transact(this.authorized(first, password, expires, options.qop ?? true));
    return [first, second];
  }

  /** A REGISTER answering the challenge in `challenge`. */
  authorized(challenge: Response, password: string, expires: number, qop: boolean): Request {
    const auth = challenge.headers['www-authenticate'];
    const text = auth?.[0] ? sip.stringifyAuthHeader(auth[0]) : '';
    const param = (name: string) => new RegExp(`${name}="?([^",]+)"?`).exec(text)?.[1] ?? '';
    const realm = param('realm');
    const nonce = param('nonce');
    const uri = `sip:34020000002000000001@${this.options.domain}`;
    const ha1 = md5(`${this.options.deviceId}:${realm}:${password}`);
    const ha2 = md5(`REGISTER:${uri}`);
    const useQop = qop && /qop=/.test(text);
    const cnonce = token();
    const nc = '00000001';
    const response = useQop ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
    const header =
      `Digest username="${this.options.deviceId}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5` +
      (useQop ? `, qop=auth, nc=${nc}, cnonce="${cnonce}"` : '');
    return this.request('REGISTER', { headers: { expires, authorization: header } });
  }

  /** A MESSAGE with a MANSCDP body, encoded as `charset` (declared as `declared`, which may lie). */
  manscdp(xml: string, options: { charset?: 'gb18030' | 'utf8'; callId?: string } = {}): Request {
    const bytes = options.charset === 'utf8' ? Buffer.from(xml, 'utf8') : iconv.encode(xml, 'gb18030');
    return this.request('MESSAGE', { content: bytes.toString('latin1'), contentType: 'Application/MANSCDP+xml', ...(options.callId ? { callId: options.callId } : {}) });
  }

  keepalive(sn = 1): Promise<Response> {
    return this.transact(this.manscdp(xmlDoc('Notify', { CmdType: 'Keepalive', SN: sn, DeviceID: this.options.deviceId, Status: 'OK' })));
  }

  /** Answers a request from the bridge. */
  respond(rq: Request, status: number, reason: string, extra: { content?: string; contentType?: string; toTag?: string } = {}): void {
    const rs = sip.makeResponse(rq, status, reason, {
      headers: {
        to: { ...rq.headers.to, params: { ...rq.headers.to.params, tag: extra.toTag ?? token() } },
        ...(extra.contentType ? { 'content-type': extra.contentType } : {}),
        contact: [{ uri: `sip:${this.options.deviceId}@127.0.0.1:${this.localPort}`, params: {} }],
      },
      ...(extra.content !== undefined ? { content: extra.content } : {}),
    });
    this.send(rs);
  }

  /** Waits for a request from the bridge that `match` accepts (already received ones count). */
  async nextRequest(match: (rq: Request) => boolean, ms = 5000, from = 0): Promise<Request> {
    const end = Date.now() + ms;
    for (;;) {
      const found = this.requests.slice(from).find(match);
      if (found) return found;
      if (Date.now() > end) throw new Error('timed out waiting for a request from the bridge');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The text of a MANSCDP request body (decoded from GB18030). */
  static bodyOf(rq: Message): string {
    return iconv.decode(Buffer.from(rq.content ?? '', 'latin1'), 'gb18030');
  }

  async close(): Promise<void> {
    if (this.#udp) await new Promise<void>((r) => this.#udp!.close(() => r()));
    if (this.#tcp) this.#tcp.destroy();
  }
}

/** A MANSCDP document (values as they come; lists as repeated elements). */
export function xmlDoc(root: string, fields: Record<string, unknown>, encoding = 'GB2312'): string {
  const write = (name: string, v: unknown): string => {
    if (Array.isArray(v)) return v.map((x) => write(name, x)).join('');
    if (v && typeof v === 'object') {
      const attrs = Object.entries(v).filter(([k]) => k.startsWith('@')).map(([k, a]) => ` ${k.slice(1)}="${String(a)}"`).join('');
      const inner = Object.entries(v).filter(([k]) => !k.startsWith('@')).map(([k, x]) => write(k, x)).join('');
      return `<${name}${attrs}>${inner}</${name}>`;
    }
    return `<${name}>${String(v)}</${name}>`;
  };
  return `<?xml version="1.0" encoding="${encoding}"?>\r\n<${root}>${Object.entries(fields).map(([k, v]) => write(k, v)).join('')}</${root}>\r\n`;
}
