// H.264 access units (Annex B) to fragmented MP4 for Media Source Extensions and ffmpeg: an init
// segment (ftyp + moov with an avcC made from the stream's SPS/PPS) and one moof + mdat per frame.
// One muxer per viewer: it waits for a keyframe carrying (or preceded by) SPS and PPS, starts its
// timeline at 0 there, and writes samples as 4-byte length-prefixed NAL units without the
// parameter sets and access unit delimiters (they live in avcC). New parameter sets mid-stream (a
// camera switched resolution or profile) start a new init segment at the next keyframe, on the same
// timeline; frames between the new SPS/PPS and that keyframe cannot be decoded with either and are
// left out.
import { parseH264Sps, type H264SpsInfo } from '../es/h264Sps.ts';
import { splitAnnexB } from '../es/nal.ts';
import { box, fullBox, u16, u32, u64 } from './boxes.ts';

const TIMESCALE = 90_000;
const TRACK = 1;
const MATRIX = u32(0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000);

export interface Fmp4Init {
  /** the codecs parameter for MSE: avc1.PPCCLL */
  codec: string;
  width: number;
  height: number;
  data: Buffer;
}

/** The avc1.PPCCLL codec string of an SPS. */
export function avcCodecString(sps: Buffer): string {
  return `avc1.${[sps[1]!, sps[2]!, sps[3]!].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function initSegment(sps: Buffer, pps: Buffer, info: H264SpsInfo): Buffer {
  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), u32(0x200), Buffer.from('isomiso6avc1mp41', 'latin1'));
  const mvhd = fullBox('mvhd', 0, 0, u32(0, 0, 1000, 0), u32(0x10000), u16(0x100), Buffer.alloc(10), MATRIX, Buffer.alloc(24), u32(TRACK + 1));
  const tkhd = fullBox('tkhd', 0, 3, u32(0, 0, TRACK, 0, 0), Buffer.alloc(8), u16(0, 0, 0, 0), MATRIX, u32(info.width << 16, info.height << 16));
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, TIMESCALE, 0), u16(0x55c4, 0));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from('vide', 'latin1'), Buffer.alloc(12), Buffer.from('VideoHandler\0', 'latin1'));
  const avcC = box('avcC', Buffer.from([1, sps[1]!, sps[2]!, sps[3]!, 0xff, 0xe1]), u16(sps.length), sps, Buffer.from([1]), u16(pps.length), pps);
  const avc1 = box('avc1', Buffer.alloc(6), u16(1), Buffer.alloc(16), u16(info.width, info.height), u32(0x480000, 0x480000, 0), u16(1), Buffer.alloc(32), u16(0x18, 0xffff), avcC);
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), avc1),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  const minf = box('minf', fullBox('vmhd', 0, 1, u16(0, 0, 0, 0)), box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))), stbl);
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, minf));
  const mvex = box('mvex', fullBox('trex', 0, 0, u32(TRACK, 1, 0, 0, 0)));
  return Buffer.concat([ftyp, box('moov', mvhd, trak, mvex)]);
}

export function mediaSegment(seq: number, baseDts: number, duration: number, keyframe: boolean, sample: Buffer, ctsOffset = 0): Buffer {
  const flags = keyframe ? 0x02000000 : 0x01010000;
  const tfhd = fullBox('tfhd', 0, 0x020000, u32(TRACK));
  const tfdt = fullBox('tfdt', 1, 0, u64(baseDts));
  // data offset patched below, once the moof's size is known
  const trunBody = [u32(1, 0), u32(duration, sample.length, flags, ctsOffset)];
  let trun = fullBox('trun', 0, 0x000f01, ...trunBody);
  const moofSize = (t: Buffer): number => 8 + 16 + (8 + tfhd.length + tfdt.length + t.length);
  trunBody[0] = u32(1, moofSize(trun) + 8);
  trun = fullBox('trun', 0, 0x000f01, ...trunBody);
  const moof = box('moof', fullBox('mfhd', 0, 0, u32(seq)), box('traf', tfhd, tfdt, trun));
  return Buffer.concat([moof, box('mdat', sample)]);
}

export class Fmp4Muxer {
  #sps: Buffer | undefined;
  #pps: Buffer | undefined;
  #init: Fmp4Init | undefined;
  #started = false;
  /** SPS or PPS differ from the ones of the current init segment */
  #paramsChanged = false;
  #seq = 1;
  #origin = 0;
  #lastDts: number | undefined;
  #lastDuration = 3600;

  get init(): Fmp4Init | undefined {
    return this.#init;
  }

  /**
   * One access unit; returns what to send: the init segment (before the first keyframe, and again
   * before the first keyframe after new SPS/PPS), then the fragment. Nothing until a keyframe with
   * known SPS/PPS has come.
   */
  push(au: Buffer, dts90k: number, pts90k: number, keyframe: boolean): Buffer[] {
    const nals = splitAnnexB(au);
    const out: Buffer[] = [];
    for (const n of nals) {
      const type = n[0]! & 0x1f;
      if (type === 7 && !this.#sps?.equals(n)) {
        this.#sps = Buffer.from(n);
        this.#paramsChanged = true;
      } else if (type === 8 && !this.#pps?.equals(n)) {
        this.#pps = Buffer.from(n);
        this.#paramsChanged = true;
      }
    }
    if (!this.#started || this.#paramsChanged) {
      if (!keyframe || !this.#sps || !this.#pps) return out;
      const info = parseH264Sps(this.#sps);
      if (!info) return out;
      const data = initSegment(this.#sps, this.#pps, info);
      this.#init = { codec: avcCodecString(this.#sps), width: info.width, height: info.height, data };
      out.push(data);
      this.#paramsChanged = false;
      if (!this.#started) {
        this.#started = true;
        this.#origin = dts90k;
      }
    }
    const body = nals.filter((n) => ![7, 8, 9].includes(n[0]! & 0x1f));
    if (body.length === 0) return out;
    const sample = Buffer.concat(body.flatMap((n) => [u32(n.length), n]));
    let dts = dts90k - this.#origin;
    if (this.#lastDts !== undefined) {
      // a timestamp that jumps back or far ahead (a device restart, wrap) keeps the timeline going
      const step = dts - this.#lastDts;
      if (step <= 0 || step > TIMESCALE * 5) {
        dts = this.#lastDts + this.#lastDuration;
        this.#origin = dts90k - dts;
      } else this.#lastDuration = step;
    }
    this.#lastDts = dts;
    out.push(mediaSegment(this.#seq++, dts, this.#lastDuration, keyframe, sample, Math.max(0, pts90k - dts90k)));
    return out;
  }
}
