// Token bucket per source address for the login endpoint: `perMinute` attempts refill evenly over a
// minute, with a burst of the same size. The table is bounded: when full, the least recently seen
// address is forgotten (which only ever makes the limiter more lenient, never stricter).

interface Bucket {
  tokens: number;
  at: number;
}

export interface RateDecision {
  allowed: boolean;
  /** seconds until one attempt is available again */
  retryAfterSeconds: number;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #perMinute: number;
  readonly #maxEntries: number;

  constructor(perMinute: number, maxEntries = 10_000) {
    this.#perMinute = perMinute;
    this.#maxEntries = maxEntries;
  }

  take(address: string, now = Date.now()): RateDecision {
    const rate = this.#perMinute / 60_000;
    let b = this.#buckets.get(address);
    if (b) {
      this.#buckets.delete(address); // re-insert: Map order is recency
      b.tokens = Math.min(this.#perMinute, b.tokens + (now - b.at) * rate);
      b.at = now;
    } else {
      b = { tokens: this.#perMinute, at: now };
      if (this.#buckets.size >= this.#maxEntries) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    }
    this.#buckets.set(address, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000)) };
  }
}
