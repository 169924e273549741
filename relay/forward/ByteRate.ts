// A shared cap on bytes per second (a token bucket with one second of burst), applied to the
// video streams sent upstream so that forwarding leaves room on the provincial link.
import { Transform, type TransformCallback } from 'node:stream';

export class ByteRate {
  #tokens: number;
  #at = Date.now();

  constructor(readonly bytesPerSecond: number) {
    this.#tokens = bytesPerSecond;
  }

  /** ms to wait before `bytes` may pass (and takes them) */
  #take(bytes: number): number {
    const now = Date.now();
    this.#tokens = Math.min(this.bytesPerSecond, this.#tokens + ((now - this.#at) * this.bytesPerSecond) / 1000);
    this.#at = now;
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.bytesPerSecond);
  }

  /** A pass-through stream that holds each chunk until the cap allows it. */
  throttle(): Transform {
    const rate = this;
    return new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
        const wait = rate.#take(chunk.length);
        if (wait === 0) callback(null, chunk);
        else setTimeout(() => callback(null, chunk), wait);
      },
    });
  }
}
