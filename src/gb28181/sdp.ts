// The SDP of a GB/T 28181 live INVITE (§C.2): the server offers where it receives (`c=`, `m=video`),
// the PS/H.264/MPEG-4 payloads, TCP setup for the two TCP modes (RFC 4145), the SSRC in `y=` and the
// media format in `f=`; the device's answer says its own address, port, setup and (sometimes a
// different) SSRC. The parser is bounded and total: it returns an error, never throws.

export type MediaTransport = 'udp' | 'tcp-passive' | 'tcp-active';

/**
 * Which of a camera's encodings to play: 0 the main stream, 1 the sub stream, 2 and 3 the third and
 * fourth some cameras have. GB/T 28181-2022 offers it as `a=streamnumber:<n>`; 2016 devices read
 * vendor attributes instead: `a=streamprofile:<n>` (Hikvision, Dahua; what WVP-GB28181-pro sends)
 * or `a=streamMode:main|sub` (TP-LINK and some NVRs). We write all three: a device ignores the
 * attributes it does not know (RFC 4566 §5.13), and a device that knows none sends its main stream.
 */
export type StreamNumber = 0 | 1 | 2 | 3;
export const MAX_STREAM_NUMBER = 3;

/** Reads a stream choice as a URL or the CLI gives it: `main`, `sub`, or a number 0–3; undefined when it is none of those. */
export function parseStreamSelector(text: string | null | undefined): StreamNumber | undefined {
  if (text === null || text === undefined || text === '') return 0;
  const s = text.trim().toLowerCase();
  if (s === 'main') return 0;
  if (s === 'sub') return 1;
  if (/^[0-3]$/.test(s)) return Number(s) as StreamNumber;
  return undefined;
}

/** The name of a stream number in URLs and logs: main, sub, 2, 3. */
export function streamName(n: StreamNumber): string {
  return n === 0 ? 'main' : n === 1 ? 'sub' : String(n);
}

/** The SDP attributes (without `a=`) that ask a device for stream `n`. */
export function streamAttributes(n: StreamNumber): string[] {
  return [`streamnumber:${n}`, `streamprofile:${n}`, ...(n <= 1 ? [`streamMode:${n === 0 ? 'main' : 'sub'}`] : [])];
}

export interface PlayOffer {
  /** the server's 20-digit id (o= user) */
  serverId: string;
  /** the address the device sends media to (or, TCP active, our address) */
  host: string;
  /** the receiving port (TCP active: our port; devices ignore it) */
  port: number;
  transport: MediaTransport;
  ssrc: string;
  /** the 20-digit channel id, for `u=`; 'Play' is live */
  channelId?: string;
  /** also offer H.265 raw (payload 99) */
  h265?: boolean;
  /** the stream asked for (default 0, main) */
  stream?: StreamNumber;
}

/** The SDP body of a live-play INVITE. `tcp-passive`: we listen, the device connects; `tcp-active`: we connect to the device. */
export function buildPlayOffer(o: PlayOffer): string {
  const tcp = o.transport !== 'udp';
  const payloads = o.h265 ? '96 98 97 99' : '96 98 97';
  const lines = [
    'v=0',
    `o=${o.serverId} 0 0 IN IP4 ${o.host}`,
    's=Play',
    ...(o.channelId ? [`u=${o.channelId}:0`] : []),
    `c=IN IP4 ${o.host}`,
    't=0 0',
    `m=video ${o.port} ${tcp ? 'TCP/RTP/AVP' : 'RTP/AVP'} ${payloads}`,
    'a=recvonly',
    'a=rtpmap:96 PS/90000',
    'a=rtpmap:98 H264/90000',
    'a=rtpmap:97 MPEG4/90000',
    ...(o.h265 ? ['a=rtpmap:99 H265/90000'] : []),
    ...(tcp ? [`a=setup:${o.transport === 'tcp-passive' ? 'passive' : 'active'}`, 'a=connection:new'] : []),
    ...streamAttributes(o.stream ?? 0).map((a) => `a=${a}`),
    `y=${o.ssrc}`,
    'f=',
    '',
  ];
  return lines.join('\r\n');
}

export interface SdpMedia {
  type: string;
  port: number;
  proto: string;
  payloads: number[];
  /** rtpmap by payload number, e.g. 96 → 'PS/90000' */
  rtpmap: Record<number, string>;
  /** a=setup value, lower case ('' when none) */
  setup: string;
  /** a=sendonly / recvonly / sendrecv / inactive ('' when none) */
  direction: string;
  /** the stream named by a=streamnumber, else a=streamprofile, else a=streamMode (undefined when none) */
  stream?: StreamNumber;
}

export interface ParsedSdp {
  /** o= user */
  origin: string;
  /** s= */
  session: string;
  /** the c= address (session or first video media level) */
  host: string;
  media: SdpMedia[];
  /** y= (''  when none) */
  ssrc: string;
  /** f= ('' when none) */
  format: string;
}

export type SdpResult = { ok: true; sdp: ParsedSdp } | { ok: false; error: string };

export const SDP_MAX_BYTES = 16 * 1024;

/** Parses an SDP body; never throws. */
export function parseSdp(text: string): SdpResult {
  if (text.length > SDP_MAX_BYTES) return { ok: false, error: 'the SDP is too long' };
  const sdp: ParsedSdp = { origin: '', session: '', host: '', media: [], ssrc: '', format: '' };
  let current: SdpMedia | undefined;
  let streamRank = 0;
  let sawVersion = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([a-z])=(.*)$/.exec(line);
    if (!m) return { ok: false, error: `not an SDP line: ${line.slice(0, 40)}` };
    const [, key, value] = m as unknown as [string, string, string];
    switch (key) {
      case 'v':
        sawVersion = true;
        break;
      case 'o':
        sdp.origin = value.split(/\s+/)[0] ?? '';
        break;
      case 's':
        sdp.session = value;
        break;
      case 'c': {
        const c = /^IN\s+IP[46]\s+(\S+)$/.exec(value);
        if (!c) return { ok: false, error: `bad c= line: ${value.slice(0, 40)}` };
        if (!sdp.host || (current && current.type === 'video')) sdp.host = c[1]!;
        break;
      }
      case 'm': {
        const mm = /^(\w+)\s+(\d{1,5})(?:\/\d+)?\s+(\S+)((?:\s+\d{1,3})*)\s*$/.exec(value);
        if (!mm) return { ok: false, error: `bad m= line: ${value.slice(0, 40)}` };
        const port = Number(mm[2]);
        if (port > 65535) return { ok: false, error: 'm= port above 65535' };
        if (sdp.media.length >= 8) return { ok: false, error: 'too many m= lines' };
        current = { type: mm[1]!, port, proto: mm[3]!.toUpperCase(), payloads: mm[4]!.trim() ? mm[4]!.trim().split(/\s+/).map(Number) : [], rtpmap: {}, setup: '', direction: '' };
        sdp.media.push(current);
        streamRank = 0;
        break;
      }
      case 'a': {
        if (!current) break;
        const rtp = /^rtpmap:(\d{1,3})\s+(\S+)/.exec(value);
        if (rtp) current.rtpmap[Number(rtp[1])] = rtp[2]!;
        else if (/^setup:/i.test(value)) current.setup = value.slice(6).trim().toLowerCase();
        else if (/^(sendonly|recvonly|sendrecv|inactive)$/i.test(value)) current.direction = value.toLowerCase();
        else {
          const st = readStreamAttribute(value);
          if (st && st.rank > streamRank) {
            streamRank = st.rank;
            current.stream = st.n;
          }
        }
        break;
      }
      case 'y':
        if (!/^\d{1,10}$/.test(value.trim())) return { ok: false, error: `bad y= SSRC: ${value.slice(0, 20)}` };
        sdp.ssrc = value.trim();
        break;
      case 'f':
        sdp.format = value;
        break;
      default:
        break;
    }
  }
  if (!sawVersion) return { ok: false, error: 'no v= line' };
  return { ok: true, sdp };
}

/** A stream attribute's (the value of an `a=` line) number and rank: a=streamnumber (3) wins over a=streamprofile (2) over a=streamMode (1), whatever their order. */
export function readStreamAttribute(value: string): { n: StreamNumber; rank: number } | undefined {
  const a = /^(streamnumber|streamprofile|streammode):\s*(\S{1,8})\s*$/i.exec(value);
  if (!a) return undefined;
  const name = a[1]!.toLowerCase();
  const v = a[2]!;
  const n = name === 'streammode' ? (/^main$/i.test(v) ? 0 : /^sub$/i.test(v) ? 1 : undefined) : /^[0-3]$/.test(v) ? Number(v) : undefined;
  return n === undefined ? undefined : { n: n as StreamNumber, rank: name === 'streamnumber' ? 3 : name === 'streamprofile' ? 2 : 1 };
}

/** The video media of an answer, or undefined. */
export function videoMedia(sdp: ParsedSdp): SdpMedia | undefined {
  return sdp.media.find((m) => m.type === 'video');
}
