// Requests the bridge sends to an upper platform as its lower platform: REGISTER, keepalive and
// answer MESSAGEs, BYE of a stream it asked for. Our id is the entry's localId (else gb28181.id),
// in our domain; the platform is `sip:<its id>@<its domain>`, reached at host:port.
import { bytesToLatin1, encodeBody } from '../../src/gb28181/charset.ts';
import { buildXml, type XmlFields } from '../../src/gb28181/manscdp.ts';
import { MANSCDP_TYPE, USER_AGENT } from '../commander/Commander.ts';
import type { GbConfig } from '../config.ts';
import type { SipEndpoint } from '../sip/SipEndpoint.ts';
import { randomToken, type Remote, type Request } from '../sip/SipMessage.ts';

export type CascadeEntry = GbConfig['cascade'][number];

export { MANSCDP_TYPE, USER_AGENT };

export interface UpperPeer {
  entry: CascadeEntry;
  /** the id we are known by at the platform */
  localId: string;
  /** our own SIP domain */
  localDomain: string;
  remote: Remote;
}

export function peerOf(g: GbConfig, entry: CascadeEntry): UpperPeer {
  return {
    entry,
    localId: entry.localId || g.id,
    localDomain: g.domain,
    remote: { protocol: entry.transport === 'tcp' ? 'TCP' : 'UDP', address: entry.host, port: entry.port },
  };
}

export interface UpperRequestExtra {
  callId?: string;
  cseq: number;
  fromTag?: string;
  toTag?: string;
  /** the Request-URI (in a dialog: the platform's Contact) */
  uri?: string;
  headers?: Record<string, unknown>;
  contentType?: string;
  content?: string;
}

export function upperRequest(endpoint: SipEndpoint, peer: UpperPeer, method: string, extra: UpperRequestExtra): Request {
  const { entry, localId, localDomain, remote } = peer;
  const transport = remote.protocol === 'TCP' ? ';transport=tcp' : '';
  const ownPort = remote.protocol === 'TCP' ? endpoint.tcpPort : endpoint.udpPort;
  const self = `sip:${localId}@${localDomain}`;
  const rq: Request = {
    method,
    uri: extra.uri ?? `sip:${entry.id}@${entry.host}:${entry.port}${transport}`,
    version: '2.0',
    headers: {
      via: [],
      from: { uri: self, params: { tag: extra.fromTag ?? randomToken(6) } },
      to: method === 'REGISTER' ? { uri: self, params: {} } : { uri: `sip:${entry.id}@${entry.domain}`, params: extra.toTag ? { tag: extra.toTag } : {} },
      'call-id': extra.callId ?? `${randomToken(12)}@${endpoint.publicHost}`,
      cseq: { seq: extra.cseq, method },
      'max-forwards': 70,
      contact: [{ uri: `sip:${localId}@${endpoint.publicHost}:${ownPort}`, params: {} }],
      'user-agent': USER_AGENT,
      ...(extra.headers ?? {}),
    },
  };
  if (extra.contentType) rq.headers['content-type'] = extra.contentType;
  if (extra.content !== undefined) rq.content = extra.content;
  return rq;
}

/** A MANSCDP document as a MESSAGE body (GB2312 bytes as the `sip` package's latin1 string). */
export function manscdpBody(root: 'Response' | 'Notify', fields: XmlFields): string {
  return bytesToLatin1(encodeBody(buildXml(root, fields)));
}
