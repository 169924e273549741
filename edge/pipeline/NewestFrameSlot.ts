// Between a live capture and its analysis: one frame is analysed at a time and only the newest one
// waits, so a slow detector costs frames, never memory or latency. Frames that a newer one replaced
// while waiting are `skipped`.
import type { Frame } from '../types.ts';

export interface NewestFrameSlotHooks {
  /** a frame arrived while another was being analysed (it waits, or replaces the one waiting) */
  onWait?(frame: Frame): void;
  /** a waiting frame was replaced by a newer one before it was analysed */
  onSkip?(frame: Frame): void;
  /** analysing a frame threw */
  onError?(err: unknown, frame: Frame): void;
}

export class NewestFrameSlot {
  readonly #analyse: (frame: Frame) => Promise<unknown>;
  readonly #hooks: NewestFrameSlotHooks;
  #busy = false;
  #waiting: Frame | undefined;
  #idle: Promise<void> = Promise.resolve();
  skipped = 0;

  constructor(analyse: (frame: Frame) => Promise<unknown>, hooks: NewestFrameSlotHooks = {}) {
    this.#analyse = analyse;
    this.#hooks = hooks;
  }

  offer(frame: Frame): void {
    if (this.#busy) {
      this.#hooks.onWait?.(frame);
      if (this.#waiting) {
        this.skipped++;
        this.#hooks.onSkip?.(this.#waiting);
      }
      this.#waiting = frame;
      return;
    }
    this.#busy = true;
    this.#idle = this.#run(frame);
  }

  /** Drops the waiting frame and settles once the one in analysis is done (for shutdown). */
  drain(): Promise<void> {
    this.#waiting = undefined;
    return this.#idle;
  }

  async #run(first: Frame): Promise<void> {
    let frame: Frame | undefined = first;
    while (frame) {
      try {
        await this.#analyse(frame);
      } catch (err) {
        this.#hooks.onError?.(err, frame);
      }
      frame = this.#waiting;
      this.#waiting = undefined;
    }
    this.#busy = false;
  }
}
