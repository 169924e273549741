// Requests the bridge sends to devices (the outgoing side, apart from the processors that answer
// theirs): MANSCDP queries and notifications in MESSAGE, and the request shape INVITE and BYE share.
// Requests go to where the device last registered from, over its own TCP connection when it uses TCP.
import { buildXml, type XmlFields } from '../../src/gb28181/manscdp.ts';
import { encodeBody, bytesToLatin1 } from '../../src/gb28181/charset.ts';
import { GbOffline, GbUnknownDevice, SipUnreachable } from '../errors.ts';
import type { DeviceRecord } from '../registry/DeviceStore.ts';
import { remoteOf, type Registry } from '../registry/Registry.ts';
import type { SipEndpoint } from '../sip/SipEndpoint.ts';
import { randomToken, type Remote, type Request, type Response } from '../sip/SipMessage.ts';
import { QueryWaiters } from './QueryWaiters.ts';

export const MANSCDP_TYPE = 'Application/MANSCDP+xml';
export const USER_AGENT = 'eseal-gb28181';

export interface CommanderOptions {
  serverId: string;
  domain: string;
  /** ms a query waits for its answer MESSAGE (catalogs of many pages take longer: see queryCatalog) */
  queryTimeoutMs: number;
}

export class Commander {
  readonly endpoint: SipEndpoint;
  readonly registry: Registry;
  readonly waiters = new QueryWaiters();
  readonly options: CommanderOptions;
  #sn = Math.floor(Math.random() * 100_000);
  #cseq = 1;

  constructor(endpoint: SipEndpoint, registry: Registry, options: CommanderOptions) {
    this.endpoint = endpoint;
    this.registry = registry;
    this.options = options;
  }

  nextSn(): number {
    this.#sn = (this.#sn % 999_999) + 1;
    return this.#sn;
  }

  nextCseq(): number {
    this.#cseq = (this.#cseq % 2_000_000_000) + 1;
    return this.#cseq;
  }

  /** The device, online and reachable, or a coded error. */
  reachable(deviceId: string): { device: DeviceRecord; remote: Remote } {
    const device = this.registry.get(deviceId);
    if (!device) throw GbUnknownDevice(`device ${deviceId} has never registered`, { field: 'deviceId' });
    if (!device.online) throw GbOffline(`device ${deviceId} is offline`, { field: 'deviceId' });
    const remote = remoteOf(device);
    if (!this.endpoint.reachable(remote)) throw SipUnreachable(`device ${deviceId}: its TCP connection is closed`);
    return { device, remote };
  }

  /** A request from the bridge to `target` (a device or one of its channels) at `remote`. */
  makeRequest(method: string, targetId: string, remote: Remote, extra: { callId?: string; fromTag?: string; toTag?: string; cseq?: number; contentType?: string; content?: string; subject?: string } = {}): Request {
    const { serverId, domain } = this.options;
    const transport = remote.protocol === 'TCP' ? ';transport=tcp' : '';
    const rq: Request = {
      method,
      uri: `sip:${targetId}@${remote.address}:${remote.port}${transport}`,
      version: '2.0',
      headers: {
        via: [],
        to: { uri: `sip:${targetId}@${domain}`, params: extra.toTag ? { tag: extra.toTag } : {} },
        from: { uri: `sip:${serverId}@${domain}`, params: { tag: extra.fromTag ?? randomToken(6) } },
        'call-id': extra.callId ?? `${randomToken(12)}@${this.endpoint.publicHost}`,
        cseq: { seq: extra.cseq ?? this.nextCseq(), method },
        'max-forwards': 70,
        contact: [{ uri: `sip:${serverId}@${this.endpoint.publicHost}:${remote.protocol === 'TCP' ? this.endpoint.tcpPort : this.endpoint.udpPort}`, params: {} }],
        'user-agent': USER_AGENT,
      },
    };
    if (extra.subject) rq.headers['subject'] = extra.subject;
    if (extra.contentType) rq.headers['content-type'] = extra.contentType;
    if (extra.content !== undefined) rq.content = extra.content;
    return rq;
  }

  /** Sends a MANSCDP document in a MESSAGE; resolves with the SIP response. */
  async message(deviceId: string, root: 'Query' | 'Response' | 'Notify' | 'Control', fields: XmlFields): Promise<Response> {
    const { remote } = this.reachable(deviceId);
    const body = bytesToLatin1(encodeBody(buildXml(root, fields)));
    return this.endpoint.request(this.makeRequest('MESSAGE', deviceId, remote, { contentType: MANSCDP_TYPE, content: body }), remote);
  }

  /** Sends a Query and waits for the device's answer MESSAGE. */
  async query<T>(deviceId: string, cmdType: string, timeoutMs = this.options.queryTimeoutMs, fields: XmlFields = {}, sn = this.nextSn()): Promise<T> {
    const answer = this.waiters.wait<T>(deviceId, cmdType, sn, timeoutMs);
    // the answer may time out while the MESSAGE itself is still unanswered: never an unhandled rejection
    answer.catch(() => {});
    try {
      const rs = await this.message(deviceId, 'Query', { CmdType: cmdType, SN: sn, DeviceID: deviceId, ...fields });
      if (rs.status >= 300) throw SipUnreachable(`${cmdType} query to ${deviceId}: answered ${rs.status} ${rs.reason}`);
    } catch (err) {
      this.waiters.settle(deviceId, cmdType, sn, undefined);
      throw err;
    }
    return answer;
  }
}
