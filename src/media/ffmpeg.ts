// Which ffmpeg every role runs (capture, clips, the demo, the tests), what that build understands,
// and the one way to run it. The bundled static build (@ffmpeg-installer, 2018, ffmpeg 4.1) names
// the RTSP socket timeout `-stimeout`; ffmpeg 5 and later dropped it and reuse `-timeout` (which in
// 4.1 meant "listen"), so the option is probed from the binary rather than assumed from a version
// string.
//
// Every child goes through spawnFfmpeg: it keeps the end of stderr (the start is the part nobody
// needs), settles once, spawn failure included, and kills with SIGTERM then SIGKILL. runFfmpeg is
// the one-shot form on top (stdin fed with backpressure, stdout collected, abort and timeout), and
// its failures are catalogue errors naming the exit status and the last lines ffmpeg wrote.

import { type ChildProcess, spawn } from 'node:child_process';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import type { ErrorKind } from '../errors.ts';
import { MediaFfmpegFailed } from './errors.ts';

/** FFMPEG_PATH when set, else the static build installed with the package. */
export function ffmpegPath(): string {
  return process.env['FFMPEG_PATH'] || ffmpegInstaller.path;
}

export interface FfmpegFeatures {
  path: string;
  /** the RTSP demuxer's socket I/O timeout option, in microseconds either way */
  rtspTimeoutOption: '-stimeout' | '-timeout';
}

const probed = new Map<string, Promise<FfmpegFeatures>>();

/** Probes the binary once per path (`-h demuxer=rtsp`); a failed probe is not cached. */
export function ffmpegFeatures(path: string = ffmpegPath()): Promise<FfmpegFeatures> {
  let features = probed.get(path);
  if (!features) {
    features = runFfmpeg(['-hide_banner', '-h', 'demuxer=rtsp'], { path, what: `cannot run ffmpeg at ${path}`, stderrTailBytes: 64 * 1024 }).then(
      ({ stdout, stderr }) => {
        const help = `${stdout.toString()}${stderr}`;
        return { path, rtspTimeoutOption: /^\s*-stimeout\s/m.test(help) ? '-stimeout' : '-timeout' };
      },
    );
    probed.set(path, features);
    features.catch(() => probed.delete(path));
  }
  return features;
}

// ---- the child ---------------------------------------------------------------------------------

export interface FfmpegSpawnOptions {
  /** the binary; default ffmpegPath() */
  path?: string;
  /** 'pipe' to write to ffmpeg's stdin (pipe:0); default 'ignore' */
  stdin?: 'pipe' | 'ignore';
  /** 'pipe' to read ffmpeg's stdout (pipe:1); default 'ignore' */
  stdout?: 'pipe' | 'ignore';
  /** how much of the end of stderr is kept; default 4 KiB */
  stderrTailBytes?: number;
}

export interface FfmpegExit {
  /** null when killed by a signal or never started */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** set when the binary could not be started at all (then code and signal mean nothing) */
  spawnError?: Error;
}

/** A running ffmpeg, for callers that stream (the capture child); one-shot work uses runFfmpeg. */
export interface FfmpegChild {
  readonly path: string;
  /** the process, with stdin and stdout as asked for */
  readonly process: ChildProcess;
  /** undefined when it could not be started */
  readonly pid: number | undefined;
  /** resolves once the child is gone and its pipes closed, or it never started; never rejects */
  readonly exited: Promise<FfmpegExit>;
  /**
   * The end of what ffmpeg wrote to stderr. Once the start was dropped, the first (cut) line is
   * left out too, so no half line, nor half of a URL whose password a redaction must recognise,
   * is shown.
   */
  stderrTail(): string;
  /**
   * Closes the pipes (which also frees an ffmpeg blocked on a paused stdout), sends SIGTERM and,
   * after graceMs (0: at once, instead of SIGTERM), SIGKILL. Resolves when it is gone; calling it
   * again only waits.
   */
  kill(graceMs?: number): Promise<FfmpegExit>;
}

const DEFAULT_STDERR_TAIL = 4 * 1024;

export function spawnFfmpeg(args: readonly string[], options: FfmpegSpawnOptions = {}): FfmpegChild {
  const path = options.path ?? ffmpegPath();
  const keep = options.stderrTailBytes ?? DEFAULT_STDERR_TAIL;
  // Pipes even where the caller wants nothing: 'ignore' would open /dev/null, which a bare root
  // (the offline bundle in an empty chroot, a FROM-scratch image) does not have. An unwanted stdin
  // is closed at once (ffmpeg sees EOF, as with /dev/null); an unwanted stdout is drained.
  const child = spawn(path, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  if (options.stdin !== 'pipe') child.stdin!.end();
  if (options.stdout !== 'pipe') child.stdout!.resume();
  let tail = '';
  let cut = false;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    tail += text;
    if (tail.length > keep) {
      tail = tail.slice(-keep);
      cut = true;
    }
  });
  // A dying ffmpeg shows as EPIPE on stdin and as its exit status; the streams' own 'error' events
  // must not go unheard and bring the process down.
  child.stdin?.on('error', () => undefined);
  child.stdout?.on('error', () => undefined);
  const exited = new Promise<FfmpegExit>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      // A child that never started has no pid; Node 20 then also closes, but later and with a
      // negative errno as the code.
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError: err });
    });
  });
  let killing: Promise<FfmpegExit> | undefined;
  return {
    path,
    process: child,
    pid: child.pid,
    exited,
    stderrTail: () => (cut ? tail.slice(tail.indexOf('\n') + 1) : tail),
    kill(graceMs = 0) {
      if (!killing) {
        child.stdin?.destroy();
        child.stdout?.destroy();
        let hard: NodeJS.Timeout | undefined;
        if (graceMs > 0) {
          child.kill('SIGTERM');
          hard = setTimeout(() => child.kill('SIGKILL'), graceMs);
        } else {
          child.kill('SIGKILL');
        }
        killing = exited.finally(() => clearTimeout(hard));
      }
      return killing;
    },
  };
}

/** "ffmpeg exited with code 1", "ffmpeg was killed by SIGKILL", "cannot start ffmpeg: …". */
export function describeExit(exit: FfmpegExit): string {
  if (exit.spawnError) return `cannot start ffmpeg: ${exit.spawnError.message}`;
  return exit.code !== null ? `ffmpeg exited with code ${exit.code}` : `ffmpeg was killed by ${exit.signal}`;
}

// ---- one run -----------------------------------------------------------------------------------

export type FfmpegInput = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface FfmpegRunOptions {
  /** the binary; default ffmpegPath() */
  path?: string;
  /**
   * written to ffmpeg's stdin (pipe:0) with backpressure, then closed; a stream is an async
   * iterable. Writing stops when ffmpeg exits (seen between chunks: a source that never yields
   * again holds the run); an error thrown by the source kills ffmpeg and is what the run rejects with.
   */
  input?: FfmpegInput;
  /** 'buffer' (default) collects stdout into the result; 'ignore' when the output goes to a file */
  stdout?: 'buffer' | 'ignore';
  /** most stdout bytes taken; more kills ffmpeg and fails the run; default 256 MiB */
  maxStdoutBytes?: number;
  /** how much of the end of stderr is kept for the result and the message; default 4 KiB */
  stderrTailBytes?: number;
  /** kills ffmpeg and rejects (detail.reason 'abort', the signal's reason as cause) */
  signal?: AbortSignal;
  /** kills ffmpeg when it runs longer (detail.reason 'timeout') */
  timeoutMs?: number;
  /** SIGTERM, then SIGKILL after this many ms; default 0: SIGKILL at once (the output is thrown away anyway) */
  killGraceMs?: number;
  /** the kind of error a failure is; default ESEAL_ERR_MEDIA_FFMPEG */
  error?: ErrorKind;
  /** what the run was for, the start of a failure's message; default "ffmpeg <args>" */
  what?: string;
}

export interface FfmpegOutput {
  /** empty unless stdout is 'buffer' */
  stdout: Buffer;
  /** the end of stderr (stderrTailBytes) */
  stderr: string;
}

/** Why a run failed, in its error's `detail.reason`. */
export type FfmpegFailure = 'spawn' | 'exit' | 'abort' | 'timeout' | 'stdout';

const DEFAULT_MAX_STDOUT = 256 * 1024 * 1024;
const MESSAGE_TAIL_CHARS = 4000;

/**
 * Runs ffmpeg once. Resolves on exit 0 with its stdout and the end of its stderr; rejects with
 * `options.error` (default ESEAL_ERR_MEDIA_FFMPEG) whose message names the exit code or signal and
 * ends with the end of stderr, and whose detail holds { reason, exitCode, signal, stderr, path }.
 * The child is gone by the time the promise settles, whatever happened.
 */
export async function runFfmpeg(args: readonly string[], options: FfmpegRunOptions = {}): Promise<FfmpegOutput> {
  const what = options.what ?? `ffmpeg ${args.join(' ')}`;
  const kind = options.error ?? MediaFfmpegFailed;
  const path = options.path ?? ffmpegPath();
  const fail = (reason: FfmpegFailure, problem: string, extra: { exit?: FfmpegExit; tail?: string; cause?: unknown } = {}): Error => {
    const tail = (extra.tail ?? '').trim();
    const shown = tail.length > MESSAGE_TAIL_CHARS ? `…${tail.slice(-MESSAGE_TAIL_CHARS)}` : tail;
    return kind(`${what}: ${problem}${shown ? `: ${shown}` : ''}`, {
      cause: extra.cause ?? extra.exit?.spawnError,
      detail: { reason, exitCode: extra.exit?.code ?? null, signal: extra.exit?.signal ?? null, stderr: tail, path },
    });
  };
  if (options.signal?.aborted) throw fail('abort', 'aborted before ffmpeg started', { cause: options.signal.reason });

  const child = spawnFfmpeg(args, {
    path,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    stdout: options.stdout === 'ignore' ? 'ignore' : 'pipe',
    ...(options.stderrTailBytes === undefined ? {} : { stderrTailBytes: options.stderrTailBytes }),
  });
  const grace = options.killGraceMs ?? 0;

  // The first reason to stop wins; the child is then killed and its exit awaited before settling.
  let stopped: { reason: FfmpegFailure; problem: string; cause?: unknown } | { sourceError: unknown } | undefined;
  const stop = (why: NonNullable<typeof stopped>): void => {
    if (stopped) return;
    stopped = why;
    void child.kill(grace);
  };

  const chunks: Buffer[] = [];
  let stdoutBytes = 0;
  const maxStdout = options.maxStdoutBytes ?? DEFAULT_MAX_STDOUT;
  if (options.stdout !== 'ignore') {
    child.process.stdout!.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) stop({ reason: 'stdout', problem: `ffmpeg wrote more than ${maxStdout} bytes to stdout` });
      else chunks.push(chunk);
    });
  }
  const onAbort = (): void => stop({ reason: 'abort', problem: 'aborted', cause: options.signal!.reason });
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => stop({ reason: 'timeout', problem: `ffmpeg ran for more than ${options.timeoutMs} ms and was killed` }), options.timeoutMs);

  try {
    if (options.input !== undefined) {
      try {
        await feed(child, options.input, () => stopped !== undefined);
      } catch (err) {
        stop({ sourceError: err });
      }
    }
    const exit = await child.exited;
    if (stopped && 'sourceError' in stopped) throw stopped.sourceError;
    if (stopped) throw fail(stopped.reason, stopped.problem, { exit, tail: child.stderrTail(), cause: stopped.cause });
    if (exit.spawnError) {
      throw fail('spawn', `cannot run ffmpeg at ${path} (${exit.spawnError.message}); set FFMPEG_PATH to an ffmpeg binary`, { exit });
    }
    if (exit.code !== 0) throw fail('exit', describeExit(exit), { exit, tail: child.stderrTail() });
    return { stdout: Buffer.concat(chunks), stderr: child.stderrTail() };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Writes the input to stdin, waiting for the pipe to drain, until it ends or ffmpeg is gone; then closes stdin. */
async function feed(ff: FfmpegChild, input: FfmpegInput, stopped: () => boolean): Promise<void> {
  const stdin = ff.process.stdin!;
  let gone = false;
  let wake: (() => void) | undefined;
  void ff.exited.then(() => {
    gone = true;
    wake?.();
  });
  const chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array> = input instanceof Uint8Array ? [input] : input;
  for await (const chunk of chunks) {
    if (gone || stopped() || stdin.destroyed) break;
    if (stdin.write(chunk)) continue;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stdin.off('drain', done);
        stdin.off('close', done);
        wake = undefined;
        resolve();
      };
      wake = done;
      stdin.once('drain', done);
      stdin.once('close', done);
    });
  }
  if (!stdin.destroyed) stdin.end();
}
