// The media engine of the GB/T 28181 role, in the parent (signalling) process. The heavy work
// (sockets, RTP, PS demux, relay legs) runs in one worker process (worker/mediaWorker.ts) behind a
// narrow request channel (IPC) with frames coming back on a binary pipe, like mediasoup's worker.
// The worker's death is an event: every stream it held is reported `ended` (reason 'worker-exit'),
// requests under way fail with ESEAL_ERR_GBMEDIA_WORKER, and a new worker is started after a
// bounded backoff; the parent never crashes with it.
// A new subscription to a stream starts with the worker's GOP cache of it, demuxed (the frames
// since its last keyframe), then live frames: frames of that stream already on the pipe when the
// worker took the subscription are dropped here, up to the worker's start record (protocol.ts).
import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { spawnNodeChild } from '../../src/process/nodeChild.ts';
import { EsealError } from '../../src/errors.ts';
import { errorCatalogue } from '../../src/errors.ts';
import { MediaWorkerDown } from './errors.ts';
import type { IncomingAnswer, IncomingSpec, MediaEngineEvents, MediaEngineOptions, MediaFrame, OutgoingSpec, StreamStats } from './MediaTypes.ts';
import { FRAME_FD, FrameReader, type FromWorker, type Request, type WorkerConfig } from './worker/protocol.ts';

const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER = new URL(FROM_SOURCES ? './worker/mediaWorker.ts' : './worker/mediaWorker.js', import.meta.url);
const REQUEST_TIMEOUT_MS = 15_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;
/** a worker that lived this long resets the backoff */
const STABLE_MS = 30_000;

interface PendingRequest {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class MediaEngine extends EventEmitter<MediaEngineEvents> {
  readonly #opts: MediaEngineOptions;
  #child: ChildProcess | undefined;
  #ready: Promise<void> | undefined;
  readonly #pending = new Map<number, PendingRequest>();
  #nextId = 1;
  /** streams the current worker holds */
  readonly #streams = new Set<string>();
  readonly #legs = new Map<string, string>();
  readonly #stats = new Map<string, StreamStats>();
  readonly #subscribers = new Map<string, Set<(f: MediaFrame) => void>>();
  /** start records the worker still owes per stream (frames of it are dropped until they came) */
  readonly #awaitingStart = new Map<string, number>();
  #closed = false;
  #backoffMs = BACKOFF_MIN_MS;
  #restartTimer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  /** workers started, the first included */
  workerStarts = 0;
  /** frames that came up the pipe (a relayed stream nobody subscribed to sends none) */
  framesPiped = 0;

  constructor(opts: MediaEngineOptions) {
    super();
    this.#opts = opts;
  }

  /** the worker's pid (tests kill it) */
  get workerPid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    if (!this.#ready) this.#spawn();
    await this.#ready;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ t: 'req', id: 0, req: { op: 'shutdown' } });
    const hard = setTimeout(() => child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(hard);
  }

  async openIncoming(spec: IncomingSpec): Promise<{ port: number }> {
    const r = (await this.#request({ op: 'openIncoming', spec })) as { port: number };
    this.#streams.add(spec.streamId);
    return r;
  }

  async answerIncoming(streamId: string, answer: IncomingAnswer): Promise<void> {
    await this.#request({ op: 'answerIncoming', streamId, answer });
  }

  async closeStream(streamId: string): Promise<void> {
    this.#forget(streamId);
    await this.#request({ op: 'closeStream', streamId });
  }

  async openOutgoing(spec: OutgoingSpec): Promise<{ port: number }> {
    const r = (await this.#request({ op: 'openOutgoing', spec })) as { port: number };
    this.#legs.set(spec.legId, spec.streamId);
    return r;
  }

  async closeOutgoing(legId: string): Promise<void> {
    this.#legs.delete(legId);
    await this.#request({ op: 'closeOutgoing', legId });
  }

  /** Frames of `streamId` as they are demuxed; returns the unsubscribe function. */
  subscribe(streamId: string, onFrame: (f: MediaFrame) => void): () => void {
    let set = this.#subscribers.get(streamId);
    if (!set) {
      this.#subscribers.set(streamId, (set = new Set()));
      this.#wantFrames(streamId, true);
    }
    set.add(onFrame);
    return () => {
      set.delete(onFrame);
      if (set.size === 0 && this.#subscribers.get(streamId) === set) {
        this.#subscribers.delete(streamId);
        this.#wantFrames(streamId, false);
      }
    };
  }

  /** The latest counts the worker reported (every 250 ms while they change). */
  stats(streamId: string): StreamStats | undefined {
    return this.#stats.get(streamId);
  }

  /** Tells the worker whether to pipe a stream's frames (it keeps a relayed stream's to itself otherwise). */
  #wantFrames(streamId: string, on: boolean): void {
    if (this.#closed || !this.#ready || !this.#child?.connected) return; // a worker started later gets the list in its config
    if (on) this.#awaitingStart.set(streamId, (this.#awaitingStart.get(streamId) ?? 0) + 1);
    this.#request({ op: 'frames', streamId, on }).catch(() => undefined);
  }

  #forget(streamId: string): void {
    this.#streams.delete(streamId);
    this.#stats.delete(streamId);
    for (const [leg, s] of this.#legs) if (s === streamId) this.#legs.delete(leg);
  }

  #spawn(): void {
    const config: WorkerConfig = { host: this.#opts.host, ports: this.#opts.ports, noMediaSeconds: this.#opts.noMediaSeconds, gopCache: this.#opts.gopCache !== false, wanted: [...this.#subscribers.keys()] };
    const child = spawnNodeChild(WORKER, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'] });
    this.#child = child;
    this.#startedAt = Date.now();
    this.workerStarts++;
    const frames = new FrameReader();
    const pipe = child.stdio[FRAME_FD] as Readable | null;
    const onStart = (id: string): void => {
      const left = (this.#awaitingStart.get(id) ?? 1) - 1;
      if (left > 0) this.#awaitingStart.set(id, left);
      else this.#awaitingStart.delete(id);
    };
    pipe?.on('data', (chunk: Buffer) => {
      if (this.#child === child) frames.push(chunk, (id, f) => this.#deliver(id, f), onStart);
    });
    pipe?.on('error', () => undefined);
    let notReady: (err: Error) => void = () => undefined;
    this.#ready = new Promise<void>((resolve, reject) => {
      notReady = reject;
      const onMsg = (m: FromWorker): void => {
        if (m.t === 'ready') {
          child.off('message', onMsg);
          resolve();
        }
      };
      child.on('message', onMsg);
      child.once('exit', () => reject(MediaWorkerDown('the media worker exited before it was ready')));
    });
    this.#ready.catch(() => undefined);
    child.on('message', (m: FromWorker) => this.#onMessage(m));
    child.once('error', (err) => {
      this.#opts.log.warn({ err: String(err) }, 'the media worker could not be started');
      // a spawn that failed (no process: ENOENT, EACCES, EAGAIN) has no 'exit': fail the start and retry as after one
      if (child.pid === undefined) {
        notReady(MediaWorkerDown(`the media worker could not be started: ${err.message}`));
        this.#onExit(child, null, null);
      }
    });
    child.once('exit', (code, signal) => this.#onExit(child, code, signal));
  }

  #onMessage(m: FromWorker): void {
    switch (m.t) {
      case 'res': {
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.value);
        else {
          const kind = errorCatalogue().get(m.code);
          p.reject(kind ? kind(m.message) : new EsealError(m.code, m.message, 500));
        }
        return;
      }
      case 'firstMedia':
        this.emit('firstMedia', { streamId: m.streamId, ssrc: m.ssrc });
        return;
      case 'noMedia':
        this.emit('noMedia', { streamId: m.streamId });
        return;
      case 'ended':
        this.#forget(m.streamId);
        this.emit('ended', { streamId: m.streamId, reason: m.reason });
        return;
      case 'stats':
        for (const [id, s] of Object.entries(m.stats)) if (this.#streams.has(id)) this.#stats.set(id, s);
        return;
      case 'log':
        this.#opts.log[m.level]({ ...m.fields, part: 'gb28181-media' }, m.msg);
        return;
      default:
        return;
    }
  }

  #deliver(streamId: string, f: MediaFrame): void {
    this.framesPiped++;
    const set = this.#subscribers.get(streamId);
    if (!set || this.#awaitingStart.has(streamId)) return;
    for (const fn of set) {
      try {
        fn(f);
      } catch (err) {
        this.#opts.log.warn({ streamId, err: String(err) }, 'a media frame subscriber threw');
      }
    }
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(MediaWorkerDown(`the media worker exited (${signal ?? code}) during a request`));
      this.#pending.delete(id);
    }
    const held = [...this.#streams];
    this.#awaitingStart.clear();
    this.#streams.clear();
    this.#legs.clear();
    this.#stats.clear();
    if (this.#closed) return;
    this.#opts.log.warn({ code, signal, streams: held.length }, 'the media worker exited: its streams ended, restarting it');
    this.emit('workerExit', { code, signal });
    for (const streamId of held) this.emit('ended', { streamId, reason: 'worker-exit' });
    if (Date.now() - this.#startedAt > STABLE_MS) this.#backoffMs = BACKOFF_MIN_MS;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(BACKOFF_MAX_MS, this.#backoffMs * 2);
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#restartTimer = setTimeout(() => {
        if (this.#closed) return reject(MediaWorkerDown('the media engine is closed'));
        this.#spawn();
        this.#ready!.then(resolve, reject);
      }, delay);
    });
    this.#ready.catch(() => undefined);
  }

  async #request(req: Request): Promise<unknown> {
    if (this.#closed) throw MediaWorkerDown('the media engine is closed');
    if (!this.#ready) throw MediaWorkerDown('the media engine was not started');
    await this.#ready;
    const child = this.#child;
    if (!child?.connected) throw MediaWorkerDown('the media worker is not running');
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(MediaWorkerDown(`the media worker did not answer ${req.op} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      child.send({ t: 'req', id, req });
    });
  }
}
