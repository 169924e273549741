// Raw RGB frames → H.264 MP4 (libx264, moov first) through ffmpeg's stdin, and the reverse for
// checks: count a clip's frames, decode one frame by index. The clip is written beside its final
// name and renamed when complete, so an interrupted build never leaves a short clip that a later
// build would take for a finished one.
import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import type { RgbImage } from './compose.ts';
import { EvalEncodeFailed } from './errors.ts';

export interface EncodeOptions {
  width: number;
  height: number;
  fps: number;
  /** x264 constant rate factor; 26 keeps detector-relevant detail, and static scenes stay small */
  crf?: number;
  /**
   * a constant bitrate cap instead of CRF, kbit/s: what a camera sends over a mine's uplink (4 Mbit/s
   * shared by its cameras leaves about 500 per sub-stream), with the blocking and smearing that brings
   */
  bitrateKbps?: number;
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
    '-an', '-c:v', 'libx264', '-preset', opts.preset ?? 'veryfast',
    ...(opts.bitrateKbps
      ? ['-b:v', `${opts.bitrateKbps}k`, '-maxrate', `${opts.bitrateKbps}k`, '-bufsize', `${opts.bitrateKbps * 2}k`]
      : ['-crf', String(opts.crf ?? 26)]),
    '-pix_fmt', 'yuv420p', '-g', String(opts.gop ?? Math.max(1, Math.round(fps * 2))),
    '-movflags', '+faststart', '-f', 'mp4', partial,
  ];
  let count = 0;
  async function* checked(): AsyncGenerator<Uint8Array> {
    for await (const frame of frames) {
      if (frame.length !== frameBytes) throw new RangeError(`frame ${count} holds ${frame.length} bytes, ${width}x${height} RGB needs ${frameBytes}`);
      count++;
      yield frame;
    }
  }
  try {
    await runFfmpeg(args, { input: checked(), stdout: 'ignore', error: EvalEncodeFailed, what: `cannot encode ${path}` });
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  await rename(partial, path);
  return { frames: count, bytes: (await stat(path)).size };
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
  // Without -loglevel error: the stream description and the progress lines are what is read.
  const { stderr } = await runFfmpeg(['-nostdin', '-hide_banner', '-i', `file:${path}`, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-'], {
    stdout: 'ignore',
    stderrTailBytes: 1024 * 1024,
    error: EvalEncodeFailed,
    what: `cannot read ${path}`,
  });
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
    { error: EvalEncodeFailed, what: `cannot decode frame ${index} of ${path}` },
  );
  const bytes = size.width * size.height * 3;
  if (stdout.length < bytes) throw EvalEncodeFailed(`${path} has no frame ${index} (ffmpeg gave ${stdout.length} bytes)`);
  return { width: size.width, height: size.height, rgb: new Uint8Array(stdout.subarray(0, bytes)) };
}
