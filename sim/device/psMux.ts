// MPEG-2 Program Stream (ISO/IEC 13818-1 §2.5) as GB/T 28181 Annex C carries it over RTP: every
// picture starts a pack (0xBA); a keyframe's pack also holds the system header (0xBB) and the
// program stream map (0xBC, stream_type 0x1B H.264 / 0x24 H.265 / 0x90 G.711A), then the picture
// in one or more PES packets 0xE0 (PTS on the first), optionally a private stream 0xBD packet.
// Audio goes in its own pack with PES 0xC0. A kernel candidate (the bridge demuxes this).
import type { VideoCodec } from './annexB.ts';

export interface PsMuxOptions {
  codec: VideoCodec;
  /** the PSM before each keyframe (false: the "no PSM" variant some devices send) */
  psm: boolean;
  /** a private-stream-1 (0xBD) PES after every picture, as Hikvision devices send */
  privateStream: boolean;
  /** an audio stream (G.711A, 0xC0) is declared in the system header and PSM */
  audio: boolean;
  /** the largest PES payload; a bigger picture is split into several PES packets (max 65535 - 8) */
  maxPesPayload: number;
}

export const STREAM_TYPE = { h264: 0x1b, h265: 0x24, g711a: 0x90 } as const;
export const VIDEO_STREAM_ID = 0xe0;
export const AUDIO_STREAM_ID = 0xc0;
export const PRIVATE_STREAM_ID = 0xbd;
const MUX_RATE = 6106; // units of 50 bytes/s, the field only has to be non-zero
const TWO_33 = 2 ** 33;
export const MAX_PES_PAYLOAD = 65535 - 8; // PES_packet_length counts 3 flag bytes + 5 PTS bytes

let crcTable: Uint32Array | undefined;
/** CRC-32/MPEG-2: poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final xor. */
export function crc32Mpeg2(buf: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i << 24;
      for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of buf) crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc >>> 0;
}

/** 14-byte pack header; SCR in 90 kHz units (extension 0), no stuffing. */
export function packHeader(scr90k: number): Buffer {
  const scr = ((Math.floor(scr90k) % TWO_33) + TWO_33) % TWO_33;
  const hi = Math.floor(scr / 2 ** 30) & 0x07; // bits 32..30
  const mid = Math.floor(scr / 2 ** 15) & 0x7fff; // bits 29..15
  const lo = scr & 0x7fff; // bits 14..0
  const b = Buffer.alloc(14);
  b.writeUInt32BE(0x000001ba, 0);
  b[4] = 0x44 | (hi << 3) | (mid >> 13); // '01' scr[32..30] marker scr[29..28]
  b[5] = (mid >> 5) & 0xff;
  b[6] = ((mid & 0x1f) << 3) | 0x04 | (lo >> 13); // scr[19..15] marker scr[14..13]
  b[7] = (lo >> 5) & 0xff;
  b[8] = ((lo & 0x1f) << 3) | 0x04; // scr[4..0] marker ext[8..7]=0
  b[9] = 0x01; // ext[6..0]=0 marker
  b[10] = (MUX_RATE >> 14) & 0xff;
  b[11] = (MUX_RATE >> 6) & 0xff;
  b[12] = ((MUX_RATE & 0x3f) << 2) | 0x03;
  b[13] = 0xf8; // reserved, pack_stuffing_length 0
  return b;
}

/** Reads the SCR back (tests). */
export function readScr(pack: Uint8Array): number {
  const hi = (pack[4]! >> 3) & 0x07;
  const mid = ((pack[4]! & 0x03) << 13) | (pack[5]! << 5) | (pack[6]! >> 3);
  const lo = ((pack[6]! & 0x03) << 13) | (pack[7]! << 5) | (pack[8]! >> 3);
  return hi * 2 ** 30 + mid * 2 ** 15 + lo;
}

export function systemHeader(o: Pick<PsMuxOptions, 'audio' | 'privateStream'>): Buffer {
  const streams: Buffer[] = [Buffer.from([VIDEO_STREAM_ID, 0xe0 | (1 << 5) | (400 >> 8), 400 & 0xff])]; // scale 1: 1024-byte units
  if (o.audio) streams.push(Buffer.from([AUDIO_STREAM_ID, 0xc0 | (32 >> 8), 32])); // scale 0: 128-byte units
  if (o.privateStream) streams.push(Buffer.from([PRIVATE_STREAM_ID, 0xe0 | (16 >> 8), 16]));
  const fixed = Buffer.alloc(12);
  fixed.writeUInt32BE(0x000001bb, 0);
  fixed.writeUInt16BE(6 + streams.length * 3, 4);
  fixed[6] = 0x80 | ((MUX_RATE >> 15) & 0x7f); // marker, rate_bound[21..15]
  fixed[7] = (MUX_RATE >> 7) & 0xff;
  fixed[8] = ((MUX_RATE & 0x7f) << 1) | 0x01;
  fixed[9] = ((o.audio ? 1 : 0) << 2) | 0x00; // audio_bound, fixed 0, CSPS 0
  fixed[10] = 0xe1; // audio lock, video lock, marker, video_bound 1
  fixed[11] = 0x7f; // packet_rate_restriction 0, reserved
  return Buffer.concat([fixed, ...streams]);
}

export function programStreamMap(o: Pick<PsMuxOptions, 'codec' | 'audio'>): Buffer {
  const entries: Buffer[] = [Buffer.from([STREAM_TYPE[o.codec], VIDEO_STREAM_ID, 0, 0])];
  if (o.audio) entries.push(Buffer.from([STREAM_TYPE.g711a, AUDIO_STREAM_ID, 0, 0]));
  const map = Buffer.concat(entries);
  const head = Buffer.alloc(12);
  head.writeUInt32BE(0x000001bc, 0);
  head.writeUInt16BE(10 + map.length, 4);
  head[6] = 0xe0; // current_next_indicator 1, reserved, version 0
  head[7] = 0xff; // reserved, marker
  head.writeUInt16BE(0, 8); // program_stream_info_length
  head.writeUInt16BE(map.length, 10);
  const body = Buffer.concat([head, map]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32Mpeg2(body), 0);
  return Buffer.concat([body, crc]);
}

function ptsBytes(pts90k: number): Buffer {
  const pts = ((Math.floor(pts90k) % TWO_33) + TWO_33) % TWO_33;
  const hi = Math.floor(pts / 2 ** 30) & 0x07;
  const mid = Math.floor(pts / 2 ** 15) & 0x7fff;
  const lo = pts & 0x7fff;
  return Buffer.from([0x21 | (hi << 1), mid >> 7, ((mid & 0x7f) << 1) | 1, lo >> 7, ((lo & 0x7f) << 1) | 1]);
}

/** Reads a 5-byte PTS field back (tests, and a kernel demuxer could share it). */
export function readPts(b: Uint8Array, at: number): number {
  const hi = (b[at]! >> 1) & 0x07;
  const mid = (b[at + 1]! << 7) | (b[at + 2]! >> 1);
  const lo = (b[at + 3]! << 7) | (b[at + 4]! >> 1);
  return hi * 2 ** 30 + mid * 2 ** 15 + lo;
}

/** One PES packet; with a PTS when given. `payload.length` ≤ 65535 - 3 - (PTS ? 5 : 0). */
export function pesPacket(streamId: number, payload: Uint8Array, pts90k?: number, dataAlignment = false): Buffer {
  const opt = pts90k === undefined ? Buffer.from([0x80 | (dataAlignment ? 0x04 : 0), 0x00, 0x00]) : Buffer.concat([Buffer.from([0x80 | (dataAlignment ? 0x04 : 0), 0x80, 5]), ptsBytes(pts90k)]);
  const head = Buffer.alloc(6);
  head.writeUInt32BE(0x00000100 | streamId, 0);
  head.writeUInt16BE(opt.length + payload.length, 4);
  return Buffer.concat([head, opt, payload]);
}

const PRIVATE_PAYLOAD = Buffer.from('ESEAL-SIM private stream 1 (skip me)', 'latin1');

/** One picture as a pack: BA [BB BC] E0… [BD]. */
export function muxVideoFrame(frame: { data: Uint8Array; keyframe: boolean }, pts90k: number, o: PsMuxOptions): Buffer {
  const parts: Buffer[] = [packHeader(pts90k)];
  if (frame.keyframe) {
    parts.push(systemHeader(o));
    if (o.psm) parts.push(programStreamMap(o));
  }
  const max = Math.max(1, Math.min(o.maxPesPayload, MAX_PES_PAYLOAD));
  for (let at = 0; at < frame.data.length || at === 0; at += max) {
    parts.push(pesPacket(VIDEO_STREAM_ID, frame.data.subarray(at, at + max), at === 0 ? pts90k : undefined, at === 0));
    if (frame.data.length === 0) break;
  }
  if (o.privateStream) parts.push(pesPacket(PRIVATE_STREAM_ID, PRIVATE_PAYLOAD));
  return Buffer.concat(parts);
}

/** G.711A samples as their own pack: BA C0. */
export function muxAudioFrame(samples: Uint8Array, pts90k: number): Buffer {
  return Buffer.concat([packHeader(pts90k), pesPacket(AUDIO_STREAM_ID, samples, pts90k, true)]);
}
