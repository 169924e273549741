// One detector for all cameras: an ONNX session on a worker thread, fed one frame at a time.
// Each camera has a small queue (default one frame); a new frame on a full queue replaces the
// oldest, which resolves undefined, so a slow detector drops frames instead of falling behind.
// Cameras with frames waiting are served round-robin. A watchdog restarts the worker when it dies
// or hangs, failing the frames it held with ESEAL_ERR_DETECT_WORKER.
import { Worker } from 'node:worker_threads';
import type { Detection, Frame } from '../types.ts';
import { DetectorClosed, DetectorModelLoadFailed, DetectorRunFailed, DetectorWorkerFailed } from './errors.ts';
import { checkModelSpec, type DetectorModelSpec } from './modelSpec.ts';
import type { FromWorker, ToWorker } from './workerProtocol.ts';

export interface DetectorOptions {
  model: DetectorModelSpec;
  /** frames each camera may have waiting (default 1) */
  queueDepth?: number;
  /** onnxruntime intra-op threads (default 1) */
  intraOpThreads?: number;
  /** lowest score reported, 0…1 (default 0.3) */
  scoreThreshold?: number;
  /** a frame running longer than this is taken as a hung worker (default 30 s) */
  runTimeoutMs?: number;
}

export interface DetectorStats {
  model: string;
  inputSize: number;
  framesRun: number;
  framesDropped: number;
  framesFailed: number;
  /** mean time in the worker per frame (letterbox + inference + decoding), ms */
  meanLatencyMs: number;
  workerRestarts: number;
}

export interface Detector {
  /** detections in frame pixels, or undefined when the frame was dropped for a newer one of its camera */
  detect(frame: Frame): Promise<Detection[] | undefined>;
  /** loads `spec` beside the current model and switches to it; refused (the old one kept) when it fails to load */
  swapModel(spec: DetectorModelSpec): Promise<void>;
  stats(): DetectorStats;
  /** frames still waiting resolve undefined, the one running finishes, then the worker stops */
  close(): Promise<void>;
  /** ends the worker as a crash would (tests of the watchdog) */
  crashWorkerForTest(): void;
}

interface Job {
  frame: Frame;
  rgb: Uint8Array;
  resolve: (d: Detection[] | undefined) => void;
  reject: (err: Error) => void;
}

interface Pending {
  resolve: (ms: number) => void;
  reject: (err: Error) => void;
}

// From the sources the worker is TypeScript and needs tsx's loader; from the build it is plain JS.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCES ? './detectorWorker.ts' : './detectorWorker.js', import.meta.url);

function startWorker(): Worker {
  // onnxruntime-node (1.2x and later) keeps a device id and a telemetry database under ~/.cache and
  // tries to upload telemetry over HTTPS. An appliance on a province's closed network must not: the
  // library reads this variable from the process environment when its first session is made, in
  // the worker, which shares ours. An operator's own setting stands.
  process.env['ORT_DISABLE_TELEMETRY'] ??= '1';
  if (!FROM_SOURCES) return new Worker(WORKER_URL, { execArgv: [] });
  // a worker does not take loader hooks from `--import` for its own entry module: register tsx, then import it
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, execArgv: [] });
}

export async function createDetector(opts: DetectorOptions): Promise<Detector> {
  const d = new SharedDetector(opts);
  try {
    await d.start();
  } catch (err) {
    await d.close();
    throw err;
  }
  return d;
}

class SharedDetector implements Detector {
  readonly #depth: number;
  readonly #threads: number;
  readonly #threshold: number;
  readonly #runTimeoutMs: number;
  #spec: DetectorModelSpec;
  #worker: Worker | undefined;
  /** the worker has a model and takes frames */
  #ready = false;
  #closed = false;
  readonly #queues = new Map<string, Job[]>();
  /** camera order for round-robin; the next pick starts after the last camera served */
  #cameras: string[] = [];
  #lastServed = -1;
  #inFlight: { id: number; job: Job; timer: NodeJS.Timeout } | undefined;
  readonly #loads = new Map<number, Pending>();
  #nextId = 1;
  #restartDelayMs = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #stopped: Promise<void> | undefined;
  #swaps: Promise<void> = Promise.resolve();
  readonly #stats = { framesRun: 0, framesDropped: 0, framesFailed: 0, totalMs: 0, workerRestarts: 0 };

  constructor(opts: DetectorOptions) {
    this.#spec = checkModelSpec(opts.model);
    this.#depth = Math.max(1, Math.floor(opts.queueDepth ?? 1));
    this.#threads = Math.max(1, Math.floor(opts.intraOpThreads ?? 1));
    this.#threshold = opts.scoreThreshold ?? 0.3;
    this.#runTimeoutMs = opts.runTimeoutMs ?? 30_000;
  }

  async start(): Promise<void> {
    this.#spawn();
    await this.#load(this.#spec);
    this.#ready = true;
  }

  #spawn(): void {
    const w = startWorker();
    this.#worker = w;
    w.on('message', (m: FromWorker) => this.#onMessage(m));
    w.on('error', (err) => this.#onDeath(w, err));
    w.on('exit', (code) => this.#onDeath(w, new Error(`exited with code ${code}`)));
    this.#refresh();
  }

  #post(m: ToWorker, transfer?: ArrayBuffer[]): void {
    this.#worker?.postMessage(m, transfer);
  }

  #load(spec: DetectorModelSpec): Promise<number> {
    if (!this.#worker) return Promise.reject(DetectorWorkerFailed('the detector worker is restarting; try again shortly'));
    const id = this.#nextId++;
    const done = new Promise<number>((resolve, reject) => this.#loads.set(id, { resolve, reject }));
    this.#post({ op: 'load', id, spec, intraOpThreads: this.#threads });
    this.#refresh();
    return done;
  }

  async swapModel(spec: DetectorModelSpec): Promise<void> {
    if (this.#closed) throw DetectorClosed('the detector is closed');
    const checked = checkModelSpec(spec);
    // one swap at a time, so the model the worker ends with is the one recorded for restarts
    const swap = this.#swaps.then(async () => {
      await this.#load(checked);
      this.#spec = checked;
    });
    this.#swaps = swap.catch(() => undefined);
    return swap;
  }

  detect(frame: Frame): Promise<Detection[] | undefined> {
    if (this.#closed) return Promise.reject(DetectorClosed('the detector is closed'));
    if (frame.rgb.length < frame.width * frame.height * 3) {
      return Promise.reject(new RangeError(`frame ${frame.camera}#${frame.seq}: ${frame.rgb.length} RGB bytes for ${frame.width}×${frame.height}`));
    }
    return new Promise((resolve, reject) => {
      // a copy: the worker takes ownership of it, and the caller keeps its frame for drawing
      const job: Job = { frame, rgb: new Uint8Array(frame.rgb.subarray(0, frame.width * frame.height * 3)), resolve, reject };
      let q = this.#queues.get(frame.camera);
      if (!q) {
        q = [];
        this.#queues.set(frame.camera, q);
        this.#cameras.push(frame.camera);
      }
      q.push(job);
      while (q.length > this.#depth) {
        this.#stats.framesDropped++;
        q.shift()!.resolve(undefined);
      }
      this.#pump();
    });
  }

  #pump(): void {
    if (!this.#ready || this.#inFlight || this.#closed) {
      this.#refresh();
      return;
    }
    const n = this.#cameras.length;
    for (let k = 1; k <= n; k++) {
      const i = (this.#lastServed + k) % n;
      const q = this.#queues.get(this.#cameras[i]!)!;
      const job = q.shift();
      if (!job) continue;
      this.#lastServed = i;
      const id = this.#nextId++;
      const timer = setTimeout(() => this.#hung(id), this.#runTimeoutMs);
      timer.unref();
      this.#inFlight = { id, job, timer };
      const { width, height } = job.frame;
      this.#post({ op: 'detect', id, width, height, rgb: job.rgb, scoreThreshold: this.#threshold }, [job.rgb.buffer as ArrayBuffer]);
      break;
    }
    this.#refresh();
  }

  #onMessage(m: FromWorker): void {
    if (m.op === 'loaded' || m.op === 'loadFailed') {
      const p = this.#loads.get(m.id);
      if (!p) return;
      this.#loads.delete(m.id);
      if (m.op === 'loaded') p.resolve(m.ms);
      else p.reject(DetectorModelLoadFailed(`model not loaded: ${m.message}`));
      this.#refresh();
      return;
    }
    const f = this.#inFlight;
    if (!f || f.id !== m.id) return;
    clearTimeout(f.timer);
    this.#inFlight = undefined;
    if (m.op === 'detected') {
      this.#stats.framesRun++;
      this.#stats.totalMs += m.ms;
      this.#restartDelayMs = 0;
      f.job.resolve(m.detections);
    } else {
      this.#stats.framesFailed++;
      f.job.reject(DetectorRunFailed(`detection failed on ${f.job.frame.camera} frame ${f.job.frame.seq}: ${m.message}`));
    }
    this.#pump();
  }

  #hung(id: number): void {
    if (this.#inFlight?.id !== id) return;
    const w = this.#worker;
    if (w) this.#onDeath(w, new Error(`a frame ran longer than ${this.#runTimeoutMs} ms`));
  }

  /** the worker is gone (crashed, exited or hung): fail what it held, start another */
  #onDeath(w: Worker, cause: Error): void {
    if (w !== this.#worker) return;
    this.#worker = undefined;
    this.#ready = false;
    void w.terminate();
    if (this.#closed) {
      this.#failAll(DetectorClosed(`the detector worker ended while closing (${cause.message})`, { cause }));
      return;
    }
    const err = DetectorWorkerFailed(`the detector worker died (${cause.message}); it is being restarted`, { cause });
    this.#failAll(err);
    this.#stats.workerRestarts++;
    this.#restartTimer = setTimeout(() => void this.#restart(), this.#restartDelayMs);
    this.#restartDelayMs = Math.min(Math.max(this.#restartDelayMs * 2, 500), 30_000);
  }

  #failAll(err: Error): void {
    const f = this.#inFlight;
    if (f) {
      clearTimeout(f.timer);
      this.#inFlight = undefined;
      this.#stats.framesFailed++;
      f.job.reject(err);
    }
    for (const q of this.#queues.values()) for (const job of q.splice(0)) job.reject(err);
    for (const p of this.#loads.values()) p.reject(err);
    this.#loads.clear();
  }

  async #restart(): Promise<void> {
    this.#restartTimer = undefined;
    if (this.#closed) return;
    this.#spawn();
    const w = this.#worker;
    try {
      await this.#load(this.#spec);
    } catch (err) {
      // the worker died again (its death handler schedules the next try) or the model no longer loads
      if (this.#worker === w && w) this.#onDeath(w, err as Error);
      return;
    }
    if (this.#worker !== w) return;
    this.#ready = true;
    this.#pump();
  }

  /** an idle worker must not keep the process alive; one with work must */
  #refresh(): void {
    const w = this.#worker;
    if (!w) return;
    const busy = this.#inFlight !== undefined || this.#loads.size > 0 || [...this.#queues.values()].some((q) => q.length > 0);
    if (busy) w.ref();
    else w.unref();
  }

  stats(): DetectorStats {
    const s = this.#stats;
    return {
      model: this.#spec.name ?? this.#spec.path.split(/[\\/]/).pop() ?? this.#spec.path,
      inputSize: this.#spec.inputSize,
      framesRun: s.framesRun,
      framesDropped: s.framesDropped,
      framesFailed: s.framesFailed,
      meanLatencyMs: s.framesRun ? s.totalMs / s.framesRun : 0,
      workerRestarts: s.workerRestarts,
    };
  }

  crashWorkerForTest(): void {
    this.#post({ op: 'crash' });
  }

  close(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#closed = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    for (const q of this.#queues.values()) for (const job of q.splice(0)) job.resolve(undefined);
    const f = this.#inFlight;
    if (f && this.#worker) await new Promise<void>((r) => {
      const done = f.job.resolve;
      const fail = f.job.reject;
      f.job.resolve = (d) => (done(d), r());
      f.job.reject = (e) => (fail(e), r());
    });
    for (const p of this.#loads.values()) p.reject(DetectorClosed('the detector was closed while a model was loading'));
    this.#loads.clear();
    const w = this.#worker;
    this.#worker = undefined;
    await w?.terminate();
  }
}
