// The upper platform's live INVITE, read and answered. Its offer says where it receives (c=, m=),
// over UDP or TCP (RTP/AVP or TCP/RTP/AVP) and, for TCP, who connects (RFC 4145 a=setup: its
// `passive` means it listens and we connect: our leg is tcp-active; its `active` means it connects to
// us: tcp-passive; no setup over TCP is taken as passive, what most platforms mean). Our answer: our
// media address and port, PS/90000 (payload 96, what we relay), sendonly, and y= the platform's SSRC.
import { parseSdp, videoMedia, type MediaTransport, type StreamNumber } from '../../src/gb28181/sdp.ts';

export interface UpperOffer {
  host: string;
  port: number;
  transport: MediaTransport;
  /** the y= SSRC ('' when the offer has none) */
  ssrc: string;
  /** s= (Play; Playback and Download are not relayed) */
  session: string;
  /** the stream it asks for (a=streamnumber / streamprofile / streamMode; 0 main when none): the mine is asked for the same */
  stream: StreamNumber;
}

export type OfferResult = { ok: true; offer: UpperOffer } | { ok: false; error: string };

export function readOffer(text: string): OfferResult {
  const parsed = parseSdp(text);
  if (!parsed.ok) return parsed;
  const video = videoMedia(parsed.sdp);
  if (!video) return { ok: false, error: 'no m=video line' };
  const host = parsed.sdp.host;
  if (!host || host === '0.0.0.0') return { ok: false, error: 'no usable c= address' };
  const tcp = video.proto.includes('TCP');
  const transport: MediaTransport = !tcp ? 'udp' : video.setup === 'active' ? 'tcp-passive' : 'tcp-active';
  if (video.port === 0 && transport !== 'tcp-passive') return { ok: false, error: 'm=video port 0' };
  return { ok: true, offer: { host, port: video.port, transport, ssrc: parsed.sdp.ssrc, session: parsed.sdp.session, stream: video.stream ?? 0 } };
}

export function buildPlayAnswer(o: { localId: string; host: string; port: number; transport: MediaTransport; ssrc: string }): string {
  const tcp = o.transport !== 'udp';
  return [
    'v=0',
    `o=${o.localId} 0 0 IN IP4 ${o.host}`,
    's=Play',
    `c=IN IP4 ${o.host}`,
    't=0 0',
    `m=video ${o.port} ${tcp ? 'TCP/RTP/AVP' : 'RTP/AVP'} 96`,
    'a=sendonly',
    'a=rtpmap:96 PS/90000',
    ...(tcp ? [`a=setup:${o.transport === 'tcp-active' ? 'active' : 'passive'}`, 'a=connection:new'] : []),
    `y=${o.ssrc}`,
    'f=',
    '',
  ].join('\r\n');
}
