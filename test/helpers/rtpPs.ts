// A small GB/T 28181-style sender for tests: Annex B clips made by the real ffmpeg, cut into access
// units, muxed into MPEG-PS the way devices do (keyframes BA+BB+BC+E0, other frames BA+E0, with
// knobs for the corner cases: no PSM, a 0xBD private stream, G.711 audio, frames split over several
// PES) and packetised into RTP (payload 96, or raw 98/99), with RFC 4571 framing for TCP.
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { parseRtp, type RtpPacket } from '../../gb28181/media/rtp/rtpPacket.ts';

export type Codec = 'h264' | 'h265';

const clips = new Map<string, Promise<Buffer>>();

/** An Annex B clip (testsrc, 25 fps, a keyframe every `gop` frames), made once per process. */
export function annexBClip(codec: Codec = 'h264', seconds = 2, size = '320x240', gop = 25): Promise<Buffer> {
  const key = `${codec}-${seconds}-${size}-${gop}`;
  let clip = clips.get(key);
  if (!clip) {
    const enc = codec === 'h264' ? ['-c:v', 'libx264', '-profile:v', 'main', '-x264-params', 'keyint=' + gop + ':min-keyint=' + gop + ':scenecut=0'] : ['-c:v', 'libx265', '-x265-params', `keyint=${gop}:min-keyint=${gop}:scenecut=0:log-level=error`];
    clip = runFfmpeg(['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25`, '-t', String(seconds), ...enc, '-bf', '0', '-pix_fmt', 'yuv420p', '-f', codec === 'h264' ? 'h264' : 'hevc', 'pipe:1'], {
      timeoutMs: 60_000,
    }).then((r) => r.stdout);
    clips.set(key, clip);
  }
  return clip;
}

function nals(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  for (let i = 0; i + 2 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      if (start >= 0) out.push(buf.subarray(start, i > 0 && buf[i - 1] === 0 ? i - 1 : i));
      start = i + 3;
      i += 2;
    }
  }
  if (start >= 0) out.push(buf.subarray(start));
  return out;
}

function isVcl(codec: Codec, n: Buffer): boolean {
  return codec === 'h264' ? (n[0]! & 0x1f) >= 1 && (n[0]! & 0x1f) <= 5 : ((n[0]! >> 1) & 0x3f) < 32;
}

function firstSliceOfPicture(codec: Codec, n: Buffer): boolean {
  return codec === 'h264' ? (n[1]! & 0x80) !== 0 : (n[2]! & 0x80) !== 0;
}

export interface AccessUnit {
  data: Buffer;
  keyframe: boolean;
}

/** The clip's access units in Annex B (4-byte start codes). */
export function accessUnits(codec: Codec, clip: Buffer): AccessUnit[] {
  const aus: AccessUnit[] = [];
  let cur: Buffer[] = [];
  let sawVcl = false;
  const close = (): void => {
    if (cur.length === 0) return;
    const data = Buffer.concat(cur.flatMap((n) => [Buffer.from([0, 0, 0, 1]), n]));
    const keyframe = cur.some((n) => (codec === 'h264' ? (n[0]! & 0x1f) === 5 : ((n[0]! >> 1) & 0x3f) >= 16 && ((n[0]! >> 1) & 0x3f) <= 21));
    aus.push({ data, keyframe });
    cur = [];
    sawVcl = false;
  };
  for (const n of nals(clip)) {
    if (n.length < 3) continue;
    const vcl = isVcl(codec, n);
    if (sawVcl && (!vcl || firstSliceOfPicture(codec, n))) close();
    cur.push(n);
    if (vcl) sawVcl = true;
  }
  close();
  return aus;
}

function ts5(marker: number, v: number): Buffer {
  const hi = Math.floor(v / 2 ** 30) & 7;
  const lo = v % 2 ** 30;
  return Buffer.from([(marker << 4) | (hi << 1) | 1, (lo >> 22) & 0xff, (((lo >> 15) & 0x7f) << 1) | 1, (lo >> 7) & 0xff, ((lo & 0x7f) << 1) | 1]);
}

export function packHeader(scr90k: number, stuffing = 0): Buffer {
  const b = Buffer.alloc(14 + stuffing, 0xff);
  b.writeUInt32BE(0x000001ba, 0);
  const scr = scr90k % 2 ** 33;
  const hi = Math.floor(scr / 2 ** 30) & 7;
  const lo = scr % 2 ** 30;
  b[4] = 0x44 | (hi << 3) | ((lo >> 28) & 3);
  b[5] = (lo >> 20) & 0xff;
  b[6] = (((lo >> 15) & 0x1f) << 3) | 0x04 | ((lo >> 13) & 3);
  b[7] = (lo >> 5) & 0xff;
  b[8] = ((lo & 0x1f) << 3) | 0x04;
  b[9] = 0x01;
  b[10] = 0x89;
  b[11] = 0xc3;
  b[12] = 0xf8;
  b[13] = 0xf8 | stuffing;
  return b;
}

export function systemHeader(): Buffer {
  const body = Buffer.from([0x80, 0x04, 0xe1, 0xff, 0xe1, 0xff, 0xe0, 0xe0, 0xe8, 0xc0, 0xc0, 0x20]);
  const h = Buffer.alloc(6);
  h.writeUInt32BE(0x000001bb, 0);
  h.writeUInt16BE(body.length, 4);
  return Buffer.concat([h, body]);
}

export function psm(videoType: number, audioType?: number): Buffer {
  const entries = [Buffer.from([videoType, 0xe0, 0, 0])];
  if (audioType !== undefined) entries.push(Buffer.from([audioType, 0xc0, 0, 0]));
  const map = Buffer.concat(entries);
  const body = Buffer.concat([Buffer.from([0xe0, 0xff, 0, 0]), Buffer.from([map.length >> 8, map.length & 0xff]), map, Buffer.alloc(4)]);
  const h = Buffer.alloc(6);
  h.writeUInt32BE(0x000001bc, 0);
  h.writeUInt16BE(body.length, 4);
  return Buffer.concat([h, body]);
}

export function pes(streamId: number, data: Buffer, pts?: number, dts?: number): Buffer {
  const ptsBytes = pts === undefined ? Buffer.alloc(0) : dts === undefined ? ts5(2, pts) : Buffer.concat([ts5(3, pts), ts5(1, dts)]);
  const flags = pts === undefined ? 0 : dts === undefined ? 0x80 : 0xc0;
  const head = Buffer.from([0, 0, 1, streamId, 0, 0, 0x80, flags, ptsBytes.length]);
  head.writeUInt16BE(3 + ptsBytes.length + data.length, 4);
  return Buffer.concat([head, ptsBytes, data]);
}

export interface PsOptions {
  codec?: Codec;
  /** leave out the PSM (and system header): the demuxer must probe */
  noPsm?: boolean;
  /** add a 0xBD private PES (vendors' data) to every pack */
  privateStream?: boolean;
  /** add a G.711A audio PES (160 bytes) to every pack */
  audio?: boolean;
  /** most ES bytes per video PES: a frame larger is split over several (the later ones without PTS) */
  maxPesPayload?: number;
}

/** One pack for one access unit, as a GB/T 28181 device muxes it. */
export function psFrame(au: AccessUnit, pts90k: number, o: PsOptions = {}): Buffer {
  const parts: Buffer[] = [packHeader(pts90k, 2)];
  if (au.keyframe && !o.noPsm) parts.push(systemHeader(), psm(o.codec === 'h265' ? 0x24 : 0x1b, o.audio ? 0x90 : undefined));
  const max = o.maxPesPayload ?? 65_000;
  for (let at = 0; at < au.data.length; at += max) parts.push(pes(0xe0, au.data.subarray(at, at + max), at === 0 ? pts90k : undefined));
  if (o.privateStream) parts.push(pes(0xbd, Buffer.alloc(40, 0x11)));
  if (o.audio) parts.push(pes(0xc0, Buffer.alloc(160, 0xd5), pts90k));
  return Buffer.concat(parts);
}

export interface RtpOptions {
  ssrc: number;
  payloadType?: number;
  /** largest RTP payload; default 1400 */
  mtu?: number;
  seq?: number;
}

export function rtpHeader(pt: number, marker: boolean, seq: number, ts: number, ssrc: number): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = (marker ? 0x80 : 0) | pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return h;
}

/** A stateful RTP packetiser: PS frames cut at the MTU, the marker on the last packet of a frame. */
export class RtpPacketiser {
  seq: number;
  constructor(readonly o: RtpOptions) {
    this.seq = o.seq ?? 1000;
  }
  ps(frame: Buffer, ts: number): Buffer[] {
    const mtu = this.o.mtu ?? 1400;
    const out: Buffer[] = [];
    for (let at = 0; at < frame.length; at += mtu) {
      const last = at + mtu >= frame.length;
      out.push(Buffer.concat([rtpHeader(this.o.payloadType ?? 96, last, this.seq++, ts, this.o.ssrc), frame.subarray(at, at + mtu)]));
    }
    return out;
  }
  /** Raw H.264 (RFC 6184) or H.265 (RFC 7798): single NAL units, FU(-A) for large ones, one STAP/AP of parameter sets. */
  raw(codec: Codec, au: Buffer, ts: number): Buffer[] {
    const mtu = this.o.mtu ?? 1400;
    const pt = this.o.payloadType ?? (codec === 'h264' ? 98 : 99);
    const units = nals(au);
    const payloads: Buffer[] = [];
    const params = units.filter((n) => (codec === 'h264' ? [7, 8].includes(n[0]! & 0x1f) : [32, 33, 34].includes((n[0]! >> 1) & 0x3f)));
    if (params.length > 0) {
      const head = codec === 'h264' ? Buffer.from([(params[0]![0]! & 0x60) | 24]) : Buffer.from([48 << 1, 1]);
      payloads.push(Buffer.concat([head, ...params.flatMap((n) => [Buffer.from([n.length >> 8, n.length & 0xff]), n])]));
    }
    for (const n of units) {
      if (params.includes(n)) continue;
      if (n.length <= mtu) {
        payloads.push(n);
        continue;
      }
      const hlen = codec === 'h264' ? 1 : 2;
      const body = n.subarray(hlen);
      for (let at = 0; at < body.length; at += mtu) {
        const s = at === 0 ? 0x80 : 0;
        const e = at + mtu >= body.length ? 0x40 : 0;
        const head =
          codec === 'h264'
            ? Buffer.from([(n[0]! & 0xe0) | 28, s | e | (n[0]! & 0x1f)])
            : Buffer.from([(n[0]! & 0x81) | (49 << 1), n[1]!, s | e | ((n[0]! >> 1) & 0x3f)]);
        payloads.push(Buffer.concat([head, body.subarray(at, at + mtu)]));
      }
    }
    return payloads.map((p, i) => Buffer.concat([rtpHeader(pt, i === payloads.length - 1, this.seq++, ts, this.o.ssrc), p]));
  }
}

export function frame4571(p: Buffer): Buffer {
  return Buffer.concat([Buffer.from([p.length >> 8, p.length & 0xff]), p]);
}

/** Every RTP packet of a PS stream of the clip, frame by frame (25 fps, 90 kHz). */
export async function psPackets(codec: Codec, ssrc: number, o: PsOptions & { seconds?: number } = {}): Promise<Buffer[][]> {
  const aus = accessUnits(codec, await annexBClip(codec, o.seconds ?? 2));
  const rtp = new RtpPacketiser({ ssrc });
  return aus.map((au, i) => rtp.ps(psFrame(au, 3600 * i + 3600, { ...o, codec }), 3600 * i + 3600));
}

/** An upper platform's UDP receiver on 127.0.0.1 with an outgoing leg of `streamId` sending to it: what it got, parsed. */
export async function udpLegSink(
  t: { teardown(fn: () => unknown): void },
  engine: { openOutgoing(spec: { streamId: string; legId: string; transport: 'udp'; host: string; port: number; ssrc: string }): Promise<unknown> },
  leg: { streamId: string; legId: string; ssrc: string },
): Promise<RtpPacket[]> {
  const sink = createSocket('udp4');
  sink.bind(0, '127.0.0.1');
  await once(sink, 'listening');
  t.teardown(() => sink.close());
  const got: RtpPacket[] = [];
  sink.on('message', (m) => got.push(parseRtp(Buffer.from(m))!));
  await engine.openOutgoing({ ...leg, transport: 'udp', host: '127.0.0.1', port: sink.address().port });
  return got;
}
