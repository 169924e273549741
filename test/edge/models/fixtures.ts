// Shared by the model and detector tests: real photos decoded with ffmpeg, and the converted
// default model kept in a cache folder so a test run converts it at most once.
import { join } from 'node:path';
import { runFfmpeg } from '../../../src/media/ffmpeg.ts';
import { darknetPhoto, defaultCacheDir, type DarknetPhoto } from '../../../edge/eval/darknetPhotos.ts';
import { ensureDefaultModel } from '../../../edge/models/buildDefault.ts';
import type { DetectorModelSpec } from '../../../edge/detect/modelSpec.ts';
import type { Frame } from '../../../edge/types.ts';

export interface Rgb {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** a darknet sample photo as RGB24 */
export async function photo(name: DarknetPhoto): Promise<Rgb> {
  const file = await darknetPhoto(name);
  // Without -loglevel error: the size is read from the stream description.
  const { stdout, stderr } = await runFfmpeg(['-hide_banner', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    maxStdoutBytes: 64 << 20,
    stderrTailBytes: 64 * 1024,
  });
  const m = /Video: .*?(\d{2,5})x(\d{2,5})/.exec(stderr);
  if (!m) throw new Error(`no frame size in ffmpeg's output for ${file}`);
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (stdout.length !== width * height * 3) throw new Error(`${file}: ${stdout.length} bytes for ${width}×${height}`);
  return { width, height, rgb: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length) };
}

export function frameOf(img: Rgb, camera = 'cam-a', seq = 0): Frame {
  return { camera, seq, at: Date.now(), width: img.width, height: img.height, rgb: img.rgb, gray: new Uint8Array(img.width * img.height) };
}

export function modelCacheDir(): string {
  return join(defaultCacheDir(), 'models');
}

/** the default model at `size`, converted once into the cache */
export function cachedModel(size = 512): Promise<DetectorModelSpec> {
  return ensureDefaultModel(modelCacheDir(), size);
}
