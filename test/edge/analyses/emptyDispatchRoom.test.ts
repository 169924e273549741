import t from 'tap';
import { EMPTY_DISPATCH_ROOM_DEFAULTS, EmptyDispatchRoom, validateEmptyDispatchRoomOptions } from '../../../edge/analyses/emptyDispatchRoom.ts';
import { InvalidAnalysisOption } from '../../../edge/analyses/errors.ts';
import { ByteTracker } from '../../../edge/track/ByteTracker.ts';
import { AI_TYPE_OF, type AnalysisEvent, type Track } from '../../../edge/types.ts';
import { context, scene, type Mover } from '../track/synth.ts';

const START = 1_700_000_000_000;

/** A person sitting at a desk (small movements) from `from` to `to` ms. */
const seated = (from: number, to: number, x = 320, score?: (at: number) => number): Mover => ({
  cls: 'person',
  w: 60,
  h: 120,
  waypoints: [
    { at: from, x, y: 300 },
    { at: (from + to) / 2, x: x + 6, y: 302 },
    { at: to, x, y: 300 },
  ],
  ...(score ? { score } : {}),
});

/** Runs the room analysis with a real tracker; the detector runs when `runs(ms since start)` says so. */
function watch(movers: Mover[], durationMs: number, runs: (ms: number) => boolean = () => true, options = {}) {
  const room = new EmptyDispatchRoom('dispatch', options);
  const tracker = new ByteTracker();
  const events: AnalysisEvent[] = [];
  let tracks: Track[] = [];
  for (const f of scene(movers, { durationMs, noise: 1.5, seed: 9, start: START })) {
    const ran = runs(f.at - START);
    if (ran) tracks = tracker.update(f.detections, f.at);
    events.push(...room.process(context(f.at, ran ? f.detections : undefined, tracks)));
  }
  return { room, events, offsets: events.map((e) => e.at - START) };
}

t.test('is the 06 analysis, needing detections, with the documented defaults', async (t) => {
  const room = new EmptyDispatchRoom('dispatch');
  t.equal(room.kind, 'dispatchRoom');
  t.equal(AI_TYPE_OF[room.kind], '06');
  t.equal(room.needsDetections, true);
  t.same(EMPTY_DISPATCH_ROOM_DEFAULTS, {
    roi: [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }, { x: 0, y: 1 }],
    emptySeconds: 180,
    minScore: 0.4,
    presentSeconds: 2,
    maxGapSeconds: 30,
  });
});

t.test('staffed for a minute, then empty: one event 180 s after the first empty frame, then silence', async (t) => {
  const { events, offsets, room } = watch([seated(0, 60_000)], 600_000);
  t.same(offsets, [60_200 + 180_000], 'exactly one event, at the right time');
  t.equal(events[0]!.kind, 'dispatchRoom');
  t.equal(events[0]!.camera, 'dispatch');
  t.match(events[0]!.detail, /no person in the dispatch room for 180 s/);
  t.match(room.marks().texts[0], /^room: empty 540 s, reported$/);
});

t.test('the person comes back, then leaves again: a second event', async (t) => {
  const { offsets } = watch([seated(0, 60_000), seated(300_000, 310_000)], 700_000);
  t.same(offsets, [240_200, 310_200 + 180_000]);
});

t.test('one stray detection after the event does not re-arm it (presentSeconds)', async (t) => {
  const blip: Mover = { ...seated(300_000, 300_000), score: () => 0.95 }; // seen on one frame only
  const { offsets } = watch([seated(0, 60_000), blip], 700_000);
  t.same(offsets, [240_200]);
  const twice = watch([seated(0, 60_000), seated(300_000, 301_000)], 700_000, () => true, { presentSeconds: 2 });
  t.same(twice.offsets, [240_200], 'present for 1 s < presentSeconds: still the same absence');
  const rearmed = watch([seated(0, 60_000), seated(300_000, 301_000)], 700_000, () => true, { presentSeconds: 0.5 });
  t.same(rearmed.offsets, [240_200, 301_200 + 180_000], 'present for 1 s ≥ 0.5 s: re-armed');
});

t.test('an empty room from the start is reported once', async (t) => {
  t.same(watch([], 400_000).offsets, [180_000]);
});

t.test('no conclusion from missing data: detector runs further apart than maxGapSeconds never make "empty"', async (t) => {
  t.same(watch([seated(0, 60_000)], 900_000, (ms) => ms % 45_000 === 0).offsets, [], 'a run every 45 s');
  t.same(watch([seated(0, 60_000)], 900_000, () => false).offsets, [], 'never a run');
  // a heartbeat run every 10 s is enough: first empty run at 70 s, event at the first run ≥ 250 s
  t.same(watch([seated(0, 60_000)], 400_000, (ms) => ms % 10_000 === 0).offsets, [250_000]);
});

t.test('a blind spell mid-absence restarts the absence clock', async (t) => {
  // detector stalled from 100 s to 160 s (60 s > maxGapSeconds): absence counted again from 160 s
  const { offsets, room } = watch([seated(0, 60_000)], 400_000, (ms) => ms < 100_000 || ms >= 160_000);
  t.same(offsets, [160_000 + 180_000]);
  t.match(room.marks().texts[0], /reported/);
  const blind = new EmptyDispatchRoom('dispatch');
  const dets = [{ box: { x1: 300, y1: 200, x2: 360, y2: 320 }, score: 0.9, cls: 'person' as const }];
  blind.process(context(START, dets, []));
  blind.process(context(START + 45_000, undefined, []));
  t.equal(blind.marks().texts[0], 'room: no detection for 45 s');
});

t.test('only persons inside the ROI and above minScore staff the room', async (t) => {
  const roi = [{ x: 0, y: 0 }, { x: 0.5, y: 0 }, { x: 0.5, y: 1 }, { x: 0, y: 1 }];
  t.same(watch([seated(0, 400_000, 500)], 400_000, () => true, { roi }).offsets, [180_000], 'sitting in the right half, outside the ROI');
  t.same(watch([seated(0, 400_000, 100)], 400_000, () => true, { roi }).offsets, [], 'sitting in the left half');
  t.same(watch([seated(0, 400_000, 320, () => 0.3)], 400_000).offsets, [180_000], 'only ever a 0.3 detection: nobody');
  // a confirmed track counts even while its detections score low (a person half hidden by a desk)
  t.same(watch([seated(0, 400_000, 320, (at) => (at < 10_000 ? 0.8 : 0.3))], 400_000).offsets, []);
});

t.test('marks: ROI in pixels, person boxes, status', async (t) => {
  const room = new EmptyDispatchRoom('dispatch');
  t.same(room.marks().texts, ['room: not judged yet']);
  room.process(context(START, [{ box: { x1: 300, y1: 200, x2: 360, y2: 320 }, score: 0.9, cls: 'person' }], []));
  const m = room.marks();
  t.same(m.polygons[0]?.points, [{ x: 0, y: 0 }, { x: 640, y: 0 }, { x: 640, y: 360 }, { x: 0, y: 360 }]);
  t.equal(m.boxes.length, 1);
  t.same(m.texts, ['room: staffed']);
});

t.test('validateEmptyDispatchRoomOptions', async (t) => {
  const path = 'edge.cameras[3].analyses.dispatchRoom';
  t.same(validateEmptyDispatchRoomOptions(undefined, path), EMPTY_DISPATCH_ROOM_DEFAULTS, 'nothing given: defaults');
  const o = validateEmptyDispatchRoomOptions({ roi: [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]], emptySeconds: 300, minScore: 0.5, presentSeconds: 5, maxGapSeconds: 60 }, path);
  t.same(o.roi[2], { x: 0.5, y: 0.9 });
  t.equal(o.emptySeconds, 300);
  t.throws(() => validateEmptyDispatchRoomOptions({ emptySeconds: 0 }, path), { code: InvalidAnalysisOption.code, field: `${path}.emptySeconds`, message: `${path}.emptySeconds: must be between 1 and 86400, got 0` });
  t.throws(() => validateEmptyDispatchRoomOptions({ roi: [[0, 0], [2, 0], [1, 1]] }, path), { field: `${path}.roi[1][0]`, message: /must be between 0 and 1, got 2/ });
  t.throws(() => validateEmptyDispatchRoomOptions({ emptySecond: 10 }, path), { field: `${path}.emptySecond`, message: /unknown key \(did you mean .*\.emptySeconds\?\)/ });
  t.throws(() => validateEmptyDispatchRoomOptions('yes', path), { field: path, message: /mapping/ });
});
