// One ffmpeg child per camera, decoding the source to raw RGB24 at the analysis size and rate.
// Heavy media work stays in the child; this class only cuts its stdout into frames, watches it
// (stall timer, exit), and restarts it with backoff. The child's death is an event, not an error:
// cameras drop off the network all the time.
// A gb28181:// camera is read from the GB/T 28181 bridge's viewer (gbStream.ts): Node opens the
// channel's live stream at each session and pipes it into ffmpeg's stdin; a bridge that is not up
// yet, or a device that is offline, fails the session like an unreachable RTSP camera does.

import { EventEmitter } from 'node:events';
import { rgbToGray } from '../frame/image.ts';
import type { Frame } from '../types.ts';
import type { CaptureEvents, CaptureLogger, CaptureMode, FfmpegCaptureOptions } from './CaptureTypes.ts';
import { CaptureBadOptions, CaptureFailed } from './errors.ts';
import { describeExit, ffmpegFeatures, spawnFfmpeg, type FfmpegChild, type FfmpegExit, type FfmpegFeatures } from '../../src/media/ffmpeg.ts';
import { parseSourceUrl, redactSecrets, type CaptureSource } from './sourceUrl.ts';
import { openGbStream, type GbBridge, type GbStream } from './gbStream.ts';
import type { GbLiveFormat } from '../../src/contract/gb28181.ts';

const STDERR_LINES = 20;
const STDERR_LINE_CHARS = 400;
const REASON_LINES = 3;

type Reachability = 'unknown' | 'online' | 'offline';

export class FfmpegCapture extends EventEmitter<CaptureEvents> {
  readonly camera: string;
  readonly source: CaptureSource;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly mode: CaptureMode;
  readonly #loop: boolean;
  readonly #stallMs: number;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #resetAfterMs: number;
  readonly #killGraceMs: number;
  readonly #log: CaptureLogger | undefined;
  readonly #frameBytes: number;
  #startAt: number | undefined;
  readonly #gb: GbBridge | undefined;
  /** gb28181: what is asked of the bridge; an H.265 channel turns it to mjpeg for good */
  #gbFormat: GbLiveFormat = 'mp4';
  /** gb28181: the request being made, and the stream the running child reads */
  #gbOpening: AbortController | undefined;
  #gbStream: GbStream | undefined;
  /** gb28181: the last token used, redacted from anything reported */
  #gbToken: string | undefined;

  #started = false;
  #stopped = false;
  #state: Reachability = 'unknown';
  #offlineReason: string | undefined;
  #child: FfmpegChild | undefined;
  /** the child whose stderr `stderrTail` shows: the running one, else the last */
  #lastChild: FfmpegChild | undefined;
  #paused = false;
  #seq = 0;
  /** the frame being filled from stdout, and how many of its bytes are there */
  #partial: Buffer | undefined;
  #filled = 0;
  /** set when we kill the child ourselves, so the exit is reported with our reason */
  #killReason: string | undefined;
  /** when the current child last showed life (spawn, frame, resume) */
  #lastActivity = 0;
  #sessionOnlineAt: number | undefined;
  #backoffMs: number;
  #attempt = 0;
  #stallTimer: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;

  constructor(options: FfmpegCaptureOptions) {
    super();
    this.camera = options.camera;
    this.source = parseSourceUrl(options.url, options.cwd);
    this.width = options.width ?? 704;
    this.height = options.height ?? 576;
    this.fps = options.fps ?? 5;
    this.mode = options.mode ?? 'live';
    this.#loop = options.loop ?? false;
    this.#stallMs = (options.stallSeconds ?? 10) * 1000;
    this.#initialBackoffMs = options.backoff?.initialMs ?? 1000;
    this.#maxBackoffMs = options.backoff?.maxMs ?? 30_000;
    this.#resetAfterMs = options.backoff?.resetAfterMs ?? 60_000;
    this.#killGraceMs = options.killGraceMs ?? 2000;
    this.#log = options.log;
    this.#startAt = options.startAt;
    this.#backoffMs = this.#initialBackoffMs;
    this.#frameBytes = this.width * this.height * 3;
    this.#gb = options.gb28181;
    this.#check();
  }

  #check(): void {
    const bad = (field: string, rule: string): never => {
      throw CaptureBadOptions(`camera ${this.camera}: ${field}: ${rule}`, { field });
    };
    if (!this.camera) bad('camera', 'must name the camera');
    for (const [field, v] of [['width', this.width], ['height', this.height]] as const) {
      if (!Number.isInteger(v) || v < 16 || v > 4096) bad(field, `must be a whole number of pixels from 16 to 4096 (got ${v})`);
    }
    if (!(this.fps > 0 && this.fps <= 60)) bad('fps', `must be above 0 and at most 60 (got ${this.fps})`);
    if (!(this.#stallMs > 0)) bad('stallSeconds', 'must be above 0');
    if (!(this.#initialBackoffMs > 0 && this.#maxBackoffMs >= this.#initialBackoffMs)) bad('backoff', 'needs 0 < initialMs ≤ maxMs');
    if (this.#loop && this.source.kind !== 'file') bad('loop', 'only file sources can loop');
    if (this.#loop && this.mode === 'replay') bad('loop', 'a replay is decoded once; loop is for live mode');
    if (this.source.kind === 'gb28181') {
      if (!this.#gb) bad('gb28181', 'a gb28181:// source needs the bridge to read it from (edge.gb28181 and the data directory)');
      if (this.mode === 'replay') bad('mode', 'a gb28181:// channel is live; replay reads recordings (file://)');
    }
  }

  /** true between the first frame of a session and the session's end */
  get online(): boolean {
    return this.#state === 'online';
  }

  /** why the source last went offline (redacted), if it did */
  get offlineReason(): string | undefined {
    return this.#offlineReason;
  }

  /** the running ffmpeg child's process id, if one runs */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the first ffmpeg child; calling it again does nothing. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#startAt ??= Date.now();
    void this.#launch();
  }

  /**
   * Stops reading stdout, so ffmpeg blocks once the pipe is full and nothing is dropped; the stall
   * timer does not run while paused. Used for backpressure in replay.
   */
  pause(): void {
    this.#paused = true;
    this.#child?.process.stdout?.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#lastActivity = Date.now();
    this.#child?.process.stdout?.resume();
  }

  /** Kills the child (SIGTERM, then SIGKILL after the grace time) and resolves once it is reaped. No events follow. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    this.#stopStallTimer();
    this.#gbOpening?.abort();
    this.#closeGb();
    const child = this.#child;
    if (!child) return;
    // Closing the pipes (kill does) also unblocks an ffmpeg stuck writing to a paused stdout.
    await child.kill(this.#killGraceMs);
  }

  async #launch(): Promise<void> {
    this.#restartTimer = undefined;
    if (this.#stopped) return;
    let features: FfmpegFeatures;
    try {
      features = await ffmpegFeatures();
    } catch (err) {
      if (this.#stopped) return;
      this.#sessionFailed(`cannot run ffmpeg: ${(err as Error).message}`, err);
      return;
    }
    if (this.#stopped) return;
    let input: GbStream | undefined;
    if (this.source.kind === 'gb28181') {
      input = await this.#openGb();
      if (!input) return;
    }
    const args = this.#args(features, input?.format);
    this.#log?.debug({ camera: this.camera, args: redactSecrets(args.join(' '), this.#secrets()) }, 'capture: starting ffmpeg');
    this.#killReason = undefined;
    this.#sessionOnlineAt = undefined;
    this.#partial = undefined;
    this.#filled = 0;
    const child = spawnFfmpeg(args, { path: features.path, stdin: input ? 'pipe' : 'ignore', stdout: 'pipe', stderrTailBytes: STDERR_LINES * STDERR_LINE_CHARS });
    this.#child = child;
    this.#lastChild = child;
    this.#lastActivity = Date.now();
    if (input) {
      // the bridge's stream into ffmpeg; either side ending ends the other
      this.#gbStream = input;
      const stdin = child.process.stdin!;
      input.body.on('error', () => undefined);
      input.body.pipe(stdin);
      // pipe() ends stdin only at a clean end; a bridge that stops resets the connection instead
      input.body.once('close', () => stdin.end());
    }
    const stdout = child.process.stdout!;
    stdout.on('data', (chunk: Buffer) => this.#onData(chunk));
    void child.exited.then((exit) => this.#onClose(child, exit));
    if (this.#paused) stdout.pause();
    this.#startStallTimer();
  }

  /** gb28181: the channel's stream from the bridge, or undefined when the session failed (or capture stopped). */
  async #openGb(): Promise<GbStream | undefined> {
    const abort = (this.#gbOpening = new AbortController());
    let input: GbStream;
    try {
      // the bridge answers once the device sends pictures: INVITE, then up to a group of pictures
      input = await openGbStream(this.source.gb!, this.#gb!, { format: this.#gbFormat, timeoutMs: this.#stallMs * 2, signal: abort.signal });
    } catch (err) {
      if (this.#stopped) return undefined;
      this.#sessionFailed(redactSecrets((err as Error).message, this.#secrets()), err);
      return undefined;
    } finally {
      this.#gbOpening = undefined;
    }
    this.#gbToken = input.token;
    if (this.#stopped) {
      input.close();
      return undefined;
    }
    if (input.format !== this.#gbFormat) {
      this.#gbFormat = input.format;
      this.#log?.info({ camera: this.camera, url: this.source.redacted }, 'capture: an H.265 channel: reading the bridge\'s MJPEG stream');
    }
    return input;
  }

  #secrets(): string[] {
    return this.#gbToken ? [...this.source.secrets, this.#gbToken] : this.source.secrets;
  }

  #args(features: FfmpegFeatures, gbFormat?: GbLiveFormat): string[] {
    const args = ['-nostdin', '-hide_banner', '-loglevel', 'error'];
    // ffmpeg's own socket timeout is only a backstop behind the stall timer, so that a stall is
    // reported the same way whatever the source.
    const socketMicros = String(this.#stallMs * 2 * 1000);
    switch (this.source.kind) {
      case 'rtsp':
        args.push('-rtsp_transport', 'tcp', features.rtspTimeoutOption, socketMicros);
        break;
      case 'http':
        args.push('-rw_timeout', socketMicros);
        break;
      case 'file':
        if (this.mode === 'live') args.push('-re');
        if (this.#loop) args.push('-stream_loop', '-1');
        break;
      case 'gb28181':
        // fMP4 carries the camera's timestamps; MJPEG parts carry none, so they are stamped as they come
        if (gbFormat === 'mjpeg') args.push('-use_wallclock_as_timestamps', '1', '-f', 'mpjpeg');
        else args.push('-f', 'mp4');
        break;
    }
    args.push('-i', this.source.kind === 'gb28181' ? 'pipe:0' : this.source.input, '-an', '-sn', '-dn');
    args.push('-vf', `fps=${this.fps},scale=${this.width}:${this.height}`);
    args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
    return args;
  }

  /** Cuts stdout into frames: each byte is copied once, into the frame that owns it. */
  #onData(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.#stopped) {
      this.#partial ??= Buffer.allocUnsafeSlow(this.#frameBytes);
      const n = Math.min(this.#frameBytes - this.#filled, chunk.length - offset);
      chunk.copy(this.#partial, this.#filled, offset, offset + n);
      this.#filled += n;
      offset += n;
      if (this.#filled === this.#frameBytes) {
        const rgb = this.#partial;
        this.#partial = undefined;
        this.#filled = 0;
        this.#emitFrame(rgb);
      }
    }
  }

  #emitFrame(rgb: Buffer): void {
    const now = Date.now();
    this.#lastActivity = now;
    const seq = this.#seq++;
    const at = this.mode === 'replay' ? Math.round(this.#startAt! + (seq * 1000) / this.fps) : now;
    const frame: Frame = {
      camera: this.camera,
      seq,
      at,
      width: this.width,
      height: this.height,
      rgb,
      gray: rgbToGray(rgb, this.width, this.height),
    };
    if (this.#state !== 'online') {
      this.#state = 'online';
      this.#sessionOnlineAt = now;
      this.#log?.info({ camera: this.camera, url: this.source.redacted }, 'capture: camera online');
      this.emit('online');
    }
    this.emit('frame', frame);
  }

  /** The last lines ffmpeg wrote, redacted. */
  get stderrTail(): readonly string[] {
    const lines = (this.#lastChild?.stderrTail() ?? '').split(/\r?\n/).filter((line) => line.trim());
    return lines.slice(-STDERR_LINES).map((line) => redactSecrets(line.slice(0, STDERR_LINE_CHARS), this.#secrets()));
  }

  #onClose(child: FfmpegChild, exit: FfmpegExit): void {
    if (child !== this.#child) return;
    this.#child = undefined;
    this.#stopStallTimer();
    this.#closeGb();
    if (this.#stopped) return;
    if (this.#filled > 0) {
      this.#log?.debug({ camera: this.camera, bytes: this.#filled }, 'capture: partial frame at exit dropped');
    }
    this.#partial = undefined;
    this.#filled = 0;
    const clean = exit.code === 0 && !this.#killReason && !exit.spawnError;
    if (this.mode === 'replay' && clean) {
      this.#state = 'offline';
      this.#log?.info({ camera: this.camera, frames: this.#seq }, 'capture: replay finished');
      this.emit('end');
      return;
    }
    this.#sessionFailed(this.#exitReason(exit));
  }

  #exitReason(exit: FfmpegExit): string {
    let reason = describeExit(exit);
    if (exit.spawnError) {
      // the start failure is the reason, whatever else happened
    } else if (this.#killReason) reason = this.#killReason;
    else if (exit.code === 0) reason = this.source.kind === 'file' ? `end of file ${this.source.path}` : this.source.kind === 'gb28181' ? 'the bridge ended the stream' : 'end of stream';
    const tail = this.stderrTail.slice(-REASON_LINES).join('; ');
    return redactSecrets(tail ? `${reason}: ${tail}` : reason, this.#secrets());
  }

  /** A session ended badly (or, in live mode, at all): report, then restart or give up. */
  #sessionFailed(reason: string, cause?: unknown): void {
    const healthy = this.#sessionOnlineAt !== undefined && Date.now() - this.#sessionOnlineAt >= this.#resetAfterMs;
    this.#offlineReason = reason;
    if (this.#state !== 'offline') {
      this.#state = 'offline';
      this.#log?.warn({ camera: this.camera, url: this.source.redacted, reason }, 'capture: camera offline');
      this.emit('offline', reason);
    } else {
      this.#log?.debug({ camera: this.camera, reason }, 'capture: retry failed');
    }
    if (this.#stopped) return;
    if (this.mode === 'replay') {
      this.#emitError(CaptureFailed(`camera ${this.camera} (${this.source.redacted}): replay failed: ${reason}`, { cause }));
      return;
    }
    if (healthy) this.#backoffMs = this.#initialBackoffMs;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#maxBackoffMs, this.#backoffMs * 2);
    this.#attempt++;
    this.emit('restart', this.#attempt, delay);
    if (this.#stopped) return;
    this.#restartTimer = setTimeout(() => void this.#launch(), delay);
  }

  #closeGb(): void {
    this.#gbStream?.close();
    this.#gbStream = undefined;
  }

  #emitError(err: Error): void {
    this.#log?.error({ camera: this.camera, err: { code: (err as { code?: string }).code, message: err.message } }, 'capture: failed');
    // An unheard 'error' would throw and take the whole edge down for one camera.
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  #startStallTimer(): void {
    this.#stopStallTimer();
    const every = Math.max(50, Math.min(1000, this.#stallMs / 4));
    this.#stallTimer = setInterval(() => {
      const child = this.#child;
      if (!child || this.#paused || this.#killReason) return;
      if (Date.now() - this.#lastActivity < this.#stallMs) return;
      this.#killReason = `no frame for ${this.#stallMs / 1000} s`;
      this.#log?.warn({ camera: this.camera, reason: this.#killReason }, 'capture: stalled, killing ffmpeg');
      void child.kill(this.#killGraceMs);
    }, every);
  }

  #stopStallTimer(): void {
    clearInterval(this.#stallTimer);
    this.#stallTimer = undefined;
  }
}

export interface ReadFramesOptions extends Omit<FfmpegCaptureOptions, 'url' | 'camera' | 'mode'> {
  /** default 'file' */
  camera?: string;
  /** default 'replay' */
  mode?: CaptureMode;
  /** frames buffered before replay pauses ffmpeg, or live drops the oldest (default 4) */
  highWaterMark?: number;
}

/**
 * The frames of a source as an async generator. Replay (the default) yields every frame, pausing
 * ffmpeg while the consumer is behind, and throws CaptureFailed if decoding fails; live mode
 * keeps the newest `highWaterMark` frames and never ends by itself. Breaking out stops ffmpeg.
 */
export async function* readFrames(url: string, options: ReadFramesOptions = {}): AsyncGenerator<Frame> {
  const { highWaterMark = 4, camera = 'file', mode = 'replay', ...rest } = options;
  const capture = new FfmpegCapture({ ...rest, url, camera, mode });
  const queue: Frame[] = [];
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    wake?.();
    wake = undefined;
  };
  capture.on('frame', (frame) => {
    queue.push(frame);
    if (mode === 'replay') {
      if (queue.length >= highWaterMark) capture.pause();
    } else if (queue.length > highWaterMark) {
      queue.shift();
    }
    poke();
  });
  capture.on('end', () => {
    done = true;
    poke();
  });
  capture.on('error', (err) => {
    failure = err;
    done = true;
    poke();
  });
  capture.start();
  try {
    for (;;) {
      const frame = queue.shift();
      if (frame) {
        if (queue.length < highWaterMark) capture.resume();
        yield frame;
        continue;
      }
      if (failure) throw failure;
      if (done) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    await capture.stop();
  }
}
