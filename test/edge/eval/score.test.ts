// The scorer on hand-made cases: exact and off-by-tolerance matches, extras, grouped counts,
// wrong belt statuses, the asymmetric windows of occlusion/moved, and optimal (not greedy) pairing.
import t from 'tap';
import { aggregate, formatScoreTable, scoreEvents, type DetectedEvent } from '../../../edge/eval/score.ts';
import type { TruthEvent, TruthFile } from '../../../edge/eval/truth.ts';

function truth(events: TruthEvent[], clip = 'c.mp4'): TruthFile {
  return {
    format: 'eseal-truth/1',
    clip,
    fps: 5,
    width: 704,
    height: 576,
    camera: {
      role: 'auxiliaryShaft',
      analyses: {
        person: { line: [[0, 0.6], [1, 0.6]], towards: [0.5, 0.9] },
        truck: { line: [[0.5, 0], [0.5, 1]], towards: [0.9, 0.5] },
        belt: { roi: [[0, 0], [1, 0], [1, 1]], direction: 'right' },
        dispatchRoom: { roi: [[0, 0], [1, 0], [1, 1]] },
        occlusion: {},
        moved: {},
      },
    },
    events,
  };
}

const person = (atSeconds: number, count?: number): DetectedEvent => ({ kind: 'person', atSeconds, ...(count ? { count } : {}) });

t.test('exact matches are all true positives', async (t) => {
  const s = scoreEvents(truth([{ kind: 'person', atSeconds: 5 }, { kind: 'person', atSeconds: 12 }, { kind: 'belt', atSeconds: 20, beltStatus: '0001' }]), [
    person(5),
    person(12),
    { kind: 'belt', atSeconds: 20, beltStatus: '0001' },
  ]);
  t.match(s.perKind.person, { tp: 2, fp: 0, fn: 0, precision: 1, recall: 1, clips: 1 });
  t.match(s.perKind.belt, { tp: 1, fp: 0, fn: 0 });
  t.equal(s.matches.length, 3);
  t.same(s.missed, []);
  t.same(s.extra, []);
});

t.test('person windows: 3 s early, 3 + 2 s late', async (t) => {
  const tr = truth([{ kind: 'person', atSeconds: 10 }]);
  t.equal(scoreEvents(tr, [person(7.01)]).perKind.person.tp, 1, '2.99 s early matches');
  t.equal(scoreEvents(tr, [person(6.9)]).perKind.person.tp, 0, '3.1 s early does not');
  t.equal(scoreEvents(tr, [person(14.9)]).perKind.person.tp, 1, '4.9 s late matches (group allowance)');
  const late = scoreEvents(tr, [person(15.2)]);
  t.match(late.perKind.person, { tp: 0, fp: 1, fn: 1, precision: 0, recall: 0 });
  t.equal(scoreEvents(tr, [person(15.2)], { groupSeconds: 3 }).perKind.person.tp, 1, 'groupSeconds widens it');
  t.equal(scoreEvents(tr, [person(6)], { tolerance: { person: 5 } }).perKind.person.tp, 1, 'tolerance option');
  const wide = truth([{ kind: 'person', atSeconds: 10, toleranceSeconds: 9 }]);
  t.equal(scoreEvents(wide, [person(18)]).perKind.person.tp, 1, "a truth event's own tolerance wins");
});

t.test('extra events are false positives; precision and recall', async (t) => {
  const s = scoreEvents(truth([{ kind: 'person', atSeconds: 10 }, { kind: 'person', atSeconds: 30 }]), [person(10.5), person(20), person(21)]);
  t.match(s.perKind.person, { tp: 1, fp: 2, fn: 1 });
  t.equal(s.perKind.person.precision, 1 / 3);
  t.equal(s.perKind.person.recall, 1 / 2);
  t.same(s.extra.map((e) => e.atSeconds), [20, 21]);
  t.same(s.missed.map((e) => e.atSeconds), [30]);
  t.match(s.perKind.truck, { tp: 0, fp: 0, fn: 0, precision: 1, recall: 1 }, 'nothing to find, nothing found: 1 and 1');
});

t.test('grouped counts expand into units on both sides', async (t) => {
  const twoSingles = truth([{ kind: 'person', atSeconds: 8 }, { kind: 'person', atSeconds: 8.4 }]);
  t.match(scoreEvents(twoSingles, [person(9, 2)]).perKind.person, { tp: 2, fp: 0, fn: 0 }, 'one event of 2 for two crossings');
  t.match(scoreEvents(twoSingles, [person(9, 3)]).perKind.person, { tp: 2, fp: 1, fn: 0 }, 'counting 3 is one too many');
  t.match(scoreEvents(twoSingles, [person(9)]).perKind.person, { tp: 1, fp: 0, fn: 1 }, 'counting 1 misses one');
  const pair = truth([{ kind: 'person', atSeconds: 8, count: 2 }]);
  t.match(scoreEvents(pair, [person(8), person(8.6)]).perKind.person, { tp: 2, fp: 0, fn: 0 }, 'two events for a truth count of 2');
  t.match(scoreEvents(pair, [{ kind: 'person', atSeconds: 8, count: 0 }]).perKind.person, { tp: 0, fp: 0, fn: 2 }, 'a count of 0 counts nothing');
  const trucks = truth([{ kind: 'truck', atSeconds: 4 }]);
  t.match(scoreEvents(trucks, [{ kind: 'truck', atSeconds: 4.5 }, { kind: 'person', atSeconds: 4.5 }]).perKind, { truck: { tp: 1 }, person: { fp: 1 } }, 'kinds never match across');
});

t.test('belt events match only with the same status, within 6 s', async (t) => {
  const tr = truth([{ kind: 'belt', atSeconds: 20, beltStatus: '0001' }, { kind: 'belt', atSeconds: 40, beltStatus: '0003' }]);
  const s = scoreEvents(tr, [{ kind: 'belt', atSeconds: 21, beltStatus: '0002' }, { kind: 'belt', atSeconds: 45.5, beltStatus: '0003' }]);
  t.match(s.perKind.belt, { tp: 1, fp: 1, fn: 1 });
  t.equal(s.missed[0]?.beltStatus, '0001');
  t.equal(s.extra[0]?.beltStatus, '0002');
  t.equal(scoreEvents(tr, [{ kind: 'belt', atSeconds: 13.9, beltStatus: '0001' }]).perKind.belt.tp, 0, '6.1 s early');
  t.equal(scoreEvents(tr, [{ kind: 'belt', atSeconds: 20 }]).perKind.belt.tp, 0, 'no status, no match');
});

t.test('dispatchRoom within 10 s; occlusion and moved up to 20 s after, at most 1 s before', async (t) => {
  const tr = truth([{ kind: 'dispatchRoom', atSeconds: 200 }, { kind: 'occlusion', atSeconds: 16 }, { kind: 'moved', atSeconds: 16 }]);
  const s = scoreEvents(tr, [
    { kind: 'dispatchRoom', atSeconds: 209 },
    { kind: 'occlusion', atSeconds: 35.5 },
    { kind: 'moved', atSeconds: 14 },
  ]);
  t.match(s.perKind, { dispatchRoom: { tp: 1 }, occlusion: { tp: 1 }, moved: { tp: 0, fp: 1, fn: 1 } });
  t.equal(scoreEvents(tr, [{ kind: 'occlusion', atSeconds: 36.5 }]).perKind.occlusion.tp, 0, '20.5 s late');
  t.equal(scoreEvents(tr, [{ kind: 'occlusion', atSeconds: 15.2 }]).perKind.occlusion.tp, 1, '0.8 s early');
  t.equal(scoreEvents(tr, [{ kind: 'dispatchRoom', atSeconds: 189 }]).perKind.dispatchRoom.tp, 0, '11 s early');
});

t.test('pairing is optimal where a greedy nearest-first pass loses a match', async (t) => {
  // Truth at 10 and 16; detections at 13.6 (3.6 after A, 2.4 before B) and 18.5 (only B can take it).
  // Nearest first pairs 13.6 with B and leaves both A and 18.5 alone; the optimum pairs both.
  const s = scoreEvents(truth([{ kind: 'person', atSeconds: 10 }, { kind: 'person', atSeconds: 16 }]), [person(13.6), person(18.5)]);
  t.match(s.perKind.person, { tp: 2, fp: 0, fn: 0 });
  t.same(s.matches.map((m) => [m.truthAt, m.detectedAt]), [[10, 13.6], [16, 18.5]]);
});

t.test('aggregate sums counts; the table prints them', async (t) => {
  const a = scoreEvents(truth([{ kind: 'person', atSeconds: 5 }], 'a.mp4'), [person(5)]);
  const b = scoreEvents(truth([{ kind: 'person', atSeconds: 5 }, { kind: 'moved', atSeconds: 9 }], 'b.mp4'), [person(50)]);
  const all = aggregate([a, b]);
  t.match(all.perKind.person, { tp: 1, fp: 1, fn: 1, clips: 2, precision: 0.5, recall: 0.5 });
  t.match(all.perKind.moved, { tp: 0, fn: 1, recall: 0 });
  t.equal(all.matches.length, 1);
  t.equal(all.missed.length, 2);
  const table = formatScoreTable([a, b]);
  t.match(table, /a\.mp4\s+person\s+1\s+1\s+0\s+0\s+100\.0%\s+100\.0%/);
  t.match(table, /all\s+person\s+2\s+1\s+1\s+1\s+50\.0%\s+50\.0%/);
  t.match(formatScoreTable(a), /^clip\s+kind/);
});

t.test('malformed detections are refused', async (t) => {
  const tr = truth([]);
  t.throws(() => scoreEvents(tr, [{ kind: 'smoke' as never, atSeconds: 1 }]), { code: 'ESEAL_ERR_EVAL_DETECTED', field: 'detected[0].kind' });
  t.throws(() => scoreEvents(tr, [person(Number.NaN)]), { code: 'ESEAL_ERR_EVAL_DETECTED', field: 'detected[0].atSeconds' });
  t.throws(() => scoreEvents(tr, [{ kind: 'belt', atSeconds: 1, beltStatus: '7' as never }]), { code: 'ESEAL_ERR_EVAL_DETECTED' });
});
