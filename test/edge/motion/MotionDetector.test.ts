import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readFrames } from '../../../edge/capture/FfmpegCapture.ts';
import { MotionDetector, type MotionOptions } from '../../../edge/motion/MotionDetector.ts';
import { MotionBadOptions } from '../../../edge/motion/errors.ts';
import type { Box, Frame, MotionResult } from '../../../edge/types.ts';
import { BOX, CLIP_H, CLIP_W, lightsOnClip, movingBoxClip, stillClip } from '../capture/clips.ts';

const dir = await mkdtemp(join(tmpdir(), 'eseal-motion-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const [still, moving, lights] = await Promise.all([stillClip(dir, 3), movingBoxClip(dir, 3), lightsOnClip(dir, 2)]);

async function motionOf(path: string, options?: MotionOptions): Promise<{ frame: Frame; motion: MotionResult }[]> {
  const detector = new MotionDetector(CLIP_W, CLIP_H, options);
  const out: { frame: Frame; motion: MotionResult }[] = [];
  for await (const frame of readFrames(`file://${path}`, { width: CLIP_W, height: CLIP_H, fps: 5 })) {
    out.push({ frame, motion: detector.update(frame) });
  }
  return out;
}

/** The box of the moving-box clip at frame `seq` (5 fps). */
function boxAt(seq: number): Box {
  const x = BOX.x0 + (BOX.vx * seq) / 5;
  return { x1: x, y1: BOX.y, x2: x + BOX.w, y2: BOX.y + BOX.h };
}

function near(a: Box, b: Box, slack: number): boolean {
  return Math.abs(a.x1 - b.x1) <= slack && Math.abs(a.y1 - b.y1) <= slack && Math.abs(a.x2 - b.x2) <= slack && Math.abs(a.y2 - b.y2) <= slack;
}

t.test('a still scene is inactive, except on keep-alive frames', async (t) => {
  const results = await motionOf(still);
  t.equal(results.length, 15);
  t.same(
    results.map((r) => r.motion.active),
    results.map((_, i) => i % 10 === 0),
    'active on frames 0 and 10 only',
  );
  t.ok(results.every((r) => r.motion.ratio === 0 && r.motion.regions.length === 0));
  const never = await motionOf(still, { keepAliveFrames: 0 });
  t.ok(never.every((r) => !r.motion.active), 'keepAliveFrames 0 turns keep-alive off');
});

t.test('a moving box is active, with a region around the box', async (t) => {
  const results = await motionOf(moving);
  t.equal(results.length, 15);
  for (const { frame, motion } of results.slice(1)) {
    t.ok(motion.active, `frame ${frame.seq} active`);
    t.ok(motion.ratio > 0.002 && motion.ratio < 0.2, `frame ${frame.seq} ratio ${motion.ratio}`);
  }
  // From frame 5 the box has left its first position, so its region is the box itself (the ghost
  // of the position it had when the background was first taken is a region of its own).
  for (const { frame, motion } of results.slice(5)) {
    const expected = boxAt(frame.seq);
    t.ok(
      motion.regions.some((r) => near(r, expected, 20)),
      `frame ${frame.seq}: a region near ${JSON.stringify(expected)} in ${JSON.stringify(motion.regions)}`,
    );
    t.ok(motion.regions.every((r) => r.y1 >= BOX.y - 16 && r.y2 <= BOX.y + BOX.h + 16), 'nothing moves above or below the box');
  }
});

t.test('motion inside an ignore mask does not count', async (t) => {
  const band = [{ x: 0, y: (BOX.y - 40) / CLIP_H }, { x: 1, y: (BOX.y - 40) / CLIP_H }, { x: 1, y: (BOX.y + BOX.h + 40) / CLIP_H }, { x: 0, y: (BOX.y + BOX.h + 40) / CLIP_H }];
  const results = await motionOf(moving, { mask: [band], keepAliveFrames: 0 });
  t.ok(results.every((r) => !r.motion.active && r.motion.ratio === 0 && r.motion.regions.length === 0));
});

t.test('hold keeps frames active for holdFrames after the motion stops', async (t) => {
  // Frames made in memory: a flat scene with a bright block jumping about on frames 5 to 7.
  const w = 352;
  const h = 288;
  const detector = new MotionDetector(w, h, { keepAliveFrames: 0, holdFrames: 3 });
  const active: boolean[] = [];
  for (let seq = 0; seq < 14; seq++) {
    const gray = new Uint8Array(w * h).fill(100);
    if (seq >= 5 && seq <= 7) {
      const x0 = 40 + (seq - 5) * 90;
      for (let y = 100; y < 164; y++) gray.fill(200, y * w + x0, y * w + x0 + 64);
    }
    const frame: Frame = { camera: 'c', seq, at: seq * 200, width: w, height: h, rgb: new Uint8Array(w * h * 3), gray };
    active.push(detector.update(frame).active);
  }
  t.same(active, [false, false, false, false, false, true, true, true, true, true, true, false, false, false]);
});

t.test('a global brightness jump resets the background instead of staying active', async (t) => {
  const results = await motionOf(lights, { keepAliveFrames: 0 });
  t.equal(results.length, 20);
  const jump = results.findIndex((r) => r.motion.ratio > 0.6);
  t.equal(jump, 10, 'the lights go on at 2 s');
  t.ok(results[jump]!.motion.active, 'the jump frame itself is let through once');
  t.same(results[jump]!.motion.regions, [], 'without regions');
  t.ok(
    results.slice(jump + 1).every((r) => !r.motion.active && r.motion.ratio < 0.002),
    'inactive from the next frame on',
  );
  const noReset = await motionOf(lights, { keepAliveFrames: 0, resetRatio: 1 });
  t.ok(noReset.slice(jump, jump + 5).every((r) => r.motion.active), 'without the reset the jump would look like motion for a long time');
});

t.test('bad options and a frame of another size are refused', async (t) => {
  t.throws(() => new MotionDetector(CLIP_W, CLIP_H, { alpha: 0 }), { code: MotionBadOptions.code, field: 'alpha' });
  t.throws(() => new MotionDetector(CLIP_W, CLIP_H, { threshold: 300 }), { code: MotionBadOptions.code });
  t.throws(() => new MotionDetector(CLIP_W, CLIP_H, { mask: [[{ x: 0, y: 0 }, { x: 1, y: 1 }]] }), { code: MotionBadOptions.code, field: 'mask[0]' });
  t.throws(() => new MotionDetector(CLIP_W, CLIP_H, { mask: [[{ x: 0, y: 0 }, { x: 704, y: 0 }, { x: 704, y: 576 }]] }), { code: MotionBadOptions.code });
  const detector = new MotionDetector(352, 288);
  const frame: Frame = { camera: 'c', seq: 0, at: 0, width: 704, height: 576, rgb: new Uint8Array(704 * 576 * 3), gray: new Uint8Array(704 * 576) };
  t.throws(() => detector.update(frame), { code: MotionBadOptions.code, message: /704x576.*352x288/ });
});
