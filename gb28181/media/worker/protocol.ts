// The narrow channel between the MediaEngine (parent) and its worker process: requests and events
// as small IPC messages, and media frames on a separate binary pipe (fd 4) in length-prefixed
// records, never as JSON. One definition of both, used by both sides.
import type { EndReason, IncomingAnswer, IncomingSpec, MediaFrame, OutgoingSpec, StreamStats } from '../MediaTypes.ts';

export interface WorkerConfig {
  host: string;
  ports: { min: number; max: number };
  noMediaSeconds: number;
  /** keep each stream's packets since its last keyframe for legs and viewers that join (default true) */
  gopCache?: boolean;
  /** streams whose frames the parent wants on the pipe (it has subscribers), at the worker's start */
  wanted?: string[];
}

export type Request =
  | { op: 'openIncoming'; spec: IncomingSpec }
  | { op: 'answerIncoming'; streamId: string; answer: IncomingAnswer }
  | { op: 'closeStream'; streamId: string }
  | { op: 'openOutgoing'; spec: OutgoingSpec }
  | { op: 'closeOutgoing'; legId: string }
  /** the parent has (on) or no longer has (off) subscribers for a stream's frames */
  | { op: 'frames'; streamId: string; on: boolean }
  | { op: 'shutdown' };

export type ToWorker = { t: 'req'; id: number; req: Request };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'res'; id: number; ok: true; value?: unknown }
  | { t: 'res'; id: number; ok: false; code: string; message: string }
  | { t: 'firstMedia'; streamId: string; ssrc: string }
  | { t: 'noMedia'; streamId: string }
  | { t: 'ended'; streamId: string; reason: EndReason }
  | { t: 'stats'; stats: Record<string, StreamStats> }
  | { t: 'log'; level: 'info' | 'warn'; msg: string; fields: Record<string, unknown> };

/** the fd of the frame pipe in the worker */
export const FRAME_FD = 4;

const CODECS = ['h264', 'h265', 'pcma', 'pcmu'] as const;

/** the kind byte of a start record: what follows for this stream is what the parent subscribed to */
const START_KIND = 2;

/**
 * A start record (no media): the worker took a subscription ('frames' on) here. The frames of the
 * stream before it were piped before the worker knew of the subscriber (the parent drops them);
 * after it come the GOP cache's frames, then the live ones. The parent thus gets each frame once.
 */
export function encodeStart(streamId: string): Buffer {
  const id = Buffer.from(streamId, 'utf8');
  const rec = Buffer.alloc(4 + 1 + id.length + 3 + 16);
  rec.writeUInt32BE(rec.length - 4, 0);
  rec[4] = id.length;
  id.copy(rec, 5);
  rec[5 + id.length] = START_KIND;
  return rec;
}

/** [u32 length of the rest][u8 id length][id][u8 kind][u8 codec][u8 keyframe][f64 pts][f64 dts][data] */
export function encodeFrame(streamId: string, f: MediaFrame): Buffer {
  const id = Buffer.from(streamId, 'utf8');
  const head = Buffer.allocUnsafe(4 + 1 + id.length + 3 + 16);
  let p = 0;
  head.writeUInt32BE(head.length - 4 + f.data.length, p);
  p += 4;
  head[p++] = id.length;
  id.copy(head, p);
  p += id.length;
  head[p++] = f.kind === 'video' ? 0 : 1;
  head[p++] = CODECS.indexOf(f.codec);
  head[p++] = f.keyframe ? 1 : 0;
  head.writeDoubleBE(f.pts90k, p);
  head.writeDoubleBE(f.dts90k, p + 8);
  return Buffer.concat([head, f.data]);
}

/** Reads frame records from the pipe's byte stream, in whatever pieces it comes. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (streamId: string, f: MediaFrame) => void, onStart: (streamId: string) => void = () => undefined): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    let at = 0;
    while (this.#buf.length - at >= 4) {
      const len = this.#buf.readUInt32BE(at);
      if (this.#buf.length - at - 4 < len) break;
      const rec = this.#buf.subarray(at + 4, at + 4 + len);
      at += 4 + len;
      const idLen = rec[0]!;
      let p = 1;
      const streamId = rec.toString('utf8', p, p + idLen);
      p += idLen;
      const kindByte = rec[p++];
      if (kindByte === START_KIND) {
        onStart(streamId);
        continue;
      }
      const kind = kindByte === 0 ? 'video' : 'audio';
      const codec = CODECS[rec[p++]!] ?? 'h264';
      const keyframe = rec[p++] === 1;
      const pts90k = rec.readDoubleBE(p);
      const dts90k = rec.readDoubleBE(p + 8);
      onFrame(streamId, { kind, codec, keyframe, pts90k, dts90k, data: Buffer.from(rec.subarray(p + 16)) });
    }
    this.#buf = at === 0 ? this.#buf : this.#buf.subarray(at);
  }
}

/** A GB/T 28181 SSRC (decimal, up to 10 digits) as a number; undefined when it is not one. */
export function parseSsrc(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 0xffffffff ? n : undefined;
}

/** The decimal, 10-digit form GB/T 28181 writes in y= lines. */
export function formatSsrc(n: number): string {
  return String(n >>> 0).padStart(10, '0');
}
