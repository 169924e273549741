// A GB/T 28181 device (an NVR or an IPC with channels) written from the standard, as a test peer
// for the bridge and a tool for integrators: it registers with digest, keeps alive, answers
// Catalog / DeviceInfo / DeviceStatus queries with 200 then response MESSAGEs, sends Alarm and
// MobilePosition notifies, and answers a live INVITE with a PS/RTP stream over UDP, TCP active or
// TCP passive. Knobs (SimDeviceKnobs) make it misbehave as real devices do.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import sip from 'sip';
import type { Message, NameAddr } from 'sip';
import type { Logger } from '../../src/log.ts';
import { SimOptionsInvalid } from '../errors.ts';
import { loadClip, loadSubClip, type Clip } from './clip.ts';
import { answerChallenge, formatAuthorization, parseChallenge, type DigestChallenge } from './digest.ts';
import { SimDeviceRegister, SimDeviceSocket } from './errors.ts';
import { declaredAndActual, el, encodeBody, gbTime, readManscdp, xmlDocument, type ManscdpRequest, type XmlNode } from './manscdp.ts';
import { MediaSession } from './MediaSession.ts';
import { answerSdp, readOffer } from './sdp.ts';
import { SipTransport } from './sipTransport.ts';
import type { SimChannel, SimDeviceEvents, SimDeviceOptions } from './SimDeviceTypes.ts';

const CHANNEL_NAMES = ['主井口', '副井口', '运输皮带', '调度室'];
const MANSCDP = 'Application/MANSCDP+xml';
const T1 = 500;

interface Pending {
  resolve: (rs: Message) => void;
  timer: NodeJS.Timeout;
  retransmit?: NodeJS.Timeout;
}

interface Dialog {
  callId: string;
  channelId: string;
  /** our tag (To of the INVITE) and theirs (From) */
  localTag: string;
  remote: NameAddr;
  local: NameAddr;
  /** where in-dialog requests go: the INVITE's Contact */
  target: string;
  cseq: number;
  session: MediaSession;
  okText: string;
  okTimer?: NodeJS.Timeout;
  byeTimer?: NodeJS.Timeout;
  acked: boolean;
}

/** Default channels: ids from the device id (type 131, camera), Chinese names a mine uses. */
export function defaultChannels(deviceId: string, count: number): SimChannel[] {
  const base = Number(deviceId.slice(13));
  return Array.from({ length: count }, (_, i) => ({
    id: `${deviceId.slice(0, 10)}131${String((base + i + 1) % 1e7).padStart(7, '0')}`,
    name: CHANNEL_NAMES[i] ?? `通道${i + 1}`,
    status: 'ON' as const,
  }));
}

const tag = (): string => randomBytes(6).toString('hex');
const branch = (): string => `z9hG4bK${randomBytes(8).toString('hex')}`;
const unq = (s: string | undefined): string | undefined => (s && s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

function check(o: SimDeviceOptions): void {
  const bad = (field: string, rule: string): never => {
    throw SimOptionsInvalid(`${field}: ${rule}`, { field });
  };
  if (!/^\d{20}$/.test(o.deviceId)) bad('id', `the device id must be 20 digits, got ${JSON.stringify(o.deviceId)}`);
  if (!/^\d{20}$/.test(o.serverId)) bad('server-id', `the server id must be 20 digits, got ${JSON.stringify(o.serverId)}`);
  if (!/^[0-9A-Za-z.-]{1,64}$/.test(o.domain)) bad('domain', `the domain is 10 digits (the server id's first 10) or a host, got ${JSON.stringify(o.domain)}`);
  for (const c of o.channels ?? []) if (!/^\d{20}$/.test(c.id)) bad('channels', `channel id ${JSON.stringify(c.id)} is not 20 digits`);
  if (o.catalogPageSize !== undefined && !(o.catalogPageSize >= 1)) bad('page-size', 'must be at least 1');
}

export class SimDevice extends EventEmitter<SimDeviceEvents> {
  readonly channels: SimChannel[];
  /** the server's Date from the last 200 to REGISTER, as written */
  serverDate: string | undefined;
  registered = false;
  readonly counters = { registers: 0, keepalives: 0, keepaliveFailures: 0, catalogPages: 0, invites: 0, garbage: 0 };
  private readonly o: Required<Pick<SimDeviceOptions, 'transport' | 'localHost' | 'expires' | 'keepaliveSeconds' | 'catalogPageSize' | 'charset' | 'version' | 'codec' | 'fps' | 'transactionTimeoutMs'>> & SimDeviceOptions;
  private readonly sip: SipTransport;
  private readonly log: Logger | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly dialogs = new Map<string, Dialog>();
  private readonly registerCallId = `${randomBytes(10).toString('hex')}`;
  private readonly fromTag = tag();
  private cseq = 1;
  private sn = 1;
  private challenge: DigestChallenge | undefined;
  private nc = 0;
  private reregisterTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private clip: Promise<Clip> | undefined;
  private subClip: Promise<Clip> | undefined;
  /** set when close() starts: no timer is armed after it */
  private closing = false;

  constructor(options: SimDeviceOptions) {
    super();
    check(options);
    this.o = {
      transport: 'udp',
      localHost: '127.0.0.1',
      expires: 3600,
      keepaliveSeconds: 60,
      catalogPageSize: 2,
      charset: 'GB2312',
      version: '2016',
      codec: 'h264',
      fps: 25,
      transactionTimeoutMs: 32_000,
      ...options,
    };
    this.log = options.log;
    this.channels = options.channels ?? defaultChannels(options.deviceId, options.channelCount ?? 4);
    this.sip = new SipTransport({ protocol: this.o.transport, server: options.server, localHost: this.o.localHost, localPort: options.localPort ?? 0 });
    this.sip.on('message', (m) => this.onMessage(m));
    this.sip.on('garbage', (why) => {
      this.counters.garbage++;
      this.emit('rejected', { what: why });
    });
    this.sip.on('error', (err) => this.log?.warn({ err: err.message }, 'SIP socket error'));
  }

  /** Creates, opens and registers a device; rejects with ESEAL_ERR_SIMDEV_REGISTER when the server refuses. */
  static async start(options: SimDeviceOptions): Promise<SimDevice> {
    const d = new SimDevice(options);
    try {
      await d.open();
      await d.register();
    } catch (err) {
      await d.close({ unregister: false });
      throw err;
    }
    return d;
  }

  /** the local SIP address (changes on rebind) */
  get local(): { host: string; port: number } {
    return this.sip.local;
  }

  async open(): Promise<void> {
    try {
      await this.sip.open();
    } catch (err) {
      const where = this.o.transport === 'udp' ? `bind UDP ${this.o.localHost}:${this.o.localPort ?? 0}` : `connect over TCP to ${this.o.server.host}:${this.o.server.port}`;
      throw SimDeviceSocket(`cannot ${where}: ${(err as Error).message}`, { field: 'local', cause: err });
    }
  }

  /**
   * Makes or reads the clip now (else the first INVITE does); rejects with ESEAL_ERR_SIMDEV_CLIP.
   * `stream` 1: the sub stream's clip (half the size), what an INVITE with a=streamnumber:1 gets.
   */
  prepareMedia(stream: 0 | 1 = 0): Promise<Clip> {
    if (stream === 1) {
      if (!this.subClip) {
        this.subClip = loadSubClip(this.o.media, this.o.codec, this.o.fps);
        this.subClip.catch((err: Error) => {
          this.log?.error({ err: err.message }, 'no sub stream clip: INVITEs for it will be answered 500');
          this.subClip = undefined;
        });
      }
      return this.subClip;
    }
    if (!this.clip) {
      this.clip = loadClip(this.o.media, this.o.codec, this.o.fps);
      this.clip.catch((err: Error) => {
        this.log?.error({ err: err.message }, 'no clip: INVITEs will be answered 500');
        this.clip = undefined; // the next INVITE tries again
      });
    }
    return this.clip;
  }

  // ---- requests the device sends ----------------------------------------------------------

  private get serverUri(): string {
    return `sip:${this.o.serverId}@${this.o.domain}`;
  }

  private viaAndContact(): { via: string; contact: string } {
    const proto = this.sip.protocol.toUpperCase();
    return {
      via: `SIP/2.0/${proto} ${this.local.host}:${this.local.port};rport;branch=${branch()}`,
      contact: `<sip:${this.o.deviceId}@${this.local.host}:${this.local.port}>`,
    };
  }

  /** Sends a request and resolves with its final response (a synthetic 408 when none comes). */
  private request(p: {
    method: string;
    uri: string;
    to: string;
    from?: string;
    callId?: string;
    cseq?: number;
    headers?: Record<string, string>;
    body?: Buffer;
    contentType?: string;
  }): Promise<Message> {
    const { via, contact } = this.viaAndContact();
    const callId = p.callId ?? randomBytes(10).toString('hex');
    const cseq = p.cseq ?? this.cseq++;
    const lines = [
      `${p.method} ${p.uri} SIP/2.0`,
      `Via: ${via}`,
      `From: ${p.from ?? `<sip:${this.o.deviceId}@${this.o.domain}>;tag=${tag()}`}`,
      `To: ${p.to}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${p.method}`,
      `Contact: ${contact}`,
      'Max-Forwards: 70',
      'User-Agent: eseal-sim-device',
      ...(this.o.version === '2022' ? ['X-GB-Ver: 3.0'] : []),
      ...Object.entries(p.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    ];
    if (p.body) lines.push(`Content-Type: ${p.contentType ?? MANSCDP}`);
    lines.push(`Content-Length: ${p.body?.length ?? 0}`, '', '');
    const text = lines.join('\r\n') + (p.body ? p.body.toString('latin1') : '');
    const key = `${callId} ${cseq} ${p.method}`;
    return new Promise<Message>((resolve) => {
      const settle = (rs: Message): void => {
        const e = this.pending.get(key);
        if (!e) return;
        clearTimeout(e.timer);
        clearTimeout(e.retransmit);
        this.pending.delete(key);
        resolve(rs);
      };
      const entry: Pending = {
        resolve: settle,
        timer: setTimeout(() => settle({ status: 408, reason: 'Request Timeout (no answer)', headers: {} as Message['headers'] }), this.o.transactionTimeoutMs),
      };
      this.pending.set(key, entry);
      const send = (interval: number): void => {
        void this.sip.send(text).catch((err: Error) => settle({ status: 503, reason: `cannot send: ${err.message}`, headers: {} as Message['headers'] }));
        if (this.sip.protocol === 'udp') entry.retransmit = setTimeout(() => this.pending.has(key) && send(Math.min(interval * 2, 4000)), interval);
      };
      send(T1);
    });
  }

  private authorization(method: string, uri: string): Record<string, string> {
    if (!this.challenge) return {};
    const password = this.o.wrongPassword ? `${this.o.password}-wrong` : this.o.password;
    const a = answerChallenge(this.challenge, this.o.deviceId, password, method, uri, ++this.nc);
    return { Authorization: formatAuthorization(a) };
  }

  private takeChallenge(rs: Message): boolean {
    const h = rs.headers['www-authenticate']?.[0];
    if (!h) return false;
    const text = `Digest ${Object.entries(h)
      .filter(([k, v]) => k !== 'scheme' && v !== undefined)
      .map(([k, v]) => `${k}="${unq(v as string)}"`)
      .join(', ')}`;
    const c = parseChallenge(text);
    if (!c) return false;
    this.challenge = c;
    this.nc = 0;
    return true;
  }

  private async sendRegister(expires: number): Promise<Message> {
    const to = `<sip:${this.o.deviceId}@${this.o.domain}>`;
    let rs: Message | undefined;
    // at most: the stored challenge (may be stale) → a fresh 401 → the answer to it
    for (let attempt = 0; attempt < 3; attempt++) {
      this.counters.registers++;
      rs = await this.request({
        method: 'REGISTER',
        uri: this.serverUri,
        to,
        from: `${to};tag=${this.fromTag}`,
        callId: this.registerCallId,
        headers: { Expires: String(expires), ...this.authorization('REGISTER', this.serverUri) },
      });
      if (rs.status !== 401 && rs.status !== 407) return rs;
      const hadChallenge = this.challenge !== undefined;
      const nonceBefore = this.challenge?.nonce;
      if (!this.takeChallenge(rs)) return rs;
      // a second 401 with the same nonce after answering it: the password is wrong
      if (hadChallenge && attempt > 0 && nonceBefore === this.challenge?.nonce) return rs;
    }
    return rs!;
  }

  /** REGISTER with digest; resolves once registered, rejects (ESEAL_ERR_SIMDEV_REGISTER) on refusal. */
  async register(): Promise<void> {
    const rs = await this.sendRegister(this.o.expires);
    if (rs.status !== 200) {
      this.registered = false;
      this.emit('registerFailed', { status: rs.status ?? 0, reason: rs.reason ?? '' });
      this.log?.warn({ status: rs.status, reason: rs.reason }, 'REGISTER refused');
      throw SimDeviceRegister(`the server answered REGISTER with ${rs.status} ${rs.reason ?? ''}`.trim(), { detail: { status: rs.status } });
    }
    const granted = this.grantedExpires(rs);
    const date = rs.headers['date'];
    this.serverDate = typeof date === 'string' ? date : undefined;
    this.registered = true;
    this.log?.info({ expires: granted, serverDate: this.serverDate, local: this.local }, 'registered');
    this.emit('registered', { expires: granted, ...(this.serverDate ? { serverDate: this.serverDate } : {}) });
    clearTimeout(this.reregisterTimer);
    if (this.closing) return;
    this.reregisterTimer = setTimeout(() => this.reregister(), Math.max(1, granted * 0.8) * 1000);
    this.scheduleKeepalive(true);
  }

  private grantedExpires(rs: Message): number {
    const contact = rs.headers.contact;
    const fromContact = Array.isArray(contact) ? Number(contact[0]?.params?.['expires']) : NaN;
    const header = Number(rs.headers.expires);
    const v = Number.isFinite(fromContact) ? fromContact : Number.isFinite(header) ? header : this.o.expires;
    return v > 0 ? v : this.o.expires;
  }

  private reregister(): void {
    if (this.closing) return;
    this.register().catch((err: Error) => {
      this.log?.warn({ err: err.message }, 're-REGISTER failed; trying again in 10 s');
      if (!this.closing) this.reregisterTimer = setTimeout(() => this.reregister(), 10_000);
    });
  }

  /** REGISTER with Expires: 0. */
  async unregister(): Promise<number> {
    clearTimeout(this.reregisterTimer);
    clearTimeout(this.keepaliveTimer);
    const rs = await this.sendRegister(0);
    this.registered = false;
    this.log?.info({ status: rs.status }, 'unregistered');
    this.emit('unregistered');
    return rs.status ?? 0;
  }

  private scheduleKeepalive(now = false): void {
    clearTimeout(this.keepaliveTimer);
    if (this.o.noKeepalive || this.closing) return;
    this.keepaliveTimer = setTimeout(() => void this.keepalive().finally(() => this.scheduleKeepalive()), now ? 0 : this.o.keepaliveSeconds * 1000);
  }

  /** One keepalive MESSAGE now; three failures in a row re-register (the standard's rule). */
  async keepalive(): Promise<number> {
    const status = await this.sendManscdp('Notify', 'Keepalive', [el('Status', 'OK')]);
    this.counters.keepalives++;
    if (status === 200) this.counters.keepaliveFailures = 0;
    else if (++this.counters.keepaliveFailures >= 3) {
      this.counters.keepaliveFailures = 0;
      this.reregister();
    }
    this.emit('keepalive', { status });
    return status;
  }

  /** A MANSCDP MESSAGE to the server; resolves with the response status. */
  private async sendManscdp(root: string, cmdType: string, fields: XmlNode[], sn = String(this.sn++)): Promise<number> {
    const { declared, actual } = declaredAndActual(this.o.charset, this.o.charsetLie ?? 'none');
    const xml = xmlDocument(root, [el('CmdType', cmdType), el('SN', sn), el('DeviceID', this.o.deviceId), ...fields], declared);
    const rs = await this.request({ method: 'MESSAGE', uri: this.serverUri, to: `<${this.serverUri}>`, body: encodeBody(xml, actual) });
    return rs.status ?? 0;
  }

  /** An Alarm notify (§9.4); resolves with the server's status. */
  sendAlarm(a: { channelId?: string; priority?: number; method?: number; type?: number; description?: string; longitude?: number; latitude?: number } = {}): Promise<number> {
    const fields = [
      el('AlarmPriority', a.priority ?? 1),
      el('AlarmMethod', a.method ?? 5),
      el('AlarmTime', gbTime()),
      el('AlarmDescription', a.description ?? '视频报警'),
      el('Longitude', a.longitude ?? 0),
      el('Latitude', a.latitude ?? 0),
    ];
    if (a.type !== undefined) fields.push(el('Info', [el('AlarmType', a.type)]));
    return this.sendNotifyAs(a.channelId ?? this.channels[0]?.id ?? this.o.deviceId, 'Alarm', fields);
  }

  /** A MobilePosition notify (§9.11). */
  sendMobilePosition(p: { longitude: number; latitude: number; speed?: number; direction?: number; altitude?: number }): Promise<number> {
    return this.sendNotifyAs(this.o.deviceId, 'MobilePosition', [
      el('Time', gbTime()),
      el('Longitude', p.longitude),
      el('Latitude', p.latitude),
      el('Speed', p.speed ?? 0),
      el('Direction', p.direction ?? 0),
      el('Altitude', p.altitude ?? 0),
    ]);
  }

  private async sendNotifyAs(deviceId: string, cmdType: string, fields: XmlNode[]): Promise<number> {
    const { declared, actual } = declaredAndActual(this.o.charset, this.o.charsetLie ?? 'none');
    const xml = xmlDocument('Notify', [el('CmdType', cmdType), el('SN', this.sn++), el('DeviceID', deviceId), ...fields], declared);
    const rs = await this.request({ method: 'MESSAGE', uri: this.serverUri, to: `<${this.serverUri}>`, body: encodeBody(xml, actual) });
    return rs.status ?? 0;
  }

  /** Moves SIP to a new local port (NAT rebinding) and sends a keepalive from it; resolves with its status. */
  async rebind(): Promise<number> {
    const before = this.local.port;
    await this.sip.rebind();
    this.log?.info({ from: before, to: this.local.port }, 'SIP source port changed (NAT rebinding)');
    return this.keepalive();
  }

  // ---- requests the device receives ------------------------------------------------------

  private onMessage(m: Message): void {
    try {
      if (m.status !== undefined) return this.onResponse(m);
      switch (m.method) {
        case 'MESSAGE':
          return this.onMessageRequest(m);
        case 'INVITE':
          return void this.onInvite(m).catch((err: Error) => {
            this.log?.error({ err: err.message }, 'INVITE failed');
            this.respond(m, 500, 'Server Internal Error');
          });
        case 'ACK':
          return this.onAck(m);
        case 'BYE':
          return this.onBye(m);
        case 'CANCEL':
          return this.onCancel(m);
        case 'OPTIONS':
          return void this.respond(m, 200, 'OK');
        default:
          return void this.respond(m, 501, 'Not Implemented');
      }
    } catch (err) {
      this.log?.error({ err: (err as Error).message }, 'a SIP message could not be handled');
      if (m.method && m.method !== 'ACK') this.respond(m, 500, 'Server Internal Error');
    }
  }

  private onResponse(rs: Message): void {
    if ((rs.status ?? 0) < 200) return;
    const key = `${rs.headers['call-id']} ${rs.headers.cseq.seq} ${rs.headers.cseq.method}`;
    this.pending.get(key)?.resolve(rs);
  }

  private respond(rq: Message, status: number, reason: string, extra: { headers?: Record<string, unknown>; body?: string; toTag?: string } = {}): string {
    const rs = sip.makeResponse(rq as Parameters<typeof sip.makeResponse>[0], status, reason);
    if (extra.toTag && !rs.headers.to.params['tag']) rs.headers.to = { ...rs.headers.to, params: { ...rs.headers.to.params, tag: extra.toTag } };
    rs.headers['user-agent'] = 'eseal-sim-device';
    Object.assign(rs.headers, extra.headers ?? {});
    if (extra.body !== undefined) rs.content = extra.body;
    const text = sip.stringify(rs);
    void this.sip.send(text).catch(() => {});
    return text;
  }

  private onMessageRequest(rq: Message): void {
    const q = readManscdp(Buffer.from(rq.content ?? '', 'latin1'));
    if (!q) {
      this.emit('rejected', { what: 'a MESSAGE body that is not MANSCDP XML', status: 400 });
      return void this.respond(rq, 400, 'Bad Request');
    }
    if (q.root !== 'Query') {
      // Control and Notify to the device: acknowledged, nothing more to do for a simulator
      return void this.respond(rq, 200, 'OK');
    }
    this.respond(rq, 200, 'OK');
    this.emit('query', { cmdType: q.cmdType, sn: q.sn });
    this.log?.info({ cmdType: q.cmdType, sn: q.sn }, 'query');
    // the answer goes in new MESSAGE requests, after the 200 (§9.5.2)
    setImmediate(() => void this.answerQuery(q).catch((err: Error) => this.log?.warn({ err: err.message }, 'answering a query failed')));
  }

  private async answerQuery(q: ManscdpRequest): Promise<void> {
    switch (q.cmdType) {
      case 'Catalog':
        return this.sendCatalog(q.sn);
      case 'DeviceInfo':
        await this.sendManscdp('Response', 'DeviceInfo', [
          el('DeviceName', 'eseal 模拟设备'),
          el('Result', 'OK'),
          el('Manufacturer', 'eseal-sim'),
          el('Model', 'SIM-NVR'),
          el('Firmware', `GB/T 28181-${this.o.version}`),
          el('Channel', this.channels.length),
        ], q.sn);
        return;
      case 'DeviceStatus':
        await this.sendManscdp('Response', 'DeviceStatus', [
          el('Result', 'OK'),
          el('Online', 'ONLINE'),
          el('Status', 'OK'),
          el('Encode', 'ON'),
          el('Record', 'OFF'),
          el('DeviceTime', gbTime()),
          el('Alarmstatus', [], { Num: 0 }),
        ], q.sn);
        return;
      default:
        this.log?.info({ cmdType: q.cmdType }, 'query not simulated: answered 200 only');
    }
  }

  private catalogItem(c: SimChannel): XmlNode {
    const fields: XmlNode[] = [
      el('DeviceID', c.id),
      el('Name', c.name),
      el('Manufacturer', 'eseal-sim'),
      el('Model', 'SIM-IPC'),
      el('Owner', 'Owner'),
      el('CivilCode', this.o.domain.slice(0, 6)),
      el('Address', c.name),
      el('Parental', 0),
      el('ParentID', this.o.deviceId),
      el('SafetyWay', 0),
      el('RegisterWay', 1),
      el('Secrecy', 0),
      el('Status', c.status ?? 'ON'),
    ];
    if (this.o.version === '2022') {
      // GB/T 28181-2022 Annex A: the camera's attributes in an <Info> block
      fields.push(el('Info', [el('PTZType', 3), el('Resolution', '6/4'), el('StreamNumberList', '0/1'), el('DownloadSpeed', '1/2/4'), el('SVCSpaceSupportMode', 0), el('SVCTimeSupportMode', 0)]));
    }
    return el('Item', fields);
  }

  /** The catalog in pages of catalogPageSize, in the knob's order, with the knob's duplicate. */
  async sendCatalog(sn: string): Promise<void> {
    const size = this.o.catalogPageSize;
    const pages: SimChannel[][] = [];
    for (let i = 0; i < this.channels.length; i += size) pages.push(this.channels.slice(i, i + size));
    if (pages.length === 0) pages.push([]);
    let order = pages.map((_, i) => i);
    if (this.o.catalogOrder === 'reversed') order.reverse();
    else if (this.o.catalogOrder === 'shuffled') order = order.map((i) => ({ i, r: Math.random() })).sort((a, b) => a.r - b.r).map((x) => x.i);
    if (this.o.catalogDuplicate) order.push(order[0]!);
    for (const i of order) {
      const page = pages[i]!;
      await this.sendManscdp('Response', 'Catalog', [el('SumNum', this.channels.length), el('DeviceList', page.map((c) => this.catalogItem(c)), { Num: page.length })], sn);
      this.counters.catalogPages++;
    }
    this.emit('catalogSent', { sn, pages: order.length, sumNum: this.channels.length });
  }

  private async onInvite(rq: Message): Promise<void> {
    const callId = rq.headers['call-id'];
    const existing = this.dialogs.get(callId);
    if (existing) {
      // a retransmitted INVITE: the same 200 again
      return void this.sip.send(existing.okText).catch(() => {});
    }
    this.counters.invites++;
    const uri = typeof rq.uri === 'string' ? rq.uri : sip.stringifyUri(rq.uri!);
    const subject = String(rq.headers['subject'] ?? '');
    const channelId = /^sips?:(\d{20})@/.exec(uri)?.[1] ?? /^(\d{20}):/.exec(subject)?.[1] ?? '';
    const channel = this.channels.find((c) => c.id === channelId) ?? (channelId === this.o.deviceId ? this.channels[0] : undefined);
    if (!channel) {
      this.emit('rejected', { what: `INVITE for an unknown channel ${channelId || uri}`, status: 404 });
      return void this.respond(rq, 404, 'Not Found');
    }
    const offer = readOffer(rq.content ?? '');
    if (typeof offer === 'string') {
      this.emit('rejected', { what: `INVITE SDP: ${offer}`, status: 488 });
      return void this.respond(rq, 488, 'Not Acceptable Here', { headers: { warning: `399 eseal-sim "${offer}"` } });
    }
    this.respond(rq, 100, 'Trying');
    // two encodings, as most cameras: the main stream and a half-size sub stream; a stream number
    // it does not have gets the main stream (the answer's a=streamnumber says which it serves)
    const stream = offer.stream === 1 ? 1 : 0;
    const clip = await this.prepareMedia(stream);
    const ssrc = this.chooseSsrc(offer.ssrc);
    const session = new MediaSession({
      clip,
      offer,
      ssrc: Number(ssrc) >>> 0,
      localHost: this.o.localHost,
      ps: { codec: clip.codec, psm: !this.o.noPsm, privateStream: !!this.o.privateStream, audio: !!this.o.audio, maxPesPayload: this.o.pesSplit ? 2000 : 65000 },
      ...(this.o.pesSplit ? { rtpPayloadSize: 997 } : {}),
    });
    session.on('error', (err) => this.log?.warn({ err: err.message, callId }, 'media socket error'));
    await session.prepare();
    if (this.closing) {
      session.stop('the device is closing');
      return void this.respond(rq, 503, 'Service Unavailable');
    }
    const localTag = tag();
    const body = answerSdp({ channelId: channel.id, address: this.o.localHost, port: session.localPort, transport: offer.transport, ssrc, session: offer.session, codec: clip.codec, stream });
    const { contact } = this.viaAndContact();
    const okText = this.respond(rq, 200, 'OK', { toTag: localTag, headers: { contact: [{ uri: contact.slice(1, -1), params: {} }], 'content-type': 'APPLICATION/SDP' }, body });
    const from = rq.headers.from;
    const to = { ...rq.headers.to, params: { ...rq.headers.to.params, tag: localTag } };
    const inviteContact = Array.isArray(rq.headers.contact) ? rq.headers.contact[0] : undefined;
    const target = inviteContact ? (typeof inviteContact.uri === 'string' ? inviteContact.uri : sip.stringifyUri(inviteContact.uri)) : this.serverUri;
    const dialog: Dialog = { callId, channelId: channel.id, localTag, remote: from, local: to, target, cseq: 1, session, okText, acked: false };
    this.dialogs.set(callId, dialog);
    session.once('stopped', (why) => {
      this.log?.info({ callId, why }, 'stream stopped');
    });
    session.once('connected', () => this.emit('streaming', { callId, channelId: channel.id }));
    // over UDP the 200 is repeated until the ACK comes (RFC 3261 §13.3.1.4)
    if (this.sip.protocol === 'udp') {
      let interval = T1;
      const again = (): void => {
        if (dialog.acked || session.stopped) return;
        void this.sip.send(okText).catch(() => {});
        interval = Math.min(interval * 2, 4000);
        dialog.okTimer = setTimeout(again, interval);
      };
      dialog.okTimer = setTimeout(again, interval);
    }
    this.log?.info({ callId, channel: channel.id, transport: offer.transport, to: `${offer.address}:${offer.port}`, ssrc, offeredSsrc: offer.ssrc, stream }, 'INVITE answered');
    this.emit('invite', { callId, channelId: channel.id, offer, ssrc, transport: offer.transport, stream });
  }

  private chooseSsrc(offered: string | undefined): string {
    if (offered !== undefined && !this.o.ignoreSsrc) return offered;
    // the standard's form: 0 (live), domain digits 4–8, 4 random digits; never the offered one
    for (;;) {
      const s = `0${this.o.domain.padEnd(8, '0').slice(3, 8)}${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
      if (s !== offered) return s;
    }
  }

  private onAck(rq: Message): void {
    const d = this.dialogs.get(rq.headers['call-id']);
    if (!d || d.acked) return;
    d.acked = true;
    clearTimeout(d.okTimer);
    if (this.o.noMedia) return void this.log?.info({ callId: d.callId }, 'ACK: no media (knob noMedia)');
    d.session.start();
    if (d.session.transport === 'udp') this.emit('streaming', { callId: d.callId, channelId: d.channelId });
    if (this.o.byeAfterSeconds !== undefined) d.byeTimer = setTimeout(() => void this.bye(d.callId), this.o.byeAfterSeconds * 1000);
  }

  private onBye(rq: Message): void {
    const callId = rq.headers['call-id'];
    const d = this.dialogs.get(callId);
    if (!d) return void this.respond(rq, 481, 'Call/Transaction Does Not Exist');
    this.respond(rq, 200, 'OK');
    this.endDialog(d, 'BYE from the server');
    this.emit('bye', { callId, by: 'server' });
  }

  private onCancel(rq: Message): void {
    const d = this.dialogs.get(rq.headers['call-id']);
    this.respond(rq, d ? 200 : 481, d ? 'OK' : 'Call/Transaction Does Not Exist');
    // the INVITE was answered at once, so a CANCEL always comes too late: the dialog stays (RFC 3261 §9.2)
  }

  private endDialog(d: Dialog, why: string): void {
    clearTimeout(d.okTimer);
    clearTimeout(d.byeTimer);
    d.session.stop(why);
    this.dialogs.delete(d.callId);
  }

  /** The device hangs up a stream; resolves with the server's status. */
  async bye(callId: string): Promise<number> {
    const d = this.dialogs.get(callId);
    if (!d) return 481;
    this.endDialog(d, 'the device hung up');
    this.emit('bye', { callId, by: 'device' });
    const addr = (n: NameAddr): string => {
      const uri = typeof n.uri === 'string' ? n.uri : sip.stringifyUri(n.uri);
      const params = Object.entries(n.params).map(([k, v]) => (v === null || v === undefined ? `;${k}` : `;${k}=${v}`)).join('');
      return `<${uri}>${params}`;
    };
    const rs = await this.request({ method: 'BYE', uri: d.target, to: addr(d.remote), from: addr(d.local), callId, cseq: ++d.cseq });
    return rs.status ?? 0;
  }

  /** Call-IDs of the live streams. */
  get streams(): string[] {
    return [...this.dialogs.keys()];
  }

  /** Stats of one stream. */
  streamStats(callId: string): MediaSession['stats'] | undefined {
    return this.dialogs.get(callId)?.session.stats;
  }

  /** Stops the streams, unregisters (unless told not to, or never registered), closes the socket. */
  async close(o: { unregister?: boolean } = {}): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const d of [...this.dialogs.values()]) this.endDialog(d, 'the device is closing');
    clearTimeout(this.reregisterTimer);
    clearTimeout(this.keepaliveTimer);
    if (o.unregister !== false && this.registered) {
      const timeoutBefore = this.o.transactionTimeoutMs;
      this.o.transactionTimeoutMs = Math.min(timeoutBefore, 4000);
      await this.unregister().catch(() => 0);
    }
    clearTimeout(this.reregisterTimer);
    clearTimeout(this.keepaliveTimer);
    for (const p of this.pending.values()) p.resolve({ status: 503, reason: 'closed', headers: {} as Message['headers'] });
    this.sip.close();
    await this.clip?.catch(() => undefined);
    await this.subClip?.catch(() => undefined);
  }
}
