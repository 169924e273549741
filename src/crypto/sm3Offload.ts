// SM3 of large streams on a worker thread, so hashing a video overlaps with receiving and writing
// it instead of adding to the main thread's time (OpenSSL's SM3 runs about 540 MB/s on one core
// here: 9 ms of a 5 MB upload). One worker serves every job; blocks are transferred, not copied.
// Small inputs are hashed inline: a job only goes to the worker once it has a full block.
import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { defineError } from '../errors.ts';

export const HashWorkerFailed = defineError('ESEAL_ERR_CRYPTO_HASH_WORKER', 500, 'the SM3 worker thread failed');

// The worker's code, evaluated as plain CommonJS: it needs no TypeScript loader, so it runs the
// same from the sources (tsx) and from the build. One SM3 context per job, fed in order.
const WORKER_SOURCE = `
const { createHash } = require('node:crypto');
const { parentPort } = require('node:worker_threads');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'abort') { jobs.delete(m.job); return; }
  let hash = jobs.get(m.job);
  if (!hash) { hash = createHash('sm3'); jobs.set(m.job, hash); }
  if (m.op === 'update') {
    hash.update(new Uint8Array(m.data));
    parentPort.postMessage({ job: m.job, op: 'ack' });
  } else {
    jobs.delete(m.job);
    parentPort.postMessage({ job: m.job, op: 'digest', hex: hash.digest('hex') });
  }
});
`;

/** blocks a job may have queued at the worker before update() waits */
const MAX_QUEUED = 4;

interface Pending {
  acked: () => void;
  queued: number;
  waiters: (() => void)[];
  digest?: (hex: string) => void;
  fail: (err: Error) => void;
}

class Sm3Worker {
  readonly #worker: Worker;
  readonly #jobs = new Map<number, Pending>();
  #next = 1;
  #dead: Error | undefined;

  constructor() {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    this.#worker.on('message', (m: { job: number; op: 'ack' } | { job: number; op: 'digest'; hex: string }) => {
      const p = this.#jobs.get(m.job);
      if (!p) return;
      if (m.op === 'ack') p.acked();
      else {
        this.#drop(m.job);
        p.digest?.(m.hex);
      }
    });
    const die = (err: Error) => {
      this.#dead = err;
      for (const p of this.#jobs.values()) p.fail(err);
      this.#jobs.clear();
    };
    this.#worker.on('error', die);
    this.#worker.on('exit', (code) => die(new Error(`SM3 worker exited with code ${code}`)));
    // an idle worker must not keep the process alive; one with jobs must (see #busy)
    this.#worker.unref();
  }

  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /** a new job id, whose worker answers go to `p` */
  register(p: Pending): number {
    const job = this.#next++;
    if (this.#jobs.size === 0) this.#worker.ref();
    this.#jobs.set(job, p);
    return job;
  }

  #drop(job: number): void {
    if (this.#jobs.delete(job) && this.#jobs.size === 0) this.#worker.unref();
  }

  post(message: unknown, transfer?: ArrayBuffer[]): void {
    if (this.#dead) throw HashWorkerFailed(`SM3 worker is gone: ${this.#dead.message}`, { cause: this.#dead });
    this.#worker.postMessage(message, transfer);
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }

  forget(job: number): void {
    this.#drop(job);
  }
}

let shared: Sm3Worker | undefined;
function worker(): Sm3Worker {
  if (!shared || shared.dead) shared = new Sm3Worker();
  return shared;
}

/** Stops the shared worker (jobs under way fail with ESEAL_ERR_CRYPTO_HASH_WORKER); the next job starts a new one. */
export async function stopSm3Worker(): Promise<void> {
  const w = shared;
  shared = undefined;
  await w?.terminate();
}

/** One hash: feed it with update(), end it with digest() (or abort()). */
export class Sm3Job {
  readonly #inline: Hash = createHash('sm3');
  #inlineUsed = false;
  #worker: Sm3Worker | undefined;
  #job = 0;
  #pending: Pending | undefined;
  #error: Error | undefined;

  /**
   * Adds `block`. Once a job has a block of `offloadBytes` or more before anything was hashed
   * here, it moves to the worker for good, and every block handed over must not be used by the
   * caller afterwards (its memory is transferred). Otherwise blocks are hashed here: SM3 state
   * cannot move between threads, so a job never switches once it has begun on one side.
   */
  async update(block: Uint8Array, offloadBytes: number): Promise<void> {
    if (this.#error) throw this.#error;
    if (!this.#worker && (this.#inlineUsed || block.byteLength < offloadBytes)) {
      this.#inline.update(block);
      this.#inlineUsed = true;
      return;
    }
    if (!this.#worker) this.#startWorker();
    const p = this.#pending!;
    while (p.queued >= MAX_QUEUED && !this.#error) await new Promise<void>((r) => p.waiters.push(r));
    if (this.#error) throw this.#error;
    p.queued++;
    const whole = block.byteOffset === 0 && block.byteLength === block.buffer.byteLength && block.buffer instanceof ArrayBuffer;
    // (a Buffer's slice() is a view, not a copy: copy exactly the block's bytes into their own memory)
    const own = (whole ? block.buffer : new Uint8Array(block).buffer) as ArrayBuffer;
    this.#worker!.post({ job: this.#job, op: 'update', data: own }, [own]);
  }

  #startWorker(): void {
    const w = worker();
    this.#worker = w;
    const p: Pending = {
      queued: 0,
      waiters: [],
      acked: () => {
        p.queued--;
        p.waiters.splice(0).forEach((r) => r());
      },
      fail: (err) => {
        this.#error = HashWorkerFailed(`SM3 worker failed: ${err.message}`, { cause: err });
        p.waiters.splice(0).forEach((r) => r());
      },
    };
    this.#pending = p;
    this.#job = w.register(p);
  }

  /** the SM3 of everything added, lower-case hex */
  async digest(): Promise<string> {
    if (this.#error) throw this.#error;
    if (!this.#worker) return this.#inline.digest('hex');
    const p = this.#pending!;
    return new Promise<string>((resolve, reject) => {
      p.digest = resolve;
      p.fail = (err) => reject(HashWorkerFailed(`SM3 worker failed: ${err.message}`, { cause: err }));
      this.#worker!.post({ job: this.#job, op: 'digest' });
    });
  }

  abort(): void {
    if (!this.#worker) return;
    this.#worker.forget(this.#job);
    try {
      this.#worker.post({ job: this.#job, op: 'abort' });
    } catch {
      // the worker is gone anyway
    }
  }
}
