// Short H.264 clips for the capture and motion tests, made at test time by the real ffmpeg from
// lavfi sources: a busy test pattern, a still scene, a box moving across a still scene, and a
// still scene whose brightness jumps halfway (lights switched on).

import { join } from 'node:path';
import { runFfmpeg } from '../../../src/media/ffmpeg.ts';

export const CLIP_W = 704;
export const CLIP_H = 576;
const RATE = 25;

/** The moving box of `movingBoxClip`: 80×160, top-left at (100 + 120 t, 200) t seconds in. */
export const BOX = { w: 80, h: 160, x0: 100, vx: 120, y: 200 };

// A still background with structure (a grid and two blocks), so that it is not one flat colour.
const SCENE = (c: string, d: number): string =>
  `color=c=${c}:s=${CLIP_W}x${CLIP_H}:r=${RATE}:d=${d},drawgrid=w=64:h=64:t=2:c=0x909090,drawbox=x=500:y=60:w=120:h=90:c=0x202020:t=fill,drawbox=x=40:y=420:w=200:h=100:c=0xc0c0c0:t=fill`;

export function testPatternClip(dir: string, seconds: number, name = `pattern-${seconds}s.mp4`): Promise<string> {
  return encode(join(dir, name), ['-f', 'lavfi', '-i', `testsrc2=size=${CLIP_W}x${CLIP_H}:rate=${RATE}:duration=${seconds}`]);
}

export function stillClip(dir: string, seconds: number): Promise<string> {
  return encode(join(dir, `still-${seconds}s.mp4`), ['-f', 'lavfi', '-i', SCENE('0x404040', seconds)]);
}

export function movingBoxClip(dir: string, seconds: number): Promise<string> {
  return encode(join(dir, `box-${seconds}s.mp4`), [
    ...['-f', 'lavfi', '-i', SCENE('0x404040', seconds)],
    ...['-f', 'lavfi', '-i', `color=c=white:s=${BOX.w}x${BOX.h}:r=${RATE}:d=${seconds}`],
    ...['-filter_complex', `[0][1]overlay=x='${BOX.x0}+${BOX.vx}*t':y=${BOX.y}:shortest=1`],
  ]);
}

/** `seconds` of a dark scene, then `seconds` of the same scene much brighter. */
export function lightsOnClip(dir: string, seconds: number): Promise<string> {
  return encode(join(dir, `lights-${seconds}s.mp4`), [
    '-filter_complex',
    `${SCENE('0x303030', seconds)},lutyuv=y=val*0.5[a];${SCENE('0x303030', seconds)},lutyuv=y=val*1.6[b];[a][b]concat=n=2:v=1:a=0`,
  ]);
}

async function encode(path: string, inputs: string[]): Promise<string> {
  const args = [
    ...['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'],
    ...inputs,
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', String(RATE), path],
  ];
  await runFfmpeg(args, { stdout: 'ignore' });
  return path;
}
