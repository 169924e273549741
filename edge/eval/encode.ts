// Raw RGB frames → H.264 MP4 (libx264, moov first) through ffmpeg's stdin, and the reverse for
// checks: count a clip's frames, decode one frame by index. The clip is written beside its final
// name and renamed when complete, so an interrupted build never leaves a short clip that a later
// build would take for a finished one.
import { randomBytes } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { rename, rm, stat } from 'node:fs/promises';
import { ffmpegPath } from '../../src/media/ffmpeg.ts';
import type { RgbImage } from './compose.ts';
import { EvalEncodeFailed } from './errors.ts';

export interface EncodeOptions {
  width: number;
  height: number;
  fps: number;
  /** x264 constant rate factor; 26 keeps detector-relevant detail, and static scenes stay small */
  crf?: number;
  /** keyframe interval in frames (default 2 s) */
  gop?: number;
  preset?: 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium';
}

export interface EncodeResult {
  frames: number;
  bytes: number;
}

/** Encodes every frame (RGB24, width × height × 3 bytes each) into an MP4 at `path`. */
export async function encodeClip(
  path: string,
  frames: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  opts: EncodeOptions,
): Promise<EncodeResult> {
  const { width, height, fps } = opts;
  const frameBytes = width * height * 3;
  // unique: test processes running at once may build the same clip; the last rename wins, whole
  const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.partial.mp4`;
  const args = [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(fps), '-i', 'pipe:0',
    '-an', '-c:v', 'libx264', '-preset', opts.preset ?? 'veryfast', '-crf', String(opts.crf ?? 26),
    '-pix_fmt', 'yuv420p', '-g', String(opts.gop ?? Math.max(1, Math.round(fps * 2))),
    '-movflags', '+faststart', '-f', 'mp4', partial,
  ];
  const child = spawn(ffmpegPath(), args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 8000) stderr += d;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  // A broken pipe shows up as the exit status below; swallow it here so it is reported once.
  child.stdin.on('error', () => {});
  let count = 0;
  try {
    for await (const frame of frames) {
      if (frame.length !== frameBytes) throw new RangeError(`frame ${count} holds ${frame.length} bytes, ${width}x${height} RGB needs ${frameBytes}`);
      count++;
      if (!child.stdin.write(frame)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            child.stdin.off('drain', done);
            child.off('close', done);
            resolve();
          };
          child.stdin.once('drain', done);
          child.once('close', done);
        });
      }
      if (child.exitCode !== null) break;
    }
  } catch (err) {
    child.kill('SIGKILL');
    await exited.catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  }
  child.stdin.end();
  let code: number | null;
  try {
    code = await exited;
  } catch (err) {
    throw EvalEncodeFailed(`cannot run ffmpeg (${ffmpegPath()}): ${(err as Error).message}`, { cause: err });
  }
  if (code !== 0) {
    await rm(partial, { force: true });
    throw EvalEncodeFailed(`ffmpeg exited with ${code} while encoding ${path} after ${count} frames: ${stderr.trim().slice(0, 2000)}`);
  }
  await rename(partial, path);
  return { frames: count, bytes: (await stat(path)).size };
}

function runFfmpeg(args: string[], binary: boolean): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(ffmpegPath(), args, { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      const text = stderr.toString();
      if (err) {
        reject(EvalEncodeFailed(`ffmpeg ${args.join(' ')} failed: ${text.trim().slice(-2000) || err.message}`, { cause: err }));
        return;
      }
      resolve({ stdout: binary ? stdout : Buffer.alloc(0), stderr: text });
    });
  });
}

export interface ClipInfo {
  frames: number;
  /** the container's duration */
  seconds: number;
  width: number;
  height: number;
}

/** Counts the video frames of a clip by demuxing it (no decoding), and reads its size and duration. */
export async function probeClip(path: string): Promise<ClipInfo> {
  const { stderr } = await runFfmpeg(['-nostdin', '-hide_banner', '-i', `file:${path}`, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-'], false);
  const frames = [...stderr.matchAll(/frame=\s*(\d+)/g)].pop();
  const duration = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
  const size = /Video: [^\n]*?, (\d{2,5})x(\d{2,5})/.exec(stderr);
  if (!frames || !duration || !size) throw EvalEncodeFailed(`cannot read frame count, duration or size of ${path} from ffmpeg's output`);
  return {
    frames: Number(frames[1]),
    seconds: Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]),
    width: Number(size[1]),
    height: Number(size[2]),
  };
}

/** Decodes frame number `index` (0-based, in presentation order) of a clip to RGB. */
export async function decodeClipFrame(path: string, index: number, size: { width: number; height: number }): Promise<RgbImage> {
  const { stdout } = await runFfmpeg(
    [
      '-nostdin', '-hide_banner', '-loglevel', 'error', '-i', `file:${path}`,
      '-vf', `select=eq(n\\,${Math.max(0, Math.floor(index))}),scale=${size.width}:${size.height}`,
      '-vsync', '0', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
    ],
    true,
  );
  const bytes = size.width * size.height * 3;
  if (stdout.length < bytes) throw EvalEncodeFailed(`${path} has no frame ${index} (ffmpeg gave ${stdout.length} bytes)`);
  return { width: size.width, height: size.height, rgb: new Uint8Array(stdout.subarray(0, bytes)) };
}
