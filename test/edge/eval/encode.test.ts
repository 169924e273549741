// Raw frames → MP4 and back, with the real ffmpeg: frame count, pixel values, and no half-written
// clip left behind when the frames are wrong.
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createImage } from '../../../edge/eval/compose.ts';
import { decodeClipFrame, encodeClip, probeClip } from '../../../edge/eval/encode.ts';

t.test('encode, count and decode a frame by index', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eseal-encode-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'grey.mp4');
  // Frame i is a flat grey of level 20·i, so the decoded frame says which one it is.
  const frames = Array.from({ length: 10 }, (_, i) => createImage(64, 48, [20 * i, 20 * i, 20 * i]).rgb);
  const res = await encodeClip(path, frames, { width: 64, height: 48, fps: 5 });
  t.equal(res.frames, 10);
  t.ok(res.bytes > 0);
  t.match(await probeClip(path), { frames: 10, width: 64, height: 48 });
  const f7 = await decodeClipFrame(path, 7, { width: 64, height: 48 });
  t.ok(Math.abs(f7.rgb[64 * 24 * 3 + 32 * 3]! - 140) <= 4, `frame 7 is grey 140 (got ${f7.rgb[64 * 24 * 3 + 32 * 3]})`);
  await t.rejects(decodeClipFrame(path, 30, { width: 64, height: 48 }), { code: 'ESEAL_ERR_EVAL_ENCODE' });
});

t.test('a frame of the wrong size aborts the encode and leaves no file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eseal-encode-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'bad.mp4');
  const frames = [createImage(64, 48).rgb, new Uint8Array(10)];
  await t.rejects(encodeClip(path, frames, { width: 64, height: 48, fps: 5 }), RangeError);
  t.notOk(existsSync(path));
  t.same(await readdir(dir), []);
});
