// The evaluation set end to end on its smallest clips: real photos, real ffmpeg. The MP4 has the
// frames the truth says, the truth's events lie inside the clip, a rebuild keeps what is there,
// and at a truth crossing the pasted person really is in the decoded frame where the scene says.
import t from 'tap';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEvalSet, selectClips } from '../../../edge/eval/buildEvalSet.ts';
import { changedShare } from '../../../edge/eval/compose.ts';
import { decodeClipFrame, probeClip } from '../../../edge/eval/encode.ts';
import { fieldBackground } from '../../../edge/eval/scenes/backgrounds.ts';
import { simulateBelt } from '../../../edge/eval/scenes/belt.ts';
import { frameAt, Photos } from '../../../edge/eval/scenes/clip.ts';
import { PERSONS_CLIPS } from '../../../edge/eval/scenes/persons.ts';
import { parseTruth, truthDuration } from '../../../edge/eval/truth.ts';

t.test('persons-basic: clip, truth, cache and a pasted person at a crossing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eseal-evalset-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const built: boolean[] = [];
  const [entry] = await buildEvalSet(dir, { only: ['persons-basic'], onClip: (c) => built.push(c.built) });
  t.ok(entry);
  const truth = parseTruth(JSON.parse(await readFile(entry!.truth, 'utf8')), entry!.truth);
  t.equal(truth.clip, 'persons-basic.mp4');
  const info = await probeClip(entry!.clip);
  t.equal(info.frames, truth.frames, 'frame count as the truth says');
  t.equal(info.frames, 150);
  t.ok(Math.abs(info.seconds - truthDuration(truth)!) <= 0.25, `duration ${info.seconds} s`);
  t.same([info.width, info.height], [704, 576]);
  t.equal(truth.events.length, 4);
  for (const e of truth.events) t.ok(e.atSeconds > 0 && e.atSeconds < truthDuration(truth)!, `event at ${e.atSeconds} s lies inside the clip`);

  const mtime = (await stat(entry!.clip)).mtimeMs;
  await buildEvalSet(dir, { only: ['persons-basic'], onClip: (c) => built.push(c.built) });
  t.same(built, [true, false], 'a second build keeps the clip');
  t.equal((await stat(entry!.clip)).mtimeMs, mtime);

  const photos = new Photos();
  const clip = await PERSONS_CLIPS.find((s) => s.name === 'persons-basic')!.build(photos);
  const background = await fieldBackground(photos);
  const index = frameAt(truth.events[0]!.atSeconds);
  const objects = clip.objects(index);
  const lineY = 0.6 * 576;
  const crossing = [...objects].sort((a, b) => Math.abs(a.box.y2 - lineY) - Math.abs(b.box.y2 - lineY))[0];
  t.equal(crossing?.cls, 'person', 'a person is on stage at the first crossing');
  const box = crossing!.box;
  t.ok(Math.abs(box.y2 - lineY) < 12, `feet (y ${box.y2}) on the counting line (y ${lineY})`);
  t.ok(box.y2 - box.y1 >= 150 && box.y2 - box.y1 <= 260, `person ${box.y2 - box.y1} px tall`);
  const frame = await decodeClipFrame(entry!.clip, index, { width: 704, height: 576 });
  const inside = changedShare(frame, background, { x: box.x1 + 6, y: box.y1 + 6, width: box.x2 - box.x1 - 12, height: box.y2 - box.y1 - 12 });
  t.ok(inside > 0.4, `${(inside * 100).toFixed(0)} % of the person's box differs from the background`);
  const candidates = [0, 120, 240, 360, 480].map((x) => ({ x, y: 200, width: 200, height: 300 }));
  const away = candidates.find((r) => objects.every((o) => o.box.x2 < r.x || o.box.x1 > r.x + r.width || o.box.y2 < r.y || o.box.y1 > r.y + r.height))!;
  t.ok(away, 'a region with nobody in it');
  const elsewhere = changedShare(frame, background, away);
  t.ok(elsewhere < 0.05, `${(elsewhere * 100).toFixed(1)} % differs where nobody is (encoding and grain only)`);
  t.same(clip.render(index).rgb, clip.render(index).rgb, 'frames are deterministic');
});

t.test('belt simulation: the statuses follow the schedule', async (t) => {
  const sim = simulateBelt(60, [[6, 'start'], [14, 'load'], [30, 'unload'], [48, 'stop']]);
  t.same(sim.events.map((e) => e.beltStatus), ['0002', '0001', '0002']);
  t.equal(sim.events[0]!.atSeconds, 6);
  // Coal dropped 30 px left of the view reaches the ROI's centre (x 352) at 50 px/s.
  t.ok(Math.abs(sim.events[1]!.atSeconds - (14 + 382 / 50)) <= 0.4, `coal arrives at ${sim.events[1]!.atSeconds} s`);
  const withStop = simulateBelt(40, [[2, 'start'], [2, 'load'], [30, 'stop'], [35, 'start']]);
  t.same(withStop.events.map((e) => [e.atSeconds, e.beltStatus]), [[2, '0002'], [withStop.events[1]!.atSeconds, '0001'], [30, '0003'], [35, '0001']]);
});

t.test('the set: names are unique, the quick subset is small, every clip has a version', async (t) => {
  const all = selectClips();
  t.equal(new Set(all.map((s) => s.name)).size, all.length);
  const quick = selectClips({ quick: true });
  t.ok(quick.length >= 4 && quick.length < all.length, `${quick.length} quick clips of ${all.length}`);
  t.throws(() => selectClips({ only: ['nope'] }), /no such evaluation clip: nope/);
});
