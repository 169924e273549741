// The SDP of a GB/T 28181 live INVITE (§9.2, Annex G): the platform's offer (c=, m= port and
// transport, a=setup for TCP, y= SSRC, the stream asked for) and the device's answer. Kernel candidates: readOffer, answerSdp.
import { readStreamAttribute, type StreamNumber } from '../../src/gb28181/sdp.ts';

/** The device's side of the media connection. */
export type MediaTransport = 'udp' | 'tcp-active' | 'tcp-passive';

export interface SdpOffer {
  /** s= : Play, Playback, Download */
  session: string;
  address: string;
  port: number;
  /** 'tcp-active': the device connects (offer a=setup:passive); 'tcp-passive': the device listens (offer a=setup:active) */
  transport: MediaTransport;
  /** y= as written (10 decimal digits); undefined when absent */
  ssrc?: string;
  payloadTypes: number[];
  /** the stream asked for (a=streamnumber, else a=streamprofile, else a=streamMode); 0 (main) when none */
  stream: StreamNumber;
}

/** Reads the offer; a string naming what is wrong when it cannot be used. */
export function readOffer(sdp: string): SdpOffer | string {
  if (sdp.length > 16 * 1024) return 'the SDP is longer than 16 KiB';
  const lines = sdp.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  let session = '';
  let address: string | undefined;
  let media: { port: number; proto: string; fmts: number[] } | undefined;
  let setup: string | undefined;
  let ssrc: string | undefined;
  let stream: { n: StreamNumber; rank: number } | undefined;
  for (const line of lines) {
    const [k, v] = [line[0], line.slice(2)];
    if (line[1] !== '=') continue;
    if (k === 's') session = v;
    else if (k === 'c' && (media === undefined || address === undefined)) address = /^IN IP[46] (\S+)/.exec(v)?.[1] ?? address;
    else if (k === 'm' && media === undefined) {
      const m = /^video (\d+)(?:\/\d+)? (\S+) ([\d ]+)$/.exec(v);
      if (m) media = { port: Number(m[1]), proto: m[2]!.toUpperCase(), fmts: m[3]!.trim().split(/\s+/).map(Number) };
    } else if (k === 'a' && /^setup:/i.test(v)) setup = v.slice(6).trim().toLowerCase();
    else if (k === 'a' && media !== undefined) {
      const st = readStreamAttribute(v);
      if (st && st.rank > (stream?.rank ?? 0)) stream = st;
    } else if (k === 'y') ssrc = v.trim();
  }
  if (!address) return 'no c=IN IP4 <address> line';
  if (!media) return 'no m=video <port> <proto> <formats> line';
  if (!(media.port >= 0 && media.port <= 65535)) return `m= port ${media.port} is out of range`;
  let transport: MediaTransport;
  if (media.proto === 'RTP/AVP') transport = 'udp';
  else if (media.proto === 'TCP/RTP/AVP') transport = setup === 'active' ? 'tcp-passive' : 'tcp-active';
  else return `m= transport ${media.proto} is neither RTP/AVP nor TCP/RTP/AVP`;
  if (ssrc !== undefined && !/^\d{1,10}$/.test(ssrc)) return `y=${ssrc} is not a decimal SSRC of at most 10 digits`;
  const offer: SdpOffer = { session, address, port: media.port, transport, payloadTypes: media.fmts, stream: stream?.n ?? 0 };
  if (ssrc !== undefined) offer.ssrc = ssrc;
  return offer;
}

/** The device's answer: its address and port, PS on 96, sendonly, the stream it serves (a=streamnumber), y= SSRC, a=setup for TCP. */
export function answerSdp(p: { channelId: string; address: string; port: number; transport: MediaTransport; ssrc: string; session: string; codec: 'h264' | 'h265'; stream: StreamNumber }): string {
  const proto = p.transport === 'udp' ? 'RTP/AVP' : 'TCP/RTP/AVP';
  const lines = [
    'v=0',
    `o=${p.channelId} 0 0 IN IP4 ${p.address}`,
    `s=${p.session || 'Play'}`,
    `c=IN IP4 ${p.address}`,
    't=0 0',
    `m=video ${p.port} ${proto} 96`,
    'a=sendonly',
    'a=rtpmap:96 PS/90000',
    `a=streamnumber:${p.stream}`,
  ];
  if (p.transport !== 'udp') lines.push(`a=setup:${p.transport === 'tcp-active' ? 'active' : 'passive'}`, 'a=connection:new');
  lines.push(`y=${p.ssrc}`, `f=v/${p.codec === 'h265' ? 5 : 2}/////`);
  return lines.join('\r\n') + '\r\n';
}
