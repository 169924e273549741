// The GOP cache of one incoming stream (ZLMediaKit's idea, at the RTP level): the packets since the
// first packet of the last keyframe, so that a relay leg opened mid-GOP (the upper platform's
// INVITE) starts with a decodable picture instead of waiting up to a GOP (2–4 s on real cameras)
// for the next one, and a viewer that subscribes to a relay-only stream gets those packets demuxed.
// Bounded in packets and bytes: past either, the cache is dropped and stays empty until the next
// keyframe (a leg opened then starts live, as without a cache). The packets are the ones the stream
// already holds (no copy); the payload bytes count towards the bound.
import type { RtpPacket } from '../rtp/rtpPacket.ts';
import type { PacketMark } from '../rtp/keyframeStart.ts';

export const GOP_MAX_PACKETS = 1000;
export const GOP_MAX_BYTES = 4 * 1024 * 1024;

export class GopCache {
  #packets: RtpPacket[] = [];
  #bytes = 0;
  /** the cache starts at a keyframe's first packet */
  #keyed = false;
  /** where the access unit under way starts in #packets */
  #unitAt = 0;
  #unitKey = false;
  /** past a bound in the middle of an access unit: its other packets are not kept either */
  #skipUnit = false;
  /** times a bound was passed (the cache dropped until the next keyframe) */
  overflows = 0;

  constructor(
    readonly maxPackets = GOP_MAX_PACKETS,
    readonly maxBytes = GOP_MAX_BYTES,
  ) {}

  push(p: RtpPacket, mark: PacketMark): void {
    if (mark.unitStart) {
      this.#skipUnit = false;
      if (!this.#keyed) this.#clear();
      this.#unitAt = this.#packets.length;
      this.#unitKey = false;
    }
    if (this.#skipUnit) return;
    this.#packets.push(p);
    this.#bytes += p.payload.length;
    if (mark.key && !this.#unitKey) {
      this.#unitKey = true;
      this.#keyed = true;
      // a new GOP: what came before its first packet goes
      if (this.#unitAt > 0) {
        for (let i = 0; i < this.#unitAt; i++) this.#bytes -= this.#packets[i]!.payload.length;
        this.#packets = this.#packets.slice(this.#unitAt);
        this.#unitAt = 0;
      }
    }
    if (this.#packets.length > this.maxPackets || this.#bytes > this.maxBytes) {
      this.overflows++;
      this.#clear();
      this.#keyed = false;
      this.#skipUnit = true;
    }
  }

  /** The packets from the last keyframe's first one, in order; empty when there is none (or the bounds were passed). */
  snapshot(): readonly RtpPacket[] {
    return this.#keyed ? this.#packets.slice() : [];
  }

  get packets(): number {
    return this.#keyed ? this.#packets.length : 0;
  }

  get bytes(): number {
    return this.#keyed ? this.#bytes : 0;
  }

  /** Forgets everything (another source: the SSRC changed). */
  reset(): void {
    this.#clear();
    this.#keyed = false;
    this.#skipUnit = false;
  }

  #clear(): void {
    this.#packets = [];
    this.#bytes = 0;
    this.#unitAt = 0;
    this.#unitKey = false;
  }
}
