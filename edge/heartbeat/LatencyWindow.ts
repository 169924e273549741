// The detector's latency over its last runs, for the heartbeat: a ring of the last `size` runs
// (what a frame waited and ran, as the pipeline saw it), percentiles computed when asked.
export class LatencyWindow {
  readonly #ring: Float64Array;
  #next = 0;
  #filled = 0;
  /** runs since start */
  runs = 0;

  constructor(size = 512) {
    this.#ring = new Float64Array(size);
  }

  add(ms: number): void {
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#filled = Math.min(this.#filled + 1, this.#ring.length);
    this.runs++;
  }

  /** p50 and p95 of the window (nearest rank), 0 before the first run; ms rounded to 0.1. */
  percentiles(): { p50Ms: number; p95Ms: number; runs: number } {
    if (!this.#filled) return { p50Ms: 0, p95Ms: 0, runs: this.runs };
    const sorted = this.#ring.slice(0, this.#filled).sort();
    const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]! * 10) / 10;
    return { p50Ms: at(0.5), p95Ms: at(0.95), runs: this.runs };
  }
}
