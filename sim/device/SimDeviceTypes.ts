// Options, knobs and events of the GB/T 28181 device simulator (SimDevice).
import type { Logger } from '../../src/log.ts';
import type { VideoCodec } from './annexB.ts';
import type { Charset, CharsetLie, GbVersion } from './manscdp.ts';
import type { MediaTransport, SdpOffer } from './sdp.ts';
import type { SipProtocol } from './sipTransport.ts';

export interface SimChannel {
  /** 20-digit channel id (type 131, camera) */
  id: string;
  name: string;
  status?: 'ON' | 'OFF';
}

/** Failure knobs: each makes the device misbehave the way some real device does. */
export interface SimDeviceKnobs {
  /** digest with a wrong password (the server should answer 403) */
  wrongPassword?: boolean;
  /** never send a keepalive (the server should mark the device offline) */
  noKeepalive?: boolean;
  /** the order catalog pages are sent in */
  catalogOrder?: 'in-order' | 'reversed' | 'shuffled';
  /** send the first catalog page a second time, last */
  catalogDuplicate?: boolean;
  /** the XML declaration says one charset, the bytes are the other */
  charsetLie?: CharsetLie;
  /** answer with (and stream under) an SSRC other than the offered y= */
  ignoreSsrc?: boolean;
  /** answer 200 to INVITE, never send media */
  noMedia?: boolean;
  /** the device hangs up (BYE) this many seconds after the stream starts */
  byeAfterSeconds?: number;
  /** the PS stream without the PSM (0xBC) before keyframes */
  noPsm?: boolean;
  /** a private-stream-1 (0xBD) PES after every picture */
  privateStream?: boolean;
  /** G.711A audio (0xC0) in its own pack beside every picture */
  audio?: boolean;
  /** pictures split into several small PES packets, cut into RTP at odd offsets so headers straddle packets */
  pesSplit?: boolean;
}

export interface SimDeviceOptions extends SimDeviceKnobs {
  /** the server (the bridge or any GB/T 28181 platform) */
  server: { host: string; port: number };
  serverId: string;
  domain: string;
  deviceId: string;
  password: string;
  transport?: SipProtocol;
  /** local bind address (default 127.0.0.1) and SIP port (default 0: any) */
  localHost?: string;
  localPort?: number;
  /** REGISTER Expires, seconds (default 3600); re-registers at 80 % of what the server grants */
  expires?: number;
  /** keepalive interval, seconds (default 60, the standard's) */
  keepaliveSeconds?: number;
  /** channels; default `channelCount` cameras named 主井口, 副井口, 运输皮带, 调度室, 通道5… */
  channels?: SimChannel[];
  channelCount?: number;
  /** catalog items per MESSAGE (default 2) */
  catalogPageSize?: number;
  /** MANSCDP charset (default GB2312) */
  charset?: Charset;
  version?: GbVersion;
  /** the clip: .h264/.h265 Annex-B, or a container ffmpeg can read; default made by ffmpeg */
  media?: string;
  codec?: VideoCodec;
  /** frame rate the clip is paced at (default 25) */
  fps?: number;
  /** SIP transaction timeout, ms (default 32000, RFC 3261's 64·T1) */
  transactionTimeoutMs?: number;
  log?: Logger;
}

export interface SimDeviceEvents {
  registered: [info: { expires: number; serverDate?: string }];
  unregistered: [];
  /** a REGISTER that failed (status 0: no answer) */
  registerFailed: [info: { status: number; reason: string }];
  keepalive: [info: { status: number }];
  query: [info: { cmdType: string; sn: string }];
  catalogSent: [info: { sn: string; pages: number; sumNum: number }];
  /** `stream`: the one it serves (0 main, 1 the half-size sub stream), as its answer's a=streamnumber says */
  invite: [info: { callId: string; channelId: string; offer: SdpOffer; ssrc: string; transport: MediaTransport; stream: 0 | 1 }];
  /** media has started (after ACK; TCP passive: once the platform connected) */
  streaming: [info: { callId: string; channelId: string }];
  bye: [info: { callId: string; by: 'server' | 'device' }];
  /** bytes that were not SIP, a body that was not MANSCDP, an SDP that could not be used */
  rejected: [info: { what: string; status?: number }];
  error: [err: Error];
}
