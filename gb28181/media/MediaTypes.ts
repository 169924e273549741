// Types of the media engine (MediaEngine.ts): what the SIP side asks of it and what it reports.
import type { MediaTransport } from '../../src/gb28181/sdp.ts';
import type { Logger } from '../../src/log.ts';

/** udp; tcp-passive: the peer connects to us; tcp-active: we connect to it (the kernel's SDP names them) */
export type { MediaTransport };
export type IncomingPayload = 'ps' | 'h264' | 'h265';

export interface MediaEngineOptions {
  /** the address RTP is received on (and sent from) */
  host: string;
  /** even ports in this range are handed out, one per stream or leg */
  ports: { min: number; max: number };
  /** a stream with no packet for this long (also right after it opens) is reported noMedia; default 15 */
  noMediaSeconds: number;
  /** keep each stream's packets since its last keyframe, so that relay legs and late viewers start at once (default true) */
  gopCache?: boolean;
  log: Logger;
}

export interface MediaFrame {
  kind: 'video' | 'audio';
  codec: 'h264' | 'h265' | 'pcma' | 'pcmu';
  pts90k: number;
  dts90k: number;
  keyframe: boolean;
  /** video: one access unit in Annex B; audio: the G.711 bytes */
  data: Buffer;
}

export interface StreamStats {
  ssrc: string | null;
  packets: number;
  lost: number;
  reordered: number;
  duplicates: number;
  staleSsrcDropped: number;
  bytes: number;
  frames: number;
  codec: string | null;
  width?: number;
  height?: number;
  lastPacketAt: number | null;
  /** false while a stream only relayed upward is not demuxed (its frames counted from keyframe marks) */
  demuxed: boolean;
}

export interface IncomingSpec {
  streamId: string;
  transport: MediaTransport;
  /** the SSRC we offer (y= line), decimal as GB/T 28181 writes it */
  ssrc: string;
  /** RTP payload: PS (96, the default), raw H.264 (98) or raw H.265 (99) */
  payload?: IncomingPayload;
}

export interface IncomingAnswer {
  host: string;
  port: number;
  /** the device's y= SSRC when it answered with another one */
  ssrc?: string;
}

export interface OutgoingSpec {
  /** the incoming stream relayed */
  streamId: string;
  legId: string;
  transport: MediaTransport;
  host: string;
  port: number;
  ssrc: string;
}

export type EndReason = 'worker-exit' | 'peer-closed' | 'connect-failed' | 'closed';

export interface MediaEngineEvents {
  firstMedia: [{ streamId: string; ssrc: string }];
  noMedia: [{ streamId: string }];
  ended: [{ streamId: string; reason: EndReason }];
  workerExit: [{ code: number | null; signal: NodeJS.Signals | null }];
}
