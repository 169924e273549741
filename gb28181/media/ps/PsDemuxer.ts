// MPEG-2 program stream (ISO 13818-1 2.5) as GB/T 28181 devices send it over RTP payload 96: a
// byte stream of pack headers (0xBA, MPEG-2 with stuffing, or MPEG-1), system headers (0xBB), the
// program stream map (0xBC: which stream id carries which codec), PES packets of video (0xE0…0xEF)
// and audio (0xC0…0xDF), and streams we skip (0xBD private, 0xBE padding, 0xBF, …). RTP packets
// cut it anywhere: a PES may span packets and a packet may hold several; so bytes accumulate until
// a whole unit is there, bounded by the largest unit the syntax allows.
//
// Video access units: a PES with a new PTS starts a frame; PES without a PTS, or with the frame's
// PTS, continue it (a frame split over several PES). A frame is complete when the next frame starts,
// when the RTP marker bit ends a packet with no PES cut in half, or (streams without PTS) at the
// next pack header. Without a PSM the codec is probed from the NAL headers. Audio PES (G.711) are
// passed through one frame per PES. Total: garbage between units is skipped and counted.
import { isKeyframe, probeCodec, type VideoCodec } from '../es/nal.ts';
import type { MediaFrame } from '../MediaTypes.ts';

/** a frame as the engine hands it on (one video access unit in Annex B, or one G.711 frame) */
export type DemuxedFrame = MediaFrame;

export interface PsCounts {
  packs: number;
  pes: number;
  /** bytes that belonged to no unit (garbage, cut units) */
  skippedBytes: number;
  /** PES of streams we do not carry (0xBD private, padding, unknown codecs) */
  skippedPes: number;
  /** video frames dropped because the codec was unknown (no PSM and a probe that could not tell) */
  unknownCodecFrames: number;
}

const STREAM_TYPE_VIDEO: Record<number, VideoCodec> = { 0x1b: 'h264', 0x24: 'h265' };
const STREAM_TYPE_AUDIO: Record<number, 'pcma' | 'pcmu'> = { 0x90: 'pcma', 0x91: 'pcmu' };
/** more buffered than this without a whole unit is garbage: dropped */
const MAX_BUFFER = 1024 * 1024;
/** a frame larger than this is cut off (a 4K I-frame is far below) */
const MAX_FRAME = 8 * 1024 * 1024;

interface Pending {
  pts: number | undefined;
  dts: number | undefined;
  parts: Buffer[];
  size: number;
}

function readTs(b: Buffer, at: number): number {
  return ((b[at]! >> 1) & 0x07) * 2 ** 30 + b[at + 1]! * 2 ** 22 + (b[at + 2]! >> 1) * 2 ** 15 + b[at + 3]! * 2 ** 7 + (b[at + 4]! >> 1);
}

export class PsDemuxer {
  readonly counts: PsCounts = { packs: 0, pes: 0, skippedBytes: 0, skippedPes: 0, unknownCodecFrames: 0 };
  #buf: Buffer = Buffer.alloc(0);
  /** payloads after #buf, kept apart while the unit at its head cannot be whole yet */
  #parts: Buffer[] = [];
  #partsLen = 0;
  /** bytes the unit at the head of #buf needs in all (0: not known) */
  #need = 0;
  /** set by #unit when it answers 0 and knows the unit's whole size */
  #unitNeed = 0;
  /** stream id → stream type from the PSM */
  readonly #types = new Map<number, number>();
  #psm = false;
  #probed: VideoCodec | undefined;
  #video: Pending | undefined;
  #fallbackTs = 0;

  constructor(private readonly onFrame: (f: DemuxedFrame) => void) {}

  get videoCodec(): VideoCodec | undefined {
    return this.#videoCodec(0xe0);
  }

  /** The payload of one RTP packet; `rtpTimestamp` stands in for a missing PTS; `marker` ends a frame. */
  push(payload: Buffer, rtpTimestamp = 0, marker = false): void {
    this.#fallbackTs = rtpTimestamp;
    // a PES spread over many packets is joined once, when it is whole, not once per packet
    if (this.#need > 0 && this.#buf.length + this.#partsLen + payload.length < this.#need) {
      this.#parts.push(payload);
      this.#partsLen += payload.length;
      return;
    }
    this.#buf = this.#buf.length === 0 && this.#parts.length === 0 ? payload : Buffer.concat([this.#buf, ...this.#parts, payload]);
    this.#parts = [];
    this.#partsLen = 0;
    this.#need = 0;
    let at = 0;
    const buf = this.#buf;
    for (;;) {
      const start = this.#findStart(buf, at);
      if (start < 0) {
        // keep a possible start code cut at the end
        const keep = Math.min(3, buf.length - at);
        this.counts.skippedBytes += buf.length - at - keep;
        at = buf.length - keep;
        break;
      }
      this.counts.skippedBytes += start - at;
      at = start;
      this.#unitNeed = 0;
      const used = this.#unit(buf, at);
      if (used === 0) {
        this.#need = this.#unitNeed; // needs more bytes
        break;
      }
      at += used;
    }
    this.#buf = at >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
    if (this.#buf.length > MAX_BUFFER) {
      this.counts.skippedBytes += this.#buf.length;
      this.#buf = Buffer.alloc(0);
      this.#need = 0;
    }
    if (marker && this.#buf.length === 0 && this.#video?.pts !== undefined) this.#flushVideo();
  }

  /** Emits the frame under way (end of stream). */
  flush(): void {
    this.#flushVideo();
  }

  #findStart(buf: Buffer, from: number): number {
    for (let i = from; i + 3 < buf.length; i++) {
      if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1 && buf[i + 3]! >= 0xb9) return i;
    }
    return -1;
  }

  /** Bytes used by the unit at `at` (0: incomplete, wait for more). */
  #unit(buf: Buffer, at: number): number {
    const id = buf[at + 3]!;
    const left = buf.length - at;
    if (id === 0xb9) return 4;
    if (id === 0xba) {
      if (left < 12) return 0;
      if ((buf[at + 4]! & 0xc0) === 0x40) {
        if (left < 14) return 0;
        const len = 14 + (buf[at + 13]! & 0x07);
        if (left < len) return 0;
        this.counts.packs++;
        if (this.#video && this.#video.pts === undefined) this.#flushVideo();
        return len;
      }
      if ((buf[at + 4]! & 0xf0) === 0x20) {
        this.counts.packs++;
        if (this.#video && this.#video.pts === undefined) this.#flushVideo();
        return 12;
      }
      return 1; // not a pack header after all
    }
    if (left < 6) return 0;
    const len = buf.readUInt16BE(at + 4);
    if (len === 0 && id >= 0xe0 && id <= 0xef) return this.#unboundedVideo(buf, at);
    if (left < 6 + len) {
      this.#unitNeed = 6 + len;
      return 0;
    }
    const unit = buf.subarray(at, at + 6 + len);
    if (id === 0xbc) this.#readPsm(unit);
    else if ((id >= 0xe0 && id <= 0xef) || (id >= 0xc0 && id <= 0xdf)) this.#pes(unit, id);
    else if (id !== 0xbb) this.counts.skippedPes++;
    return 6 + len;
  }

  /** A video PES of length 0 ("unbounded") runs to the next system start code. */
  #unboundedVideo(buf: Buffer, at: number): number {
    for (let i = at + 6; i + 3 < buf.length; i++) {
      if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
        const c = buf[i + 3]!;
        if (c === 0xba || c === 0xbb || c === 0xbc || c === 0xb9 || (c >= 0xc0 && c <= 0xef)) {
          this.#pes(buf.subarray(at, i), buf[at + 3]!);
          return i - at;
        }
      }
    }
    return 0;
  }

  #readPsm(unit: Buffer): void {
    if (unit.length < 12) return;
    const infoLen = unit.readUInt16BE(8);
    let p = 10 + infoLen;
    if (p + 2 > unit.length) return;
    const mapLen = unit.readUInt16BE(p);
    p += 2;
    const end = Math.min(unit.length, p + mapLen);
    while (p + 4 <= end) {
      const type = unit[p]!;
      const esId = unit[p + 1]!;
      const esInfo = unit.readUInt16BE(p + 2);
      this.#types.set(esId, type);
      p += 4 + esInfo;
    }
    this.#psm = true;
  }

  #pes(unit: Buffer, id: number): void {
    this.counts.pes++;
    let p = 6;
    let pts: number | undefined;
    let dts: number | undefined;
    if (unit.length < 9) return;
    if ((unit[6]! & 0xc0) === 0x80) {
      const flags = unit[7]!;
      const hdr = unit[8]!;
      if (9 + hdr > unit.length) return;
      if (flags & 0x80 && hdr >= 5) pts = readTs(unit, 9);
      if ((flags & 0xc0) === 0xc0 && hdr >= 10) dts = readTs(unit, 14);
      p = 9 + hdr;
    } else {
      // MPEG-1 PES: stuffing, optional STD buffer size, then PTS / PTS+DTS / none
      while (p < unit.length && unit[p] === 0xff && p < 6 + 16) p++;
      if (p < unit.length && (unit[p]! & 0xc0) === 0x40) p += 2;
      if (p < unit.length && (unit[p]! & 0xf0) === 0x20 && p + 5 <= unit.length) {
        pts = readTs(unit, p);
        p += 5;
      } else if (p < unit.length && (unit[p]! & 0xf0) === 0x30 && p + 10 <= unit.length) {
        pts = readTs(unit, p);
        dts = readTs(unit, p + 5);
        p += 10;
      } else p++;
      if (p > unit.length) return;
    }
    const data = unit.subarray(p);
    if (id >= 0xc0 && id <= 0xdf) return this.#audio(id, data, pts);
    const codecKnown = !this.#psm || this.#videoCodec(id) !== undefined;
    if (!codecKnown) {
      this.counts.skippedPes++;
      return;
    }
    const v = this.#video;
    if (pts !== undefined && v && v.size > 0 && v.pts !== pts) this.#flushVideo();
    if (!this.#video) this.#video = { pts, dts, parts: [], size: 0 };
    const cur = this.#video;
    if (cur.pts === undefined && pts !== undefined) {
      cur.pts = pts;
      cur.dts = dts;
    }
    if (cur.size + data.length <= MAX_FRAME) {
      // no copy: the bytes are never written again (RTP payloads, or a buffer joined for this PES),
      // and the frame is joined into one buffer of its own when it is whole
      cur.parts.push(data);
      cur.size += data.length;
    }
  }

  #videoCodec(id: number): VideoCodec | undefined {
    const type = this.#types.get(id);
    if (type !== undefined) return STREAM_TYPE_VIDEO[type];
    return this.#probed;
  }

  #audio(id: number, data: Buffer, pts: number | undefined): void {
    const type = this.#types.get(id);
    const codec = type === undefined ? (this.#psm ? undefined : 'pcma') : STREAM_TYPE_AUDIO[type];
    if (!codec || data.length === 0) {
      this.counts.skippedPes++;
      return;
    }
    const ts = pts ?? this.#fallbackTs;
    this.onFrame({ kind: 'audio', codec, pts90k: ts, dts90k: ts, keyframe: true, data: Buffer.from(data) });
  }

  #flushVideo(): void {
    const v = this.#video;
    this.#video = undefined;
    if (!v || v.size === 0) return;
    const data = Buffer.concat(v.parts, v.size);
    let codec = this.#videoCodec(0xe0);
    if (!codec) {
      this.#probed = probeCodec(data);
      codec = this.#probed;
    }
    if (!codec) {
      this.counts.unknownCodecFrames++;
      return;
    }
    const pts = v.pts ?? this.#fallbackTs;
    this.onFrame({ kind: 'video', codec, pts90k: pts, dts90k: v.dts ?? pts, keyframe: isKeyframe(codec, data), data });
  }
}
