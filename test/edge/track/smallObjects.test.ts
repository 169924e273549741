import t from 'tap';
import type { LineCountInput } from '../../../edge/analyses/lineCrossing.ts';
import { PersonsEntering } from '../../../edge/analyses/personsEntering.ts';
import { ByteTracker } from '../../../edge/track/ByteTracker.ts';
import { sizedScore } from '../../../edge/track/smallObjects.ts';
import { runAnalysis, scene, type Mover } from './synth.ts';

t.test('scores of small boxes are scaled up, as far as the floor, and large ones are left alone', async (t) => {
  t.equal(sizedScore(0.5, 120), 0.5);
  t.equal(sizedScore(0.5, 80), 0.5);
  t.equal(sizedScore(0.3, 40), 0.5, '40 px: divided by the floor 0.6');
  t.equal(sizedScore(0.4, 64), 0.5, '64 px: divided by 0.8');
  t.equal(sizedScore(0.3, 40, { fullHeight: 80, floor: 1 }), 0.3, 'floor 1: off');
});

t.test('a far person scored 0.4 starts a track; a large box with the same score does not', async (t) => {
  const small = new ByteTracker();
  const large = new ByteTracker();
  for (let i = 0; i < 3; i++) {
    small.update([{ cls: 'person', score: 0.4, box: { x1: 100, y1: 100 + i, x2: 112, y2: 136 + i } }], i * 200);
    large.update([{ cls: 'person', score: 0.4, box: { x1: 100, y1: 100 + i, x2: 140, y2: 220 + i } }], i * 200);
  }
  t.equal(small.tracks().filter((x) => x.confirmed).length, 1);
  t.equal(large.tracks().length, 0);
});

// 640×360, line y = 216 (band 14.7 px at full size), counted going up (away from the camera).
const AWAY: LineCountInput = { line: [{ x: 0.2, y: 0.6 }, { x: 0.8, y: 0.6 }], towards: { x: 0.5, y: 0.1 } };

t.test('a small person walking away is counted once the feet are a quarter of a height past the line', async (t) => {
  // 30 px tall, scored 0.38 (CenterNet's scores fall with size), stops 10 px past the line: inside
  // the full-size band of 14.7 px, well past a quarter of the height (7.5 px)
  const walker: Mover = {
    cls: 'person',
    w: 12,
    h: 30,
    score: () => 0.38,
    waypoints: [
      { at: 0, x: 320, y: 260 },
      { at: 6000, x: 320, y: 206 },
      { at: 9000, x: 320, y: 206 },
    ],
  };
  for (const seed of [1, 2, 3]) {
    const a = new PersonsEntering('shaft', AWAY);
    const events = runAnalysis(scene([walker], { durationMs: 10_000, noise: 0.5, seed }), a);
    t.equal(events.reduce((s, e) => s + (e.count ?? 0), 0), 1, `seed ${seed}`);
  }
  const still = new PersonsEntering('shaft', { ...AWAY, bandHeights: 10 });
  t.same(runAnalysis(scene([walker], { durationMs: 10_000, noise: 0.5, seed: 1 }), still), [], 'with the band at full size it is not yet counted');
});
