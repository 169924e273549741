// Raw H.264 (RFC 6184, payload 98 in GB/T 28181) and H.265 (RFC 7798, payload 99) over RTP, to
// Annex B access units: single NAL units, aggregation packets (STAP-A 24 / AP 48) and fragmentation
// units (FU-A 28 / FU 49). A frame ends at the marker bit or when the timestamp changes; a
// fragment whose start was lost is dropped up to the next start. Total on any payload.
import { isKeyframe, type VideoCodec } from '../es/nal.ts';
import type { DemuxedFrame } from '../ps/PsDemuxer.ts';

const START = Buffer.from([0, 0, 0, 1]);
const MAX_FRAME = 8 * 1024 * 1024;

export class RawDepacketizer {
  #parts: Buffer[] = [];
  #size = 0;
  #ts: number | undefined;
  /** a fragmented NAL under way (its header already in #parts), false after a lost start */
  #inFragment = false;
  droppedFragments = 0;

  constructor(
    readonly codec: VideoCodec,
    private readonly onFrame: (f: DemuxedFrame) => void,
  ) {}

  push(payload: Buffer, timestamp: number, marker: boolean): void {
    if (this.#ts !== undefined && timestamp !== this.#ts) this.flush();
    this.#ts = timestamp;
    if (this.codec === 'h264') this.#h264(payload);
    else this.#h265(payload);
    if (marker) this.flush();
  }

  flush(): void {
    if (this.#size > 0 && this.#ts !== undefined) {
      const data = Buffer.concat(this.#parts, this.#size);
      this.onFrame({ kind: 'video', codec: this.codec, pts90k: this.#ts, dts90k: this.#ts, keyframe: isKeyframe(this.codec, data), data });
    }
    this.#parts = [];
    this.#size = 0;
    this.#inFragment = false;
  }

  #nal(nal: Buffer): void {
    if (nal.length === 0) return;
    this.#add(START);
    this.#add(nal);
  }

  #add(b: Buffer): void {
    if (this.#size + b.length > MAX_FRAME) return;
    this.#parts.push(Buffer.from(b));
    this.#size += b.length;
  }

  #h264(p: Buffer): void {
    if (p.length < 1) return;
    const type = p[0]! & 0x1f;
    if (type >= 1 && type <= 23) return this.#nal(p);
    if (type === 24) return this.#aggregate(p.subarray(1));
    if (type === 28 && p.length >= 2) {
      const fu = p[1]!;
      const header = (p[0]! & 0xe0) | (fu & 0x1f);
      this.#fragment(fu & 0x80, Buffer.from([header]), p.subarray(2));
    }
  }

  #h265(p: Buffer): void {
    if (p.length < 2) return;
    const type = (p[0]! >> 1) & 0x3f;
    if (type < 48) return this.#nal(p);
    if (type === 48) return this.#aggregate(p.subarray(2));
    if (type === 49 && p.length >= 3) {
      const fu = p[2]!;
      const header = Buffer.from([(p[0]! & 0x81) | ((fu & 0x3f) << 1), p[1]!]);
      this.#fragment(fu & 0x80, header, p.subarray(3));
    }
  }

  #aggregate(body: Buffer): void {
    let at = 0;
    while (at + 2 <= body.length) {
      const len = body.readUInt16BE(at);
      at += 2;
      if (len === 0 || at + len > body.length) return;
      this.#nal(body.subarray(at, at + len));
      at += len;
    }
  }

  #fragment(start: number, header: Buffer, data: Buffer): void {
    if (start) {
      this.#add(START);
      this.#add(header);
      this.#inFragment = true;
    } else if (!this.#inFragment) {
      this.droppedFragments++;
      return;
    }
    this.#add(data);
  }
}
