// The video the device streams: an Annex-B H.264/H.265 clip cut into access units. When none is
// given, ffmpeg makes one (testsrc, one keyframe a second, no B-frames, as a camera's main stream);
// an .mp4 (or any container) is rewritten to Annex-B with `-c copy`, a .h264/.h265/.265 file is read as is.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import { accessUnits, type AccessUnit, type VideoCodec } from './annexB.ts';
import { SimDeviceClip } from './errors.ts';

export interface Clip {
  codec: VideoCodec;
  units: AccessUnit[];
  /** the frame rate the units are paced at */
  fps: number;
}

export interface MakeClipOptions {
  codec: VideoCodec;
  seconds?: number;
  fps?: number;
  width?: number;
  height?: number;
}

/** ffmpeg's encoder arguments for a camera-like Annex-B stream: a keyframe a second, no B-frames. */
function encoderArgs(codec: VideoCodec, fps: number): string[] {
  return codec === 'h264'
    ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-g', String(fps), '-bf', '0', '-f', 'h264']
    : ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', `keyint=${fps}:min-keyint=${fps}:bframes=0:log-level=error`, '-f', 'hevc'];
}

/** Encodes a test pattern to an Annex-B elementary stream in memory. */
export async function makeClipBytes(o: MakeClipOptions): Promise<Buffer> {
  const fps = o.fps ?? 25;
  const size = `${o.width ?? 640}x${o.height ?? 360}`;
  const enc = encoderArgs(o.codec, fps);
  const { stdout } = await runFfmpeg(
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${fps}`, '-t', String(o.seconds ?? 2), '-pix_fmt', 'yuv420p', ...enc, 'pipe:1'],
    { what: `making a ${o.codec} test clip with ffmpeg`, error: SimDeviceClip, timeoutMs: 120_000 },
  );
  return stdout;
}

function codecOfExtension(path: string): VideoCodec | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.h264' || ext === '.264') return 'h264';
  if (ext === '.h265' || ext === '.265' || ext === '.hevc') return 'h265';
  return undefined;
}

/**
 * The sub stream (a=streamnumber:1) of a clip: half its width and height, as a camera's sub stream
 * is smaller than its main one. Made by ffmpeg at 320×180 when `path` is undefined, else the file
 * re-encoded at half size.
 */
export async function loadSubClip(path: string | undefined, codec: VideoCodec, fps = 25): Promise<Clip> {
  if (path === undefined) return clipOf(await makeClipBytes({ codec, fps, width: 320, height: 180 }), codec, fps, '(made by ffmpeg)');
  const main = await loadClip(path, codec, fps);
  const enc = encoderArgs(main.codec, fps);
  const { stdout } = await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-i', path, '-map', '0:v:0', '-vf', 'scale=trunc(iw/4)*2:trunc(ih/4)*2', '-pix_fmt', 'yuv420p', ...enc, 'pipe:1'], {
    what: `making the half-size sub stream of ${path}`,
    error: SimDeviceClip,
    timeoutMs: 120_000,
  });
  return clipOf(stdout, main.codec, fps, path);
}

/** Loads a clip: made by ffmpeg when `path` is undefined, else read (and rewritten to Annex-B when in a container). */
export async function loadClip(path: string | undefined, codec: VideoCodec, fps = 25): Promise<Clip> {
  let bytes: Buffer;
  if (path === undefined) bytes = await makeClipBytes({ codec, fps });
  else if (codecOfExtension(path)) {
    codec = codecOfExtension(path)!;
    bytes = await readFile(path).catch((err: unknown) => {
      throw SimDeviceClip(`cannot read the clip ${path}: ${(err as Error).message}`, { field: 'media', cause: err });
    });
  } else {
    const bsf = codec === 'h264' ? 'h264_mp4toannexb' : 'hevc_mp4toannexb';
    ({ stdout: bytes } = await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-i', path, '-map', '0:v:0', '-c:v', 'copy', '-bsf:v', bsf, '-f', codec === 'h264' ? 'h264' : 'hevc', 'pipe:1'], {
      what: `extracting the ${codec} video of ${path} (is it ${codec}? --h265 for H.265)`,
      error: SimDeviceClip,
      timeoutMs: 120_000,
    }));
  }
  return clipOf(bytes, codec, fps, path ?? '(made by ffmpeg)');
}

function clipOf(bytes: Buffer, codec: VideoCodec, fps: number, what: string): Clip {
  const units = accessUnits(codec, bytes);
  if (!units.some((u) => u.keyframe)) throw SimDeviceClip(`the clip ${what} has no ${codec} keyframe: is it Annex-B ${codec}?`, { field: 'media' });
  // start on a keyframe, so that every loop starts decodable
  const first = units.findIndex((u) => u.keyframe);
  return { codec, units: units.slice(first), fps };
}
