// Reads frames back out of an encoded clip with the real ffmpeg, to check what was drawn.
import { runFfmpeg } from '../../../src/media/ffmpeg.ts';

/** Frame `index` (0-based) of the clip as RGB24. */
export async function decodeFrame(path: string, index: number, width: number, height: number): Promise<Uint8Array> {
  const { stdout } = await runFfmpeg(
    ['-hide_banner', '-loglevel', 'error', '-i', path, '-vf', `select=eq(n\\,${index})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { maxStdoutBytes: width * height * 3 + 1024, what: `decoding frame ${index} of ${path}` },
  );
  if (stdout.length !== width * height * 3) throw new Error(`decoded ${stdout.length} bytes, expected ${width * height * 3}`);
  return new Uint8Array(stdout);
}

export function pixel(rgb: Uint8Array, width: number, x: number, y: number): [number, number, number] {
  const i = (y * width + x) * 3;
  return [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
}

/** Roughly pure red after 4:2:0 and lossy coding. */
export function isRed([r, g, b]: readonly number[]): boolean {
  return r! > 170 && g! < 90 && b! < 90;
}
