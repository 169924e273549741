// Options and events of FfmpegCapture.

import type { Frame } from '../types.ts';
import type { GbBridge } from './gbStream.ts';

/**
 * 'live': the camera as it is now; frames stamped with the wall clock, file sources read at their
 * native speed, the child restarted whenever it ends.
 * 'replay' (evaluation): a recording decoded once, as fast as the consumer takes it, frames
 * stamped startAt + seq × 1000 / fps so that results do not depend on the machine's speed.
 */
export type CaptureMode = 'live' | 'replay';

/** The part of a pino logger capture uses; a pino Logger fits. */
export interface CaptureLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CaptureBackoff {
  /** first wait before a restart, ms (default 1000) */
  initialMs?: number;
  /** the wait doubles up to this, ms (default 30000) */
  maxMs?: number;
  /** a session that delivered frames for this long resets the wait to initialMs (default 60000) */
  resetAfterMs?: number;
}

export interface FfmpegCaptureOptions {
  /** camera key from config; copied into every Frame */
  camera: string;
  /** rtsp://, rtsps://, http(s)://, file:///abs, file:relative or gb28181://<device>/<channel> (see parseSourceUrl) */
  url: string;
  /** gb28181:// sources: the bridge they are read from (required for them) */
  gb28181?: GbBridge;
  /** analysis size (default 704×576, the D1 size of most mine cameras) */
  width?: number;
  height?: number;
  /** analysis frame rate (default 5) */
  fps?: number;
  /** default 'live' */
  mode?: CaptureMode;
  /** file sources in live mode only: play the file in a loop (-stream_loop -1) */
  loop?: boolean;
  /** replay mode: `at` of frame 0, ms since the epoch (default Date.now() at start()) */
  startAt?: number;
  /** no frame for this long (while not paused) = kill the child and restart (default 10) */
  stallSeconds?: number;
  backoff?: CaptureBackoff;
  /** how long stop() waits after SIGTERM before SIGKILL, ms (default 2000) */
  killGraceMs?: number;
  log?: CaptureLogger;
  /** resolves relative file: URLs (default process.cwd()) */
  cwd?: string;
}

/** Typed event map (Node's EventEmitter<T>): event name → listener arguments. */
export interface CaptureEvents {
  /** a decoded frame at the analysis size */
  frame: [frame: Frame];
  /** the first frame of a session arrived (after start or after being offline) */
  online: [];
  /** the source stopped delivering; emitted on the change to offline, the first failure after
   * start() included, not again for each failed retry (see `restart`); the reason is redacted */
  offline: [reason: string];
  /** a restart is scheduled after `delayMs` (live mode) */
  restart: [attempt: number, delayMs: number];
  /** replay mode: the recording was decoded to its end and every frame emitted */
  end: [];
  /** replay failed (CaptureFailed), or ffmpeg could not be started; emitted only when listened to */
  error: [err: Error];
}
