// Builds the evaluation set into a folder: every clip as an MP4 and, beside it, its ground truth
// (`<name>.truth.json`). A clip whose truth file names the same generator (scene, scene version
// and set version) and whose MP4 is there is kept, so repeated runs only build what changed.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeClip } from './encode.ts';
import { clipFrames, Photos, truthOf, type ClipSpec } from './scenes/clip.ts';
import { ALL_CLIPS } from './scenes/index.ts';
import { parseTruth, writeTruthFile } from './truth.ts';

/** Bumped when something every clip shares changes (frame size, encoder settings, truth rules). */
export const EVAL_SET_VERSION = 1;

export interface BuildOptions {
  /** only the small subset `npm test` uses */
  quick?: boolean;
  /** only these clips (names without .mp4) */
  only?: readonly string[];
  /** where the darknet photos are cached (see darknetPhotos.ts) */
  photoCacheDir?: string;
  /** called after each clip, built or kept */
  onClip?: (entry: BuiltClip) => void;
}

export interface BuiltClip {
  /** absolute path of the MP4 */
  clip: string;
  /** absolute path of its truth file */
  truth: string;
  /** false when an up-to-date copy was already there */
  built: boolean;
}

export function generatorOf(spec: ClipSpec): string {
  return `${spec.scene}/${spec.version} set/${EVAL_SET_VERSION}`;
}

/** The clips a build with these options makes, in build order. */
export function selectClips(options: { quick?: boolean; only?: readonly string[] } = {}): ClipSpec[] {
  let specs = ALL_CLIPS.filter((s) => !options.quick || s.quick);
  if (options.only) {
    const unknown = options.only.filter((n) => !ALL_CLIPS.some((s) => s.name === n));
    if (unknown.length > 0) throw new RangeError(`no such evaluation clip: ${unknown.join(', ')}`);
    specs = specs.filter((s) => options.only!.includes(s.name));
  }
  return specs;
}

async function upToDate(clipPath: string, truthPath: string, generator: string): Promise<boolean> {
  if (!existsSync(clipPath) || !existsSync(truthPath)) return false;
  try {
    return parseTruth(JSON.parse(await readFile(truthPath, 'utf8')), truthPath).generator === generator;
  } catch {
    return false;
  }
}

/** Writes every selected clip and its truth into `dir`; resolves to their paths, in order. */
export async function buildEvalSet(dir: string, options: BuildOptions = {}): Promise<{ clip: string; truth: string }[]> {
  await mkdir(dir, { recursive: true });
  const photos = new Photos(options.photoCacheDir);
  const out: { clip: string; truth: string }[] = [];
  for (const spec of selectClips(options)) {
    const clipPath = join(dir, `${spec.name}.mp4`);
    const truthPath = join(dir, `${spec.name}.truth.json`);
    const generator = generatorOf(spec);
    let built = false;
    if (!(await upToDate(clipPath, truthPath, generator))) {
      const clip = await spec.build(photos);
      const truth = truthOf(clip, generator);
      // Checked before the long encode, written after it: a truth file only ever sits beside a whole clip.
      parseTruth(truth, truthPath);
      await encodeClip(clipPath, clipFrames(clip), { width: clip.width, height: clip.height, fps: clip.fps, ...(clip.crf ? { crf: clip.crf } : {}), ...(clip.bitrateKbps ? { bitrateKbps: clip.bitrateKbps } : {}) });
      await writeTruthFile(truthPath, truth);
      built = true;
    }
    out.push({ clip: clipPath, truth: truthPath });
    options.onClip?.({ clip: clipPath, truth: truthPath, built });
  }
  return out;
}
