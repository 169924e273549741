import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { type ClipFrame, clipTimeline, encodeClip } from '../../../edge/evidence/ClipEncoder.ts';
import { EvidenceAborted, EvidenceFrameSize, EvidenceNoFrames, EvidenceTooBig } from '../../../edge/evidence/errors.ts';
import { probeMp4File } from '../../../src/media/mp4.ts';
import { decodeFrame, isRed, pixel } from './decode.ts';
import { boxMarks, noiseFrame, solidFrame, T0 } from './frames.ts';

const W = 704;
const H = 576;
const FPS = 5;

const dir = await mkdtemp(join(tmpdir(), 'eseal-clip-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** 50 frames at 5 fps: grey with a gradient, a red box moving right 4 px a frame. */
function scene(): ClipFrame[] {
  return Array.from({ length: 50 }, (_, i) => {
    const f = solidFrame(i, T0 + i * 200, W, H, [90, 110, 90]);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) f.rgb[(y * W + x) * 3 + 2] = (x + i) & 0xff;
    return { frame: f, marks: boxMarks(100 + 4 * i, 200, 300 + 4 * i, 400, [255, 0, 0], `person ${i}`) };
  });
}

t.test('50 frames at 5 fps: a 10 s H.264 MP4, moov first, with the marks burnt in', async (t) => {
  const outPath = join(dir, 'scene.mp4');
  const clip = await encodeClip(scene(), { outPath, fps: FPS, camera: 'aux-shaft-1', maxBytes: 2_000_000 });
  t.equal(clip.path, outPath);
  t.equal(clip.frames, 50);
  t.equal(clip.durationSeconds, 10);
  t.equal(clip.attempts, 1);
  t.equal((await stat(outPath)).size, clip.bytes);
  t.ok(clip.bytes <= 2_000_000);

  const info = await probeMp4File(outPath);
  t.equal(info.video.codecName, 'H.264');
  t.equal(info.video.width, W);
  t.equal(info.video.height, H);
  t.equal(info.video.avc.profileName, 'Main');
  t.equal(info.fastStart, true, 'moov before mdat');
  t.ok(Math.abs(info.durationMs - 10_000) <= 200, `duration ${info.durationMs} ms ≈ 10 s`);

  // Frame 25's box: left edge at x = 200 (even, so 4:2:0 keeps its colour), y from 200 to 400.
  const rgb = await decodeFrame(outPath, 25, W, H);
  t.ok(isRed(pixel(rgb, W, 200, 300)), `left edge of frame 25's box is red (${pixel(rgb, W, 200, 300).join()})`);
  t.ok(isRed(pixel(rgb, W, 300, 200)), 'top edge is red');
  t.notOk(isRed(pixel(rgb, W, 250, 300)), 'inside is not');
  t.notOk(isRed(pixel(rgb, W, 100, 300)), "frame 0's box position is not drawn on frame 25");
  t.same(await readdir(dir), ['scene.mp4'], 'no partial file left behind');
});

t.test('random noise with a 300 KB limit stays under it', async (t) => {
  const frames = Array.from({ length: 50 }, (_, i) => ({ frame: noiseFrame(i, T0 + i * 200, W, H), marks: boxMarks(10, 10, 200, 200, [255, 0, 0]) }));
  const outPath = join(dir, 'noise.mp4');
  const maxBytes = 300_000;
  const clip = await encodeClip(frames, { outPath, fps: FPS, camera: 'c', maxBytes });
  t.ok(clip.bytes <= maxBytes, `${clip.bytes} bytes ≤ ${maxBytes}`);
  t.equal((await stat(outPath)).size, clip.bytes);
  const info = await probeMp4File(outPath);
  t.equal(info.video.codecName, 'H.264');
  t.ok(Math.abs(info.durationMs - 10_000) <= 200, `duration ${info.durationMs} ms`);
});

t.test('a limit the first encode misses: re-encoded lower once, or refused, never over', async (t) => {
  const frames = Array.from({ length: 50 }, (_, i) => ({ frame: noiseFrame(i, T0 + i * 200, 320, 240, 7 + i), marks: [] }));
  const outPath = join(dir, 'tiny.mp4');
  const maxBytes = 5_000;
  try {
    const clip = await encodeClip(frames, { outPath, fps: FPS, camera: 'c', maxBytes });
    t.ok(clip.bytes <= maxBytes, `${clip.bytes} bytes ≤ ${maxBytes} after ${clip.attempts} attempts`);
    t.equal((await stat(outPath)).size, clip.bytes);
  } catch (err) {
    t.ok(EvidenceTooBig.is(err), 'refused as too big');
    await t.rejects(stat(outPath), 'and no file is left');
  }
  await rm(outPath, { force: true });
});

t.test('frames are placed on the fps timeline by capture time', async (t) => {
  t.same(clipTimeline([0, 200, 400], 5), [0, 1, 2]);
  t.same(clipTimeline([0, 200, 1000], 5), [0, 1, 1, 1, 1, 2], 'a capture gap keeps its length');
  t.same(clipTimeline([0, 100, 200, 300, 400], 5), [0, 2, 4], 'faster input is thinned');
  t.same(clipTimeline([0, 205, 390, 610], 5), [0, 1, 2, 3], 'jitter under half a tick is absorbed');
  t.same(clipTimeline([400, 200, 0], 5), [0, 1, 2], 'out of order: used in order');
  t.same(clipTimeline([7, 7, 7], 5), [0, 1, 2], 'all at one instant: used in order');

  // A 2 s hole in the capture makes the clip 2 s longer, not shorter.
  const frames = scene().slice(0, 10);
  for (const f of frames.slice(5)) f.frame.at += 2000;
  const clip = await encodeClip(frames, { outPath: join(dir, 'gap.mp4'), fps: FPS, camera: 'c' });
  t.equal(clip.frames, 20);
  t.equal(clip.durationSeconds, 4);
});

t.test('refusals', async (t) => {
  const outPath = join(dir, 'refused.mp4');
  await t.rejects(encodeClip([], { outPath, fps: FPS, camera: 'c' }), { code: EvidenceNoFrames.code });
  const mixed = [{ frame: solidFrame(0, T0, 64, 48, [0, 0, 0]), marks: [] }, { frame: solidFrame(1, T0 + 200, 32, 48, [0, 0, 0]), marks: [] }];
  await t.rejects(encodeClip(mixed, { outPath, fps: FPS, camera: 'c' }), { code: EvidenceFrameSize.code });

  const ac = new AbortController();
  const pending = encodeClip(scene(), { outPath, fps: FPS, camera: 'c', signal: ac.signal });
  setImmediate(() => ac.abort(new Error('shutting down')));
  await t.rejects(pending, { code: EvidenceAborted.code });
  await t.rejects(stat(outPath), 'no file after an abort');
  t.notOk((await readdir(dir)).some((n) => n.includes('partial')), 'no partial file after an abort');

  await t.rejects(encodeClip(scene().slice(0, 3), { outPath, fps: FPS, camera: 'c', ffmpegPath: join(dir, 'no-such-ffmpeg') }), {
    code: 'ESEAL_ERR_EVIDENCE_ENCODE',
  });
});
