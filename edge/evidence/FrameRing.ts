// The last few seconds of one camera's frames, each with the marks that applied to it, so a clip cut
// after an event shows the frames before it and the boxes as they were then. Bounded by count
// (seconds × fps): the oldest frame is dropped when a new one comes, whatever the frame rate does.
import { snapshotMarks } from '../marks/snapshot.ts';
import type { Frame, Marks } from '../types.ts';

export interface MarkedFrame {
  frame: Frame;
  marks: Marks[];
}

export interface FrameRingOptions {
  /** frames per second the camera delivers (the analysis rate) */
  fps: number;
  /** seconds to keep; default 8 */
  seconds?: number;
}

export class FrameRing {
  readonly capacity: number;
  readonly #slots: (MarkedFrame | undefined)[];
  /** index of the next slot to write */
  #next = 0;
  #size = 0;

  constructor(options: FrameRingOptions) {
    const seconds = options.seconds ?? 8;
    if (!(options.fps > 0) || !(seconds > 0)) throw new RangeError(`FrameRing needs fps > 0 and seconds > 0, got ${options.fps} and ${seconds}`);
    this.capacity = Math.ceil(options.fps * seconds);
    this.#slots = new Array<MarkedFrame | undefined>(this.capacity).fill(undefined);
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Keeps `frame` (by reference: capture hands each frame its own buffers) with a copy of `marks`.
   * Returns the frame it dropped to make room, if any.
   */
  push(frame: Frame, marks: readonly Marks[]): MarkedFrame | undefined {
    const dropped = this.#slots[this.#next];
    this.#slots[this.#next] = { frame, marks: snapshotMarks(marks) };
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
    return dropped;
  }

  /** Frames with fromMs ≤ at < toMs, oldest first (half-open, so back-to-back windows share no frame). */
  between(fromMs: number, toMs: number): MarkedFrame[] {
    return this.all().filter((f) => f.frame.at >= fromMs && f.frame.at < toMs);
  }

  /** Every frame held, oldest first. */
  all(): MarkedFrame[] {
    const out: MarkedFrame[] = [];
    const start = (this.#next - this.#size + this.capacity) % this.capacity;
    for (let i = 0; i < this.#size; i++) out.push(this.#slots[(start + i) % this.capacity]!);
    return out;
  }

  /** The newest frame, if any. */
  latest(): MarkedFrame | undefined {
    return this.#size === 0 ? undefined : this.#slots[(this.#next - 1 + this.capacity) % this.capacity];
  }

  /** The oldest frame, if any. */
  oldest(): MarkedFrame | undefined {
    return this.#size === 0 ? undefined : this.#slots[(this.#next - this.#size + this.capacity) % this.capacity];
  }

  clear(): void {
    this.#slots.fill(undefined);
    this.#next = 0;
    this.#size = 0;
  }
}
