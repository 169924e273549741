// A small, bounded reorder buffer per stream. Packets come out in sequence order; a packet that
// arrives after a later one is held back (counted reordered) while the gap is short; a gap still
// open when `window` packets wait behind it, or when flushGap() is called (a timer), is given up
// (counted lost) and the waiting packets come out. Duplicates and packets older than what already
// came out are dropped. Memory: at most `window` packets.
import { seqDiff, type RtpPacket } from './rtpPacket.ts';

export interface ReorderCounts {
  packets: number;
  lost: number;
  reordered: number;
  duplicates: number;
}

export class ReorderBuffer {
  readonly #window: number;
  /** the next sequence number due out; undefined before the first packet */
  #next: number | undefined;
  readonly #held = new Map<number, RtpPacket>();
  readonly counts: ReorderCounts = { packets: 0, lost: 0, reordered: 0, duplicates: 0 };

  constructor(window = 32) {
    this.#window = Math.max(1, window);
  }

  get holding(): number {
    return this.#held.size;
  }

  /** Starts again (a new SSRC): the next packet sets the sequence. */
  reset(): void {
    this.#next = undefined;
    this.#held.clear();
  }

  push(p: RtpPacket): RtpPacket[] {
    this.counts.packets++;
    if (this.#next === undefined) this.#next = p.seq;
    const d = seqDiff(p.seq, this.#next);
    if (d < 0) {
      // came after its place was passed: a duplicate of one that went out, or too late
      if (d > -this.#window * 4) this.counts.duplicates++;
      else {
        // a jump far back: the sender restarted its sequence; follow it
        this.reset();
        return this.push(p);
      }
      return [];
    }
    if (this.#held.has(p.seq)) {
      this.counts.duplicates++;
      return [];
    }
    if (d > 0x4000) {
      // a jump far ahead: the sender restarted; give up what was held
      const out = this.#drain();
      this.#next = p.seq;
      this.#held.set(p.seq, p);
      return [...out, ...this.#release()];
    }
    if (d > 0 || this.#held.size > 0) {
      if (d > 0 && this.#held.size === 0) {
        // the first packet past a gap: hold it
      } else if (d >= 0 && this.#isBefore(p.seq)) {
        this.counts.reordered++;
      }
    }
    this.#held.set(p.seq, p);
    const out = this.#release();
    if (this.#held.size >= this.#window) return [...out, ...this.flushGap()];
    return out;
  }

  /** Gives up the gap before the oldest held packet: counts it lost and releases what follows. */
  flushGap(): RtpPacket[] {
    if (this.#held.size === 0 || this.#next === undefined) return [];
    let oldest: number | undefined;
    for (const s of this.#held.keys()) if (oldest === undefined || seqDiff(s, oldest) < 0) oldest = s;
    this.counts.lost += seqDiff(oldest!, this.#next);
    this.#next = oldest!;
    return this.#release();
  }

  /** true when some held packet has a later sequence than `seq` (it filled a gap behind them) */
  #isBefore(seq: number): boolean {
    for (const s of this.#held.keys()) if (seqDiff(s, seq) > 0) return true;
    return false;
  }

  #release(): RtpPacket[] {
    const out: RtpPacket[] = [];
    for (;;) {
      const p = this.#held.get(this.#next!);
      if (!p) break;
      this.#held.delete(this.#next!);
      out.push(p);
      this.#next = (this.#next! + 1) & 0xffff;
    }
    return out;
  }

  #drain(): RtpPacket[] {
    const out: RtpPacket[] = [];
    while (this.#held.size > 0) out.push(...this.flushGap());
    return out;
  }
}
