// Encodes an evidence clip: marks burnt into a copy of each frame, raw RGB piped into an ffmpeg
// child, H.264 (main profile, yuv420p) in an MP4 with the moov first, as the national platform
// takes it. The upload limit is a hard one, so the rate is capped from the byte budget: capped CRF
// (small files for quiet scenes, never more than the cap for busy ones), one re-encode at a lower
// cap if the muxed file still comes out too big, then a refusal rather than a file the platform
// would reject. The file is written beside its final path, fsynced and renamed, so a crash never
// leaves a half clip under the real name.
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import { drawMarks } from '../marks/draw.ts';
import type { Frame, Marks } from '../types.ts';
import { EvidenceAborted, EvidenceEncode, EvidenceFrameSize, EvidenceNoFrames, EvidenceTooBig } from './errors.ts';

/** The platform refuses evidence over 10 MiB; the margin absorbs muxer overhead the estimate misses. */
export const DEFAULT_MAX_CLIP_BYTES = 10 * 1024 * 1024 - 256 * 1024;

/** Clips spanning longer than this are not stretched onto a timeline (the clock jumped); frames are used in order. */
const MAX_TIMELINE_MS = 120_000;

export interface EncodeClipOptions {
  outPath: string;
  /** output frame rate; frames are placed on this rate's timeline by their capture time */
  fps: number;
  /** hard limit on the file size; default DEFAULT_MAX_CLIP_BYTES */
  maxBytes?: number;
  /** camera name drawn bottom-right */
  camera: string;
  /** drawn beside the camera name */
  state?: string;
  /** x264 constant rate factor under the cap; default 23 */
  crf?: number;
  /** x264 preset; default 'veryfast' (the edge box has few cores) */
  preset?: string;
  /** kills the encoder and rejects with ESEAL_ERR_EVIDENCE_ABORTED */
  signal?: AbortSignal;
  /** default FFMPEG_PATH, else the @ffmpeg-installer binary */
  ffmpegPath?: string;
}

export interface ClipFile {
  path: string;
  bytes: number;
  /** frames in the video (after placing the input on the fps timeline) */
  frames: number;
  durationSeconds: number;
  /** 1, or 2 when the first encode came out over maxBytes */
  attempts: number;
  /** the rate cap of the encode that was kept, bits per second */
  maxrate: number;
}

export interface ClipFrame {
  frame: Frame;
  marks: readonly Marks[];
}


/**
 * Which input frame shows at each tick of the output rate: the latest captured less than half a
 * tick after it (so capture jitter is absorbed), so gaps in capture keep their real length and the
 * clip its real duration.
 * Frames out of order, all at one instant or spread implausibly wide are used in order instead.
 */
export function clipTimeline(ats: readonly number[], fps: number): number[] {
  const inOrder = ats.map((_, i) => i);
  if (ats.length < 2) return inOrder;
  const first = ats[0]!;
  const span = ats[ats.length - 1]! - first;
  if (!(span > 0) || span > MAX_TIMELINE_MS || ats.some((at, i) => i > 0 && at < ats[i - 1]!)) return inOrder;
  const tick = 1000 / fps;
  const slots = Math.round(span / tick) + 1;
  const picks: number[] = [];
  let j = 0;
  for (let s = 0; s < slots; s++) {
    const t = first + s * tick + tick / 2;
    while (j + 1 < ats.length && ats[j + 1]! < t) j++;
    picks.push(j);
  }
  return picks;
}

/** Bytes the MP4 container adds beyond the video samples, generously: header boxes plus per-sample tables. */
function containerOverhead(frames: number): number {
  return 8192 + 64 * frames;
}

/**
 * The rate cap for a budget. x264's VBV keeps the bits of any stretch of t seconds under
 * maxrate·t + bufsize, so maxrate·(D + B) ≤ budget bounds the whole clip of D seconds with a buffer
 * of B seconds. 8 % is left for what the VBV model does not count (SEI, slice headers).
 */
function rateFor(maxBytes: number, frames: number, durationSeconds: number, bufferSeconds: number): number {
  const budgetBits = Math.max(0, maxBytes - containerOverhead(frames)) * 8 * 0.92;
  return Math.max(16_000, Math.floor(budgetBits / (durationSeconds + bufferSeconds)));
}

function checkSize(frames: readonly ClipFrame[]): { width: number; height: number } {
  const first = frames[0];
  if (!first) throw EvidenceNoFrames('encodeClip got no frames');
  const { width, height } = first.frame;
  const odd = frames.find((f) => f.frame.width !== width || f.frame.height !== height || f.frame.rgb.length < width * height * 3);
  if (odd) {
    throw EvidenceFrameSize(
      `frame ${odd.frame.seq} of camera ${odd.frame.camera} is ${odd.frame.width}×${odd.frame.height} (${odd.frame.rgb.length} bytes), the clip's first frame ${width}×${height}`,
      { detail: { seq: odd.frame.seq } },
    );
  }
  return { width, height };
}

/** Draws and encodes `frames` into an MP4 at options.outPath; the file is on disk (fsynced) when this resolves. */
export async function encodeClip(frames: readonly ClipFrame[], options: EncodeClipOptions): Promise<ClipFile> {
  const { width, height } = checkSize(frames);
  if (!(options.fps > 0)) throw new RangeError(`encodeClip needs fps > 0, got ${options.fps}`);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_CLIP_BYTES;
  const picks = clipTimeline(frames.map((f) => f.frame.at), options.fps);
  const durationSeconds = picks.length / options.fps;
  const bufferSeconds = Math.min(1, durationSeconds / 2);
  const partial = join(dirname(options.outPath), `.${basename(options.outPath)}.partial`);

  try {
    let maxrate = rateFor(maxBytes, picks.length, durationSeconds, bufferSeconds);
    let attempts = 1;
    let bytes = await runEncoder(frames, picks, partial, { ...options, width, height, maxrate, bufferSeconds });
    if (bytes > maxBytes) {
      // Lower the cap by how far over it came, with room to spare; once.
      attempts = 2;
      maxrate = Math.max(8_000, Math.floor(maxrate * (maxBytes / bytes) * 0.8));
      bytes = await runEncoder(frames, picks, partial, { ...options, width, height, maxrate, bufferSeconds, lowest: true });
      if (bytes > maxBytes) {
        throw EvidenceTooBig(
          `the clip for camera ${options.camera} is ${bytes} bytes at ${maxrate} bit/s, over its limit of ${maxBytes}; lower the frame size or the clip length`,
          { detail: { bytes, maxBytes, maxrate } },
        );
      }
    }
    await syncFile(partial);
    await rename(partial, options.outPath);
    await syncDir(dirname(options.outPath));
    return { path: options.outPath, bytes, frames: picks.length, durationSeconds, attempts, maxrate };
  } catch (err) {
    await rm(partial, { force: true }).catch(() => undefined);
    throw err;
  }
}

interface EncoderRun extends EncodeClipOptions {
  width: number;
  height: number;
  maxrate: number;
  bufferSeconds: number;
  /** the retry: quality traded for size wherever x264 allows */
  lowest?: boolean;
}

function ffmpegArgs(run: EncoderRun, outPath: string): string[] {
  const gop = Math.max(1, Math.round(run.fps * 2));
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${run.width}x${run.height}`, '-r', String(run.fps), '-i', 'pipe:0',
    '-an',
    // yuv420p needs even sides; drop a last odd column or row rather than refuse the frame.
    '-vf', 'crop=trunc(iw/2)*2:trunc(ih/2)*2',
    '-c:v', 'libx264', '-preset', run.preset ?? 'veryfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p',
    '-crf', String(run.lowest ? 51 : (run.crf ?? 23)),
    '-maxrate', String(run.maxrate), '-bufsize', String(Math.max(8_000, Math.floor(run.maxrate * run.bufferSeconds))),
    '-g', String(run.lowest ? gop * 5 : gop),
    '-movflags', '+faststart', '-f', 'mp4', outPath,
  ];
}

/** Runs one ffmpeg over the picked frames; resolves with the size of the file written. */
async function runEncoder(frames: readonly ClipFrame[], picks: readonly number[], outPath: string, run: EncoderRun): Promise<number> {
  if (run.signal?.aborted) throw EvidenceAborted(`the clip for camera ${run.camera} was aborted before encoding`, { cause: run.signal.reason });
  try {
    await runFfmpeg(ffmpegArgs(run, outPath), {
      ...(run.ffmpegPath === undefined ? {} : { path: run.ffmpegPath }),
      input: drawnFrames(frames, picks, run),
      stdout: 'ignore',
      ...(run.signal === undefined ? {} : { signal: run.signal }),
      error: EvidenceEncode,
      what: `cannot encode the clip for camera ${run.camera}`,
    });
  } catch (err) {
    if (run.signal?.aborted) throw EvidenceAborted(`the clip for camera ${run.camera} was aborted while encoding`, { cause: run.signal.reason });
    throw err;
  }
  return (await stat(outPath)).size;
}

/** Each picked frame drawn on a fresh copy, one at a time, as the pipe takes them. */
function* drawnFrames(frames: readonly ClipFrame[], picks: readonly number[], run: EncoderRun): Generator<Uint8Array> {
  const size = run.width * run.height * 3;
  let drawn: { index: number; rgb: Uint8Array } | undefined;
  for (const index of picks) {
    if (drawn?.index !== index) {
      const { frame, marks } = frames[index]!;
      const rgb = new Uint8Array(size);
      rgb.set(frame.rgb.subarray(0, size));
      drawMarks(rgb, run.width, run.height, marks, { time: frame.at, camera: run.camera, ...(run.state === undefined ? {} : { state: run.state }) });
      drawn = { index, rgb };
    }
    yield drawn.rgb;
  }
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes the rename durable; some file systems refuse fsync on a directory, which is then as good as it gets. */
async function syncDir(path: string): Promise<void> {
  try {
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // best effort
  }
}
