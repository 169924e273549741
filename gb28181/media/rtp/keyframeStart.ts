// Where a group of pictures starts, told from one RTP packet without demuxing: the GOP cache
// (worker/GopCache.ts) keeps the packets from there. Two questions per packet:
//  - does it start an access unit? PS: a pack header (00 00 01 BA) at its start (devices start
//    each picture's pack at a packet's start); right after a packet with the marker bit (a picture
//    ended) also one further in, the bytes before it being skipped by any demuxer as garbage (only
//    then is the payload searched: the relay pays a few compares per packet, not a search). Raw
//    H.264/H.265: a new RTP timestamp.
//  - does it show the access unit is a keyframe? A parameter set (H.264 SPS 7; H.265 VPS 32 /
//    SPS 33) or an IDR/IRAP slice (H.264 5; H.265 16–21) among the NAL units it carries. In PS,
//    the first video PES of the pack is read (a system header or PSM alone does not count: some
//    devices repeat the PSM on every picture). Cheap: four byte compares per packet, a short walk of
//    the units only in a packet that has a pack header. Total: any bytes give an answer.
import type { VideoCodec } from '../es/nal.ts';

const PACK = Buffer.from([0, 0, 1, 0xba]);
const START = Buffer.from([0, 0, 1]);

/** A NAL header that marks a keyframe (its parameter sets or its first slice); codec undefined: either, by shape. */
export function keyNalHeader(codec: VideoCodec | undefined, b0: number, b1: number): boolean {
  if (b0 & 0x80) return false;
  if (codec !== 'h265') {
    const t = b0 & 0x1f;
    if ((t === 5 || t === 7) && (b0 & 0x60) !== 0) return true;
    if (codec === 'h264') return false;
  }
  const t = (b0 >> 1) & 0x3f;
  // H.265's second byte: layer id 0, temporal id + 1 ≥ 1 (an H.264 slice header rarely looks so)
  const shape = (b0 & 0x01) === 0 && (b1 & 0xf8) === 0 && (b1 & 0x07) !== 0;
  return shape && (t === 32 || t === 33 || (t >= 16 && t <= 21));
}

/** Whether Annex B bytes (possibly cut short) hold a keyframe NAL header. */
export function annexBShowsKey(codec: VideoCodec | undefined, es: Buffer): boolean {
  let from = 0;
  for (let n = 0; n < 64; n++) {
    const at = es.indexOf(START, from);
    if (at < 0 || at + 4 >= es.length) return false;
    if (keyNalHeader(codec, es[at + 3]!, es[at + 4]!)) return true;
    from = at + 3;
  }
  return false;
}

export interface PacketMark {
  /** the packet starts an access unit (its first byte, or a pack header inside it) */
  unitStart: boolean;
  /** the packet shows that its access unit is a keyframe */
  key: boolean;
}

const NONE: PacketMark = { unitStart: false, key: false };

/** An MPEG-PS payload (RTP payload type 96); `afterMarker`: the packet before it had the marker bit. */
export function markPs(payload: Buffer, codec: VideoCodec | undefined, afterMarker = false): PacketMark {
  const atStart = payload.length >= 4 && payload[0] === 0 && payload[1] === 0 && payload[2] === 1 && payload[3] === 0xba;
  const pack = atStart ? 0 : afterMarker ? payload.indexOf(PACK) : -1;
  if (pack < 0) return NONE;
  return { unitStart: true, key: psPackShowsKey(payload, pack, codec) };
}

/** Walks the units after the pack header at `at` up to the first video PES, and reads its elementary stream bytes. */
function psPackShowsKey(b: Buffer, at: number, codec: VideoCodec | undefined): boolean {
  if (at + 14 > b.length) return false;
  // MPEG-2 pack header: 14 bytes and its stuffing; MPEG-1: 12
  let p = (b[at + 4]! & 0xc0) === 0x40 ? at + 14 + (b[at + 13]! & 0x07) : at + 12;
  for (let n = 0; n < 16 && p + 6 <= b.length; n++) {
    if (b[p] !== 0 || b[p + 1] !== 0 || b[p + 2] !== 1) return false;
    const id = b[p + 3]!;
    if (id === 0xba) return false; // the next pack: this one had no video
    const len = b.readUInt16BE(p + 4);
    if (id >= 0xe0 && id <= 0xef) {
      if (p + 9 > b.length) return false;
      const es = (b[p + 6]! & 0xc0) === 0x80 ? p + 9 + b[p + 8]! : p + 6;
      const end = len === 0 ? b.length : Math.min(b.length, p + 6 + len);
      return es < end && annexBShowsKey(codec, b.subarray(es, end));
    }
    p += 6 + len;
  }
  return false;
}

/** Raw H.264 (RFC 6184) or H.265 (RFC 7798) over RTP: `newTimestamp` is whether the packet's timestamp differs from the last one's. */
export function markRaw(payload: Buffer, codec: VideoCodec, newTimestamp: boolean): PacketMark {
  return { unitStart: newTimestamp, key: rawShowsKey(payload, codec) };
}

function rawShowsKey(p: Buffer, codec: VideoCodec): boolean {
  if (p.length < 2) return false;
  if (codec === 'h264') {
    const t = p[0]! & 0x1f;
    if (t === 28) return p.length >= 2 && (p[1]! & 0x80) !== 0 && ((p[1]! & 0x1f) === 5 || (p[1]! & 0x1f) === 7);
    if (t === 24) return aggregateShowsKey(p, 1, codec);
    return t === 5 || t === 7;
  }
  const t = (p[0]! >> 1) & 0x3f;
  if (t === 49) {
    if (p.length < 3 || (p[2]! & 0x80) === 0) return false;
    const ft = p[2]! & 0x3f;
    return ft === 32 || ft === 33 || (ft >= 16 && ft <= 21);
  }
  if (t === 48) return aggregateShowsKey(p, 2, codec);
  return t === 32 || t === 33 || (t >= 16 && t <= 21);
}

/** STAP-A (H.264) / AP (H.265): 16-bit sizes before each NAL unit. */
function aggregateShowsKey(p: Buffer, from: number, codec: VideoCodec): boolean {
  let at = from;
  for (let n = 0; n < 32 && at + 3 < p.length; n++) {
    const len = p.readUInt16BE(at);
    if (len === 0 || at + 2 + len > p.length) return false;
    if (rawShowsKey(p.subarray(at + 2, at + 2 + len), codec)) return true;
    at += 2 + len;
  }
  return false;
}
