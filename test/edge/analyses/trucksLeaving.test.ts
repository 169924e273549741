import t from 'tap';
import { TRUCKS_LEAVING_DEFAULTS, TrucksLeaving, validateTrucksLeavingOptions } from '../../../edge/analyses/trucksLeaving.ts';
import { AI_TYPE_OF } from '../../../edge/types.ts';
import { runAnalysis, scene, type Mover } from '../track/synth.ts';

// The gate road runs left to right; the counting line is vertical at x = 0.5, leaving means going right.
const OPTIONS = validateTrucksLeavingOptions({ line: [[0.5, 0.3], [0.5, 1]], towards: [0.9, 0.7] }, 'edge.cameras[2].analyses.truck');
const truck = (w: [number, number, number][], extra: Partial<Mover> = {}): Mover => ({ cls: 'vehicle', w: 160, h: 90, waypoints: w.map(([at, x, y]) => ({ at, x, y })), ...extra });

t.test('is the 02 analysis on vehicles, needing detections', async (t) => {
  const a = new TrucksLeaving('gate', OPTIONS);
  t.equal(a.kind, 'truck');
  t.equal(AI_TYPE_OF[a.kind], '02');
  t.equal(a.needsDetections, true);
  t.same(TRUCKS_LEAVING_DEFAULTS, { minScore: 0.5, groupSeconds: 2, minDistance: 0.02, bandHeights: 0.25 });
});

t.test('trucks leaving count; a truck coming in, a person walking out and a parked truck do not', async (t) => {
  const movers: Mover[] = [
    truck([[0, 60, 300], [4000, 600, 300]]), // fast: 135 px/s, 27 px per frame
    truck([[10_000, 60, 280], [18_000, 600, 290]]),
    truck([[11_000, 60, 330], [19_000, 600, 330]]), // side by side with the one before: grouped
    truck([[25_000, 600, 300], [33_000, 60, 300]]), // coming in
    { cls: 'person', w: 30, h: 80, waypoints: [{ at: 30_000, x: 100, y: 250 }, { at: 38_000, x: 560, y: 250 }] },
    truck([[0, 300, 200], [40_000, 302, 200]]), // parked left of the line
    truck([[40_000, 60, 300], [43_000, 600, 300]], { hidden: (at) => at >= 41_200 && at < 41_800 }), // hidden while crossing
  ];
  const a = new TrucksLeaving('gate', OPTIONS);
  const events = runAnalysis(scene(movers, { durationMs: 45_000, noise: 3, seed: 3 }), a);
  t.same(
    events.map((e) => e.count),
    [1, 2, 1],
    events.map((e) => e.detail).join(' | '),
  );
  t.ok(events.every((e) => e.kind === 'truck' && e.camera === 'gate'));
  t.equal(events[1]!.detail, '2 trucks left');
  t.same(a.marks().texts, ['truck out: 4', 'truck in: 1']);
});
