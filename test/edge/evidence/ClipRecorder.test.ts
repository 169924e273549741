import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ClipRecorder } from '../../../edge/evidence/ClipRecorder.ts';
import { EvidenceAborted, EvidenceBusy, EvidenceNoFrames } from '../../../edge/evidence/errors.ts';
import { probeMp4File } from '../../../src/media/mp4.ts';
import { decodeFrame, isRed, pixel } from './decode.ts';
import { boxMarks, solidFrame, T0 } from './frames.ts';

const W = 320;
const H = 240;
const FPS = 5;
const TICK = 1000 / FPS;

const dir = await mkdtemp(join(tmpdir(), 'eseal-recorder-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** Frame i at T0 + i·200 ms; its box's left edge sits at x = 2·i, so each frame's marks are its own. */
function push(rec: ClipRecorder, from: number, to: number): void {
  for (let i = from; i < to; i++) rec.push(solidFrame(i, T0 + i * TICK, W, H, [60, 60, 60], 'cam-1'), boxMarks(2 * i, 100, 2 * i + 60, 200, [255, 0, 0], `#${i}`));
}

function recorder(sub: string, extra: Partial<ConstructorParameters<typeof ClipRecorder>[0]> = {}): ClipRecorder {
  return new ClipRecorder({ camera: 'cam-1', fps: FPS, outDir: join(dir, sub), encode: { maxBytes: 1_000_000 }, ...extra });
}

t.test('cuts 5 s before to 5 s after the event, with each frame’s own marks', async (t) => {
  const rec = recorder('one');
  push(rec, 0, 60); // up to T0 + 11.8 s
  const eventAt = T0 + 10_000; // frame 50
  const clip = rec.request(eventAt, 'person');
  t.equal(rec.pending, 1);
  push(rec, 60, 76); // frame 75 is the first at or past the window’s end
  const r = await clip;
  t.equal(r.tag, 'person');
  t.equal(r.eventAt, eventAt);
  t.equal(r.firstAt, T0 + 5_000, 'first frame 5 s before');
  t.equal(r.lastAt, T0 + 15_000 - TICK, 'last frame just under 5 s after');
  t.equal(r.frames, 50);
  t.equal(r.durationSeconds, 10);
  t.equal(r.partial, false);
  t.match(r.path, /cam-1-20240102110410-person\.mp4$/, 'named by camera, Beijing time and tag');
  t.equal((await stat(r.path)).size, r.bytes);
  const info = await probeMp4File(r.path);
  t.ok(Math.abs(info.durationMs - 10_000) <= 200, `duration ${info.durationMs} ms`);
  // The clip's first frame is frame 25: its box at x = 50, not the event frame's at x = 100.
  const first = await decodeFrame(r.path, 0, W, H);
  t.ok(isRed(pixel(first, W, 50, 150)), `frame 25's box in the first clip frame (${pixel(first, W, 50, 150).join()})`);
  t.notOk(isRed(pixel(first, W, 100, 150)), "the event frame's box is not");
  t.equal(rec.pending, 0);
  await rec.close();
});

t.test('overlapping requests share the ring; memory stays bounded', async (t) => {
  const rec = recorder('overlap');
  push(rec, 0, 60);
  const a = rec.request(T0 + 10_000, 'a');
  const b = rec.request(T0 + 11_000, 'a');
  push(rec, 60, 200);
  t.equal(rec.buffered, (5 + 5 + 2) * FPS, 'the ring holds one window and a second either side');
  const [ra, rb] = await Promise.all([a, b]);
  t.equal(ra.firstAt, T0 + 5_000);
  t.equal(rb.firstAt, T0 + 6_000);
  t.equal(ra.frames, 50);
  t.equal(rb.frames, 50);
  t.not(ra.path, rb.path, 'same tag, same second: distinct files');
  t.equal(rec.pending, 0);
  await rec.close();
});

t.test('an event whose window already passed is cut at once; one older than the ring has no frames', async (t) => {
  const rec = recorder('late');
  push(rec, 0, 101); // up to T0 + 20 s, the end of the window
  const r = await rec.request(T0 + 15_000, 'late');
  t.equal(r.firstAt, T0 + 10_000);
  t.equal(r.frames, 50);
  await t.rejects(rec.request(T0 - 60_000, 'ancient'), { code: EvidenceNoFrames.code });
  await rec.close();
});

t.test('a stalled stream: cut with what there is after the timeout', async (t) => {
  const rec = recorder('stall', { stallTimeoutMs: 50 });
  push(rec, 0, 72);
  const r = await rec.request(T0 + 10_000, 'stall');
  t.equal(r.partial, true);
  t.equal(r.firstAt, T0 + 5_000);
  t.equal(r.lastAt, T0 + 71 * TICK);
  t.equal(r.frames, 47);
  await rec.close();
});

t.test('close finishes pending requests; destroy fails them', async (t) => {
  const rec = recorder('close');
  push(rec, 0, 52);
  const pending = rec.request(T0 + 10_000, 'closing');
  await rec.close();
  const r = await pending;
  t.equal(r.partial, true, 'cut with the frames it had');
  t.ok((await stat(r.path)).size > 0);
  await t.rejects(rec.request(T0 + 10_000, 'after'), { code: EvidenceAborted.code });

  const rec2 = recorder('destroy');
  push(rec2, 0, 52);
  const doomed = rec2.request(T0 + 10_000, 'doomed');
  rec2.destroy(new Error('shutting down'));
  await t.rejects(doomed, { code: EvidenceAborted.code });
  t.equal(rec2.pending, 0);
  t.equal(rec2.buffered, 0, 'frames released');
});

t.test('too many pending requests are refused', async (t) => {
  const rec = recorder('busy', { maxPending: 1 });
  push(rec, 0, 52);
  const first = rec.request(T0 + 10_000, 'first');
  await t.rejects(rec.request(T0 + 10_200, 'second'), { code: EvidenceBusy.code });
  push(rec, 52, 80);
  t.equal((await first).frames, 50);
  await rec.close();
});
