// Stops sending while the upstream is down, so that a dead platform costs one probe every few
// seconds instead of a failed call per item. closed → (N failures in a row) → open → (a probe
// answers) → halfOpen → (one call succeeds) → closed, or → (it fails) → open.
export type BreakerState = 'closed' | 'open' | 'halfOpen';

export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #since = Date.now();
  #lastError = '';
  #trial = false;

  constructor(readonly threshold: number) {}

  get state(): BreakerState {
    return this.#state;
  }

  get since(): number {
    return this.#since;
  }

  get lastError(): string {
    return this.#lastError;
  }

  /** Whether a call may be started now (in halfOpen: exactly one trial call). */
  allow(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'halfOpen' && !this.#trial) {
      this.#trial = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.#failures = 0;
    this.#trial = false;
    if (this.#state !== 'closed') this.#move('closed');
  }

  failure(error: string): void {
    this.#lastError = error;
    this.#failures++;
    this.#trial = false;
    if (this.#state === 'halfOpen' || (this.#state === 'closed' && this.#failures >= this.threshold)) this.#move('open');
  }

  /**
   * A call ended without telling anything about the upstream (the item could not be sent: its
   * video is damaged, or its account waits for a login): in halfOpen, the next call is the trial.
   */
  abstain(): void {
    this.#trial = false;
  }

  /** A health probe answered while open: let one call through. */
  probeSucceeded(): void {
    if (this.#state === 'open') this.#move('halfOpen');
  }

  #move(to: BreakerState): void {
    this.#state = to;
    this.#since = Date.now();
  }
}
