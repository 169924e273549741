// Cuts evidence clips around events on one camera. Every frame goes into a ring long enough to hold
// a whole clip window; a request waits until the frames after its event have arrived (or the stream
// has stalled past a timeout), then takes its window from the ring and encodes it. Overlapping
// requests take the same frame objects, so memory is the ring plus the windows of the clips queued
// for the encoder, and the number of pending requests is capped. Encodes run one at a time: the edge
// box has few cores and the detector needs them.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatFileTime } from '../../src/contract/time.ts';
import type { Frame, Marks } from '../types.ts';
import { type ClipFile, type EncodeClipOptions, encodeClip } from './ClipEncoder.ts';
import { EvidenceAborted, EvidenceBusy, EvidenceNoFrames } from './errors.ts';
import { FrameRing, type MarkedFrame } from './FrameRing.ts';

export interface ClipRecorderOptions {
  camera: string;
  /** frames per second pushed (and the clip's frame rate) */
  fps: number;
  /** seconds kept before the event; default 5 */
  preSeconds?: number;
  /** seconds waited for after the event; default 5 */
  postSeconds?: number;
  /**
   * how long after its instant an event may be raised (an analysis that waits for a condition to
   * persist dates the event at its onset); the ring keeps this much more history; default 0
   */
  lateSeconds?: number;
  /** directory the clips are written to (created when missing) */
  outDir: string;
  /** passed to encodeClip (maxBytes, state, crf, preset, ffmpegPath) */
  encode?: Omit<EncodeClipOptions, 'outPath' | 'fps' | 'camera' | 'signal'>;
  /**
   * how long after the last expected frame (event + postSeconds, by the wall clock) a request waits
   * before cutting with what it has; default postSeconds + 5 s
   */
  stallTimeoutMs?: number;
  /** most requests waiting or encoding at once; default 8 */
  maxPending?: number;
  /** file name (inside outDir) for a clip; default `<camera>-<yyyyMMddHHmmss>-<tag>.mp4`, made unique */
  fileName?: (eventAt: number, tag: string) => string;
}

export interface ClipResult extends ClipFile {
  camera: string;
  tag: string;
  eventAt: number;
  /** capture time of the first and the last frame in the clip */
  firstAt: number;
  lastAt: number;
  /** true when the clip was cut before all post-event frames came (stall timeout or close) */
  partial: boolean;
}

interface Pending {
  eventAt: number;
  tag: string;
  from: number;
  to: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (r: ClipResult) => void;
  reject: (err: unknown) => void;
  /** set once its frames are taken: it then waits for the encoder only */
  cut: boolean;
}

const SAFE_TAG = /[^A-Za-z0-9_.-]+/g;

export class ClipRecorder {
  readonly camera: string;
  readonly fps: number;
  readonly preMs: number;
  readonly postMs: number;
  readonly #options: ClipRecorderOptions;
  readonly #ring: FrameRing;
  readonly #pending = new Set<Pending>();
  readonly #abort = new AbortController();
  readonly #usedNames = new Set<string>();
  #encoder: Promise<unknown> = Promise.resolve();
  #closed = false;
  #dirReady: Promise<unknown> | undefined;

  constructor(options: ClipRecorderOptions) {
    this.camera = options.camera;
    this.fps = options.fps;
    this.preMs = (options.preSeconds ?? 5) * 1000;
    this.postMs = (options.postSeconds ?? 5) * 1000;
    this.#options = options;
    // The ring holds a whole window, the lateness allowed, and a second either side for timing jitter.
    this.#ring = new FrameRing({ fps: options.fps, seconds: (this.preMs + this.postMs) / 1000 + (options.lateSeconds ?? 0) + 2 });
  }

  /** Frames held now (bounded by the ring's capacity). */
  get buffered(): number {
    return this.#ring.size;
  }

  /** Requests not yet resolved (waiting for frames or for the encoder). */
  get pending(): number {
    return this.#pending.size;
  }

  /** Feeds one frame with the marks that apply to it; cuts every request whose window it completes. */
  push(frame: Frame, marks: readonly Marks[]): void {
    if (this.#closed) return;
    this.#ring.push(frame, marks);
    for (const p of this.#pending) {
      if (!p.cut && frame.at >= p.to) this.#cut(p, false);
    }
  }

  /**
   * Asks for a clip of preSeconds before to postSeconds after `eventAt`. Resolves once it is
   * encoded; rejects with ESEAL_ERR_EVIDENCE_BUSY when too many are pending, _NO_FRAMES when none
   * fall in the window, _ABORTED when the recorder is destroyed first.
   */
  request(eventAt: number, tag: string): Promise<ClipResult> {
    if (this.#closed) return Promise.reject(EvidenceAborted(`the clip recorder of camera ${this.camera} is closed`));
    const maxPending = this.#options.maxPending ?? 8;
    if (this.#pending.size >= maxPending) {
      return Promise.reject(
        EvidenceBusy(`camera ${this.camera} already has ${this.#pending.size} clips pending; this one (${tag}) is dropped`, {
          detail: { camera: this.camera, tag, eventAt },
        }),
      );
    }
    return new Promise<ClipResult>((resolve, reject) => {
      const p: Pending = { eventAt, tag, from: eventAt - this.preMs, to: eventAt + this.postMs, timer: undefined, resolve, reject, cut: false };
      this.#pending.add(p);
      const latest = this.#ring.latest();
      if (latest && latest.frame.at >= p.to) {
        this.#cut(p, false);
        return;
      }
      // Wall time until the window should be complete, from the newest frame's capture time (file
      // sources in eval mode run on their own clock), at most one window (an event stamped in the
      // future is a clock problem, not a reason to hold frames for long), plus the stall allowance.
      const untilEnd = Math.min(Math.max(0, p.to - (latest?.frame.at ?? eventAt)), this.preMs + this.postMs);
      const waitMs = untilEnd + (this.#options.stallTimeoutMs ?? this.postMs + 5000);
      p.timer = setTimeout(() => this.#cut(p, true), waitMs);
    });
  }

  /**
   * Stops taking requests and frames, cuts every waiting request with the frames it has and waits
   * for all encodes to finish.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const p of this.#pending) if (!p.cut) this.#cut(p, true);
    }
    await this.#encoder.catch(() => undefined);
    this.#ring.clear();
  }

  /** Stops at once: kills a running encode and rejects every pending request with ESEAL_ERR_EVIDENCE_ABORTED. */
  destroy(reason?: unknown): void {
    this.#closed = true;
    const err = EvidenceAborted(`the clip recorder of camera ${this.camera} was destroyed`, { cause: reason });
    this.#abort.abort(err);
    for (const p of this.#pending) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
    this.#ring.clear();
  }

  #cut(p: Pending, partial: boolean): void {
    if (p.cut || !this.#pending.has(p)) return;
    p.cut = true;
    if (p.timer) clearTimeout(p.timer);
    const frames = this.#ring.between(p.from, p.to);
    const job = this.#encoder.then(() => this.#encode(p, frames, partial));
    this.#encoder = job.catch(() => undefined);
    job.then(
      (r) => {
        this.#pending.delete(p);
        p.resolve(r);
      },
      (err: unknown) => {
        this.#pending.delete(p);
        p.reject(err);
      },
    );
  }

  async #encode(p: Pending, frames: MarkedFrame[], partial: boolean): Promise<ClipResult> {
    if (this.#abort.signal.aborted) throw this.#abort.signal.reason;
    const first = frames[0];
    const last = frames[frames.length - 1];
    if (!first || !last) {
      throw EvidenceNoFrames(`no frames of camera ${this.camera} between ${p.from} and ${p.to} for clip ${p.tag}`, {
        detail: { camera: this.camera, tag: p.tag, eventAt: p.eventAt },
      });
    }
    this.#dirReady ??= mkdir(this.#options.outDir, { recursive: true });
    await this.#dirReady;
    const clip = await encodeClip(frames, {
      ...this.#options.encode,
      outPath: join(this.#options.outDir, this.#nameFor(p)),
      fps: this.fps,
      camera: this.camera,
      signal: this.#abort.signal,
    });
    return { ...clip, camera: this.camera, tag: p.tag, eventAt: p.eventAt, firstAt: first.frame.at, lastAt: last.frame.at, partial };
  }

  #nameFor(p: Pending): string {
    const base = this.#options.fileName?.(p.eventAt, p.tag) ?? `${this.camera}-${formatFileTime(p.eventAt)}-${p.tag}`.replace(SAFE_TAG, '_');
    const stem = base.replace(/\.mp4$/i, '');
    const ext = base.slice(stem.length) || '.mp4';
    let name = `${stem}${ext}`;
    for (let n = 2; this.#usedNames.has(name); n++) name = `${stem}-${n}${ext}`;
    this.#usedNames.add(name);
    if (this.#usedNames.size > 1000) this.#usedNames.delete(this.#usedNames.values().next().value!);
    return name;
  }
}
