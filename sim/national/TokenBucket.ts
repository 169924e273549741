// A token bucket shared by every request body of the data port: `take(n)` resolves when n bytes
// may be read. Readers await it between chunks, so a capped body is paused at the socket (TCP
// flow control) rather than buffered. Taking more than is available leaves the bucket in debt and
// waits for the debt to be paid: concurrent readers queue behind each other and the total rate
// holds.

const BURST_SECONDS = 0.05;

export class TokenBucket {
  #rate = 0;
  #available = 0;
  #last = 0;
  readonly #waiting = new Map<NodeJS.Timeout, () => void>();
  #closed = false;

  constructor(
    rateBytesPerSec: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.setRate(rateBytesPerSec);
  }

  get rate(): number {
    return this.#rate;
  }

  /** 0 = unlimited (and every reader waiting now goes on at once). */
  setRate(bytesPerSec: number): void {
    if (bytesPerSec === this.#rate) return;
    this.#rate = bytesPerSec;
    if (bytesPerSec <= 0) this.releaseAll();
    this.#available = bytesPerSec * BURST_SECONDS;
    this.#last = this.now();
  }

  async take(bytes: number): Promise<void> {
    const rate = this.#rate;
    if (rate <= 0 || this.#closed) return;
    const t = this.now();
    const burst = rate * BURST_SECONDS;
    this.#available = Math.min(burst, this.#available + ((t - this.#last) / 1000) * rate);
    this.#last = t;
    this.#available -= bytes;
    if (this.#available >= 0) return;
    const waitMs = (-this.#available / rate) * 1000;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(timer);
        resolve();
      }, waitMs);
      this.#waiting.set(timer, resolve);
    });
  }

  /** No more waiting, now or later (the simulator is closing). */
  close(): void {
    this.#closed = true;
    this.releaseAll();
  }

  /** Lets every waiting reader go on now (rate set to unlimited, or the simulator closing). */
  releaseAll(): void {
    for (const [timer, resolve] of this.#waiting) {
      clearTimeout(timer);
      resolve();
    }
    this.#waiting.clear();
  }
}
