// The GOP cache of one incoming stream (ZLMediaKit's idea, at the RTP level): the packets since the
// first packet of the last keyframe, so that a relay leg opened mid-GOP (the upper platform's
// INVITE) starts with a decodable picture instead of waiting up to a GOP (2–4 s on real cameras)
// for the next one, and a viewer that subscribes to a relay-only stream gets those packets demuxed.
// Bounded in packets and bytes: past either, the cache is dropped and stays empty until the next
// keyframe (a leg opened then starts live, as without a cache).
// The payloads are copied into one growing arena per stream, their headers into typed arrays:
// keeping each datagram's own Buffer instead held hundreds of small objects per stream in the old
// generation, and the garbage collector's work on them cost the relay a third of its throughput.
// A snapshot is a copy (legs send it over some milliseconds; the arena is rewritten meanwhile).
import type { RtpPacket } from '../rtp/rtpPacket.ts';
import type { PacketMark } from '../rtp/keyframeStart.ts';

export const GOP_MAX_PACKETS = 1000;
export const GOP_MAX_BYTES = 4 * 1024 * 1024;
const ARENA_START = 64 * 1024;

export class GopCache {
  #arena: Buffer = Buffer.alloc(0);
  #used = 0;
  #n = 0;
  readonly #off: Uint32Array;
  readonly #len: Uint32Array;
  readonly #ts: Uint32Array;
  readonly #seq: Uint16Array;
  /** payload type | marker << 7 */
  readonly #pt: Uint8Array;
  /** the cache starts at a keyframe's first packet */
  #keyed = false;
  /** where the access unit under way starts */
  #unitAt = 0;
  #unitKey = false;
  /** past a bound in the middle of an access unit: its other packets are not kept either */
  #skipUnit = false;
  /** times a bound was passed (the cache dropped until the next keyframe) */
  overflows = 0;

  constructor(
    readonly maxPackets = GOP_MAX_PACKETS,
    readonly maxBytes = GOP_MAX_BYTES,
  ) {
    const n = maxPackets + 1;
    this.#off = new Uint32Array(n);
    this.#len = new Uint32Array(n);
    this.#ts = new Uint32Array(n);
    this.#seq = new Uint16Array(n);
    this.#pt = new Uint8Array(n);
  }

  push(p: RtpPacket, mark: PacketMark): void {
    if (mark.unitStart) {
      this.#skipUnit = false;
      if (!this.#keyed) this.#clear();
      this.#unitAt = this.#n;
      this.#unitKey = false;
    }
    if (this.#skipUnit) return;
    if (this.#n >= this.maxPackets || this.#used + p.payload.length > this.maxBytes) return this.#overflow();
    this.#store(p);
    if (mark.key && !this.#unitKey) {
      this.#unitKey = true;
      this.#keyed = true;
      if (this.#unitAt > 0) this.#dropBefore(this.#unitAt);
    }
  }

  /** The packets from the last keyframe's first one, in order (a copy); empty when there is none (or the bounds were passed). */
  snapshot(): RtpPacket[] {
    if (!this.#keyed || this.#n === 0) return [];
    const bytes = Buffer.from(this.#arena.subarray(0, this.#used));
    const out: RtpPacket[] = new Array(this.#n);
    for (let i = 0; i < this.#n; i++) {
      const off = this.#off[i]!;
      out[i] = { payloadType: this.#pt[i]! & 0x7f, marker: (this.#pt[i]! & 0x80) !== 0, seq: this.#seq[i]!, timestamp: this.#ts[i]!, ssrc: 0, payload: bytes.subarray(off, off + this.#len[i]!) };
    }
    return out;
  }

  get packets(): number {
    return this.#keyed ? this.#n : 0;
  }

  get bytes(): number {
    return this.#keyed ? this.#used : 0;
  }

  /** Forgets everything (another source: the SSRC changed). */
  reset(): void {
    this.#clear();
    this.#keyed = false;
    this.#skipUnit = false;
  }

  #store(p: RtpPacket): void {
    const len = p.payload.length;
    if (this.#used + len > this.#arena.length) {
      // by a quarter (the arena settles a little above the stream's GOP), in 64 KiB steps
      const want = Math.max(ARENA_START, this.#used + len, Math.ceil(this.#arena.length * 1.25));
      const grown = Buffer.allocUnsafe(Math.min(Math.ceil(want / ARENA_START) * ARENA_START, this.maxBytes));
      grown.set(this.#arena.subarray(0, this.#used));
      this.#arena = grown;
    }
    // TypedArray#set: a plain memcpy (Buffer#copy takes a slower path in Node 20)
    this.#arena.set(p.payload, this.#used);
    const i = this.#n++;
    this.#off[i] = this.#used;
    this.#len[i] = len;
    this.#ts[i] = p.timestamp;
    this.#seq[i] = p.seq;
    this.#pt[i] = (p.payloadType & 0x7f) | (p.marker ? 0x80 : 0);
    this.#used += len;
  }

  /** A new GOP: the packets before its first one go. */
  #dropBefore(k: number): void {
    const base = this.#off[k]!;
    this.#arena.copyWithin(0, base, this.#used);
    this.#used -= base;
    const n = this.#n - k;
    this.#off.copyWithin(0, k, this.#n);
    for (let i = 0; i < n; i++) this.#off[i]! -= base;
    this.#len.copyWithin(0, k, this.#n);
    this.#ts.copyWithin(0, k, this.#n);
    this.#seq.copyWithin(0, k, this.#n);
    this.#pt.copyWithin(0, k, this.#n);
    this.#n = n;
    this.#unitAt = 0;
  }

  #overflow(): void {
    this.overflows++;
    this.#clear();
    this.#keyed = false;
    this.#skipUnit = true;
  }

  #clear(): void {
    this.#n = 0;
    this.#used = 0;
    this.#unitAt = 0;
    this.#unitKey = false;
  }
}
