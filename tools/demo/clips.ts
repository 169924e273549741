// The evidence videos the demo's mine sends: distinct short H.264 clips made with ffmpeg, one
// test pattern per kind of evidence, each with its SM3 so that what arrives can be checked.
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import { EVIDENCE_ENDPOINTS } from '../../src/contract/index.ts';
import { createSm3 } from '../../src/crypto/sm3.ts';

export type EvidenceKind = keyof typeof EVIDENCE_ENDPOINTS;

export interface VideoFile {
  path: string;
  size: number;
  sm3: string;
}

/** A lavfi test pattern per kind of evidence, so the clips of one kind look alike and differ from the others. */
const VIDEO_PATTERNS: Record<EvidenceKind, string> = {
  personVideo: 'testsrc',
  truckVideo: 'testsrc2',
  beltVideo: 'smptebars',
  dispatchingRoomVideo: 'rgbtestsrc',
  cameraCoverVideo: 'yuvtestsrc',
};

async function sm3OfFile(path: string): Promise<string> {
  const hash = createSm3();
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * `count` distinct 2-second H.264 clips of one kind from one ffmpeg run: the kind's test pattern,
 * its hue turned a little further for each clip (and a comment naming the clip, for certainty).
 */
async function makeClips(dir: string, kind: EvidenceKind, count: number): Promise<VideoFile[]> {
  const labels = Array.from({ length: count }, (_, i) => i);
  const split = `[0:v]split=${count}${labels.map((i) => `[s${i}]`).join('')}`;
  const hues = labels.map((i) => `[s${i}]hue=h=${Math.round((i * 360) / count)}[v${i}]`);
  const paths = labels.map((i) => join(dir, `${kind}-${i + 1}.mp4`));
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'];
  args.push('-f', 'lavfi', '-i', `${VIDEO_PATTERNS[kind]}=size=320x240:rate=10:duration=2`);
  args.push('-filter_complex', [split, ...hues].join(';'));
  for (const i of labels) {
    args.push('-map', `[v${i}]`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '10');
    args.push('-metadata', `comment=eseal demo ${kind} ${i + 1}`, '-f', 'mp4', paths[i]!);
  }
  await runFfmpeg(args, { stdout: 'ignore', what: `ffmpeg making the demo's ${kind} clips` });
  return Promise.all(paths.map(async (path) => ({ path, size: (await stat(path)).size, sm3: await sm3OfFile(path) })));
}

/** `rounds` clips of every kind in `dir`, all different. */
export async function makeAllClips(dir: string, rounds: number): Promise<Record<EvidenceKind, VideoFile[]>> {
  await mkdir(dir, { recursive: true });
  const kinds = Object.keys(EVIDENCE_ENDPOINTS) as EvidenceKind[];
  const made = await Promise.all(kinds.map((k) => makeClips(dir, k, rounds)));
  const all = made.flat();
  if (new Set(all.map((v) => v.sm3)).size !== all.length) throw new Error('ffmpeg made two identical clips; the demo needs distinct videos');
  return Object.fromEntries(kinds.map((k, i) => [k, made[i]!])) as Record<EvidenceKind, VideoFile[]>;
}
