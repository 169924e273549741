// Even RTP ports from the configured range, one per stream or leg. The lowest free port is handed
// out (a port given back is reused), and a port the OS refuses (someone else bound it) is skipped
// by the caller trying the next one.
import { MediaNoPort } from '../errors.ts';

export class PortPool {
  readonly #used = new Set<number>();
  readonly #min: number;
  readonly #max: number;

  constructor(min: number, max: number) {
    this.#min = min % 2 === 0 ? min : min + 1;
    this.#max = max;
  }

  /** The lowest free even port not in `skip`. */
  take(skip: ReadonlySet<number> = new Set()): number {
    for (let p = this.#min; p <= this.#max; p += 2) {
      if (this.#used.has(p) || skip.has(p)) continue;
      this.#used.add(p);
      return p;
    }
    throw MediaNoPort(`no free even port in ${this.#min}-${this.#max}: ${this.#used.size} in use; widen gb28181 media ports`, { field: 'ports' });
  }

  give(port: number): void {
    this.#used.delete(port);
  }

  get inUse(): number {
    return this.#used.size;
  }
}
