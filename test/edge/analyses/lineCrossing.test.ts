import t from 'tap';
import { validateLineCountOptions, type LineCountInput } from '../../../edge/analyses/lineCrossing.ts';
import { PersonsEntering } from '../../../edge/analyses/personsEntering.ts';
import { InvalidAnalysisOption } from '../../../edge/analyses/errors.ts';
import { ByteTracker } from '../../../edge/track/ByteTracker.ts';
import type { AnalysisEvent } from '../../../edge/types.ts';
import { frameAt, runAnalysis, scene, type Mover } from '../track/synth.ts';
import { TURN_FRAME, turnBehindRuns } from '../track/turnBehind.ts';

// 640×360 frames; the line is y = 216 px from x = 128 to 512; "in" is downwards. Band ±14.7 px.
const LINE: LineCountInput = { line: [{ x: 0.2, y: 0.6 }, { x: 0.8, y: 0.6 }], towards: { x: 0.5, y: 0.9 } };
const START = 1_700_000_000_000;

/** A person whose foot point goes through the given (ms, x, y) waypoints. */
const person = (...w: [number, number, number][]): Mover => ({ cls: 'person', w: 40, h: 100, waypoints: w.map(([at, x, y]) => ({ at, x, y })) });

function count(movers: Mover[], durationMs: number, options: Partial<LineCountInput> = {}, seed = 1) {
  const a = new PersonsEntering('gate', { ...LINE, ...options });
  const events = runAnalysis(scene(movers, { durationMs, noise: 2, seed }), a);
  return { a, events, total: events.reduce((s, e) => s + (e.count ?? 0), 0) };
}

t.test('a person walking in across the line counts once, at the time of the crossing', async (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const { a, events } = count([person([0, 320, 120], [8000, 320, 330])], 10_000, {}, seed);
    t.equal(events.length, 1, `seed ${seed}: one event`);
    const e = events[0]!;
    t.equal(e.count, 1);
    t.equal(e.kind, 'person');
    t.equal(e.camera, 'gate');
    t.equal(e.trackIds?.length, 1);
    const crossedAt = START + ((216 - 120) / (330 - 120)) * 8000; // 3657 ms
    t.ok(Math.abs(e.at - crossedAt) <= 400, `event at +${e.at - START} ms, crossing at +${Math.round(crossedAt - START)} ms`);
    t.ok(a.marks().texts.includes('person in: 1'));
  }
});

t.test('a walk the wrong way is not counted but shown as out', async (t) => {
  const { a, events } = count([person([0, 320, 330], [8000, 320, 120])], 10_000);
  t.same(events, []);
  t.ok(a.marks().texts.includes('person out: 1'));
  t.ok(a.marks().texts.includes('person in: 0'));
});

t.test('jitter on the line and standing on it never count', async (t) => {
  // foot point oscillating ±6 px around the line (plus 2 px detector noise) for a minute
  const wobble: Mover = { cls: 'person', w: 40, h: 100, waypoints: Array.from({ length: 301 }, (_, k) => ({ at: k * 200, x: 320 + 3 * Math.sin(k / 3), y: 216 + 6 * Math.sin(k / 2) })) };
  t.equal(count([wobble], 60_000).events.length, 0, 'wobble');
  t.equal(count([person([0, 320, 120], [3000, 320, 216], [13_000, 320, 220], [16_000, 320, 120])], 17_000).events.length, 0, 'walks onto the line, stands, goes back');
  t.equal(count([person([0, 320, 330], [3000, 320, 216], [13_000, 320, 214], [16_000, 320, 330])], 17_000).events.length, 0, 'from inside onto the line and back in');
});

t.test('crossing, coming back and crossing again counts once', async (t) => {
  const { a, events, total } = count([person([0, 320, 120], [4000, 320, 300], [8000, 320, 120], [12_000, 320, 300])], 13_000);
  t.equal(events.length, 1);
  t.equal(total, 1);
  t.ok(a.marks().texts.includes('person out: 1'));
});

t.test('crossing the infinite line beyond the segment does not count', async (t) => {
  t.equal(count([person([0, 60, 120], [8000, 60, 330])], 9000).events.length, 0);
  t.equal(count([person([0, 600, 120], [8000, 600, 330])], 9000).events.length, 0);
});

t.test('simultaneous crossings make one event; a later one its own', async (t) => {
  const movers = [
    person([0, 200, 120], [6000, 200, 330]),
    person([300, 320, 120], [6300, 320, 330]),
    person([800, 440, 120], [6800, 440, 330]),
    person([12_000, 320, 120], [18_000, 320, 330]),
  ];
  const { events } = count(movers, 20_000);
  t.same(
    events.map((e) => e.count),
    [3, 1],
  );
  t.equal(new Set(events[0]!.trackIds).size, 3, 'three different tracks');
  t.ok(events[0]!.at < START + 3400, 'time of the first crossing of the group');
  t.equal(events[0]!.detail, '3 persons entered');
});

t.test('groupSeconds: 3 s apart are two events with 2 s, one of 2 with 5 s; 0 reports at once', async (t) => {
  const movers = [person([0, 250, 120], [6000, 250, 330]), person([3000, 400, 120], [9000, 400, 330])];
  t.same(
    count(movers, 12_000).events.map((e) => e.count),
    [1, 1],
  );
  t.same(
    count(movers, 12_000, { groupSeconds: 5 }).events.map((e) => e.count),
    [2],
  );
  const a = new PersonsEntering('gate', { ...LINE, groupSeconds: 0 });
  const events = runAnalysis(scene([person([0, 320, 120], [6000, 320, 330])], { durationMs: 7000, seed: 1 }), a, { flush: false });
  t.equal(events.length, 1, 'emitted without a flush');
});

t.test('the last group is handed out by flush()', async (t) => {
  const a = new PersonsEntering('gate', LINE);
  const frames = scene([person([0, 320, 120], [3000, 320, 330])], { durationMs: 3000, seed: 2 });
  t.same(runAnalysis(frames, a, { flush: false }), [], 'window not over at the end of the input');
  t.equal(a.flush()[0]?.count, 1);
  t.same(a.flush(), [], 'flushed once');
});

t.test('ROI: only crossings whose foot point is inside count', async (t) => {
  const roi = [{ x: 0, y: 0 }, { x: 0.5, y: 0 }, { x: 0.5, y: 1 }, { x: 0, y: 1 }];
  t.equal(count([person([0, 440, 120], [8000, 440, 330])], 9000, { roi }).events.length, 0, 'right half');
  t.equal(count([person([0, 200, 120], [8000, 200, 330])], 9000, { roi }).events.length, 1, 'left half');
});

t.test('only the wanted class counts; minScore filters weak tracks', async (t) => {
  const car: Mover = { ...person([0, 320, 60], [8000, 320, 340]), cls: 'vehicle', w: 120, h: 60 };
  t.equal(count([car], 9000).events.length, 0, 'a vehicle is not a person');
  const weak: Mover = { ...person([0, 320, 120], [8000, 320, 330]), score: () => 0.65 };
  t.equal(count([weak], 9000, { minScore: 0.7 }).events.length, 0, 'never scored 0.7');
  t.equal(count([weak], 9000, { minScore: 0.6 }).events.length, 1);
});

t.test('occluded while crossing, and a detector that runs on every third frame: still one count', async (t) => {
  const hidden: Mover = { ...person([0, 320, 120], [8000, 320, 330]), hidden: (at) => at >= 3200 && at < 4200 };
  t.equal(count([hidden], 10_000).total, 1, 'hidden for 5 runs across the line');
  const a = new PersonsEntering('gate', LINE);
  const events = runAnalysis(scene([person([0, 320, 120], [8000, 320, 330])], { durationMs: 10_000, noise: 2, seed: 4 }), a, { detectEvery: 3 });
  t.equal(events.length, 1);
  t.equal(events[0]!.count, 1);
});

t.test('marks: line and towards arrow in pixels, ROI, labelled boxes', async (t) => {
  const roi = [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 0.5, y: 1 }];
  const a = new PersonsEntering('gate', { ...LINE, roi });
  runAnalysis(scene([person([0, 320, 120], [4000, 320, 300])], { durationMs: 4000, seed: 1 }), a, { flush: false });
  const m = a.marks();
  t.same(m.lines[0]?.a, { x: 128, y: 216 });
  t.same(m.lines[0]?.b, { x: 512, y: 216 });
  t.same(m.lines[1]?.b, { x: 320, y: 324 }, 'arrow to towards');
  t.equal(m.polygons.length, 1);
  t.match(m.boxes[0]?.label, /^#\d+ person in$/);
});

t.test('validateLineCountOptions: typed options with defaults, or an error naming the path and rule', async (t) => {
  const path = 'edge.cameras[1].analyses.person';
  const ok = validateLineCountOptions({ line: [[0.1, 0.5], [0.9, 0.5]], towards: [0.5, 0.8] }, path);
  t.same(ok, { line: [{ x: 0.1, y: 0.5 }, { x: 0.9, y: 0.5 }], towards: { x: 0.5, y: 0.8 }, minScore: 0.5, groupSeconds: 2, minDistance: 0.02, bandHeights: 0.25 });
  const full = validateLineCountOptions({ line: [{ x: 0.1, y: 0.5 }, { x: 0.9, y: 0.5 }], towards: { x: 0.5, y: 0.2 }, roi: [[0, 0], [1, 0], [1, 1]], minScore: 0.3, groupSeconds: 0, minDistance: 0.05 }, path);
  t.equal(full.roi?.length, 3);
  t.equal(full.groupSeconds, 0);

  const refuse = (raw: unknown, field: string, rule: RegExp) => {
    try {
      validateLineCountOptions(raw, path);
      t.fail(`accepted ${JSON.stringify(raw)}`);
    } catch (err) {
      t.ok(InvalidAnalysisOption.is(err), 'ESEAL_ERR_EDGE_ANALYSIS_OPTION');
      const e = err as { field: string; message: string; statusCode: number };
      t.equal(e.field, field);
      t.match(e.message, rule);
      t.ok(e.message.startsWith(`${field}: `), e.message);
    }
  };
  const towards = [0.5, 0.8];
  refuse({ towards }, `${path}.line`, /required with towards/);
  refuse({ line: [[0.1, 0.5], [1.2, 0.5]], towards }, `${path}.line[1][0]`, /must be between 0 and 1, got 1\.2/);
  refuse({ line: [[0.1, 0.5]], towards }, `${path}.line`, /must be a list of 2 \(two points \[\[x, y\], \[x, y\]\]\), got 1/);
  refuse({ line: [[0.5, 0.5], [0.5, 0.5]], towards }, `${path}.line`, /must differ/);
  refuse({ line: [[0.1, 0.5], [0.9, 0.5]] }, `${path}.towards`, /required with line/);
  refuse({ line: [[0.1, 0.5], [0.9, 0.5]], towards: [0.3, 0.5] }, `${path}.towards`, /off the line/);
  refuse({ line: [[0.1, 0.5], [0.9, 0.5]], towards: 'down' }, `${path}.towards`, /must be a point \[x, y\] with 0 ≤ x, y ≤ 1, got "down"/);
  refuse({ line: [[0.1, 0.5], [0.9, 0.5]], towards, roi: [[0, 0], [1, 1]] }, `${path}.roi`, /at least 3 entries \(a polygon of at least 3 points/);
  refuse({ line: [[0.1, 0.5], [0.9, 0.5]], towards, roi: [[0, 0], [0.5, 0.5], [1, 1]] }, `${path}.roi`, /no area/);
  refuse({ line: [[0.1, 0.5], [0.9, 0.5]], towards, minScore: 2 }, `${path}.minScore`, /must be between 0 and 1, got 2/);
  refuse({ line: [[0.1, 0.5], [0.9, 0.5]], towards, groupSecs: 2 }, `${path}.groupSecs`, /unknown key \(did you mean .*\.groupSeconds\?\)/);
  refuse([1, 2], path, /must be a mapping with keys line, towards/);
  // every problem at once, the first one's path as the field
  refuse({ line: [[0.1, 2], [0.9, 0.5]], towards: [0.5, -1], minScore: 'high' }, `${path}.line[0][1]`, /line\[0\]\[1\]: .*; .*towards\[1\]: .*; .*minScore: must be a number between 0 and 1, got "high"/);
  // nothing given (or true): a line across the middle, counted going down
  for (const raw of [undefined, null, true, {}]) {
    t.same(validateLineCountOptions(raw, path), { line: [{ x: 0.02, y: 0.55 }, { x: 0.98, y: 0.55 }], towards: { x: 0.5, y: 1 }, minScore: 0.5, groupSeconds: 2, minDistance: 0.02, bandHeights: 0.25 }, `${JSON.stringify(raw)}: defaults`);
  }
  t.same(validateLineCountOptions({ towards: [0.5, 0.9], line: [[0, 0.5], [1, 0.5]], roi: { x1: 0, y1: 0, x2: 1, y2: 0.5 } }, path).roi?.length, 4, 'a rectangle ROI');
});

t.test('a person who turns across the line while hidden behind another counts once (tracker recovery)', async (t) => {
  // the detections of a real case, in its 704×576 frame with the line at 0.6 of the height
  const runCase = (tracker: ByteTracker) => {
    const a = new PersonsEntering('gate', { line: [{ x: 0, y: 0.6 }, { x: 1, y: 0.6 }], towards: { x: 0.5, y: 1 } });
    const events: AnalysisEvent[] = [];
    turnBehindRuns(START).forEach((r, k) => {
      const tracks = tracker.update(r.detections, r.at);
      const frame = frameAt(r.at, k, TURN_FRAME.width, TURN_FRAME.height);
      events.push(...a.process({ frame, motion: { ratio: 0.1, active: true, regions: [] }, detections: r.detections, tracks }));
    });
    events.push(...a.flush());
    return events;
  };
  const events = runCase(new ByteTracker());
  t.same(
    events.map((e) => e.count),
    [1],
    'the turning person counts, the one walking on does not',
  );
  t.same(
    runCase(new ByteTracker({ recoverIou: Infinity })).map((e) => e.count),
    [],
    'without recovery the walk is split in two ids and neither crosses',
  );

  // the same situation drawn: two walk towards each other on the far side, the one going right
  // turns in as they meet and hides the other for two runs
  const rear: Mover = { ...person([0, 560, 180], [8000, 80, 180]), hidden: (at) => at > 3900 && at < 4300, score: (at) => (Math.abs(at - 3800) < 100 ? 0.25 : 0.85) };
  const turner = person([0, 80, 182], [3800, 308, 182], [6800, 338, 362]);
  for (let seed = 1; seed <= 20; seed++) t.equal(count([rear, turner], 8000, {}, seed).total, 1, `seed ${seed}: one count`);
});

t.test('recovery does not double-count: pairs walking in side by side, one hidden for a moment behind the other', async (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const hidden = (at: number) => at >= 2600 && at < 3400; // 4 runs, while crossing
    const movers = [
      person([0, 300, 120], [6000, 310, 330]),
      { ...person([0, 330, 115], [6000, 345, 325]), hidden },
      person([8000, 200, 120], [14_000, 200, 330]),
      { ...person([8200, 225, 120], [14_200, 225, 330]), hidden: (at: number) => at >= 10_400 && at < 10_800 },
    ];
    const { total } = count(movers, 16_000, {}, seed);
    t.equal(total, 4, `seed ${seed}: four in`);
  }
});
