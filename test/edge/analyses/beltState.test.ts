import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import t from 'tap';
import { BeltStateAnalysis, DEFAULT_BELT_OPTIONS, validateBeltOptions, type BeltOptions } from '../../../edge/analyses/beltState.ts';
import { BeltBaselineUnreadable, InvalidAnalysisOption } from '../../../edge/analyses/errors.ts';
import type { AnalysisEvent } from '../../../edge/types.ts';
import { BELT_H, BELT_ROI, BELT_W, BeltScene } from './image/beltScene.ts';
import { contextOf, frameOf } from './image/scenes.ts';

const FRAME_MS = 200;

interface Step {
  speed: number;
  gain?: number;
  person?: { x: number; y: number };
}

/** Feeds frames to the analysis; returns the events with the index of the frame that gave them. */
class Drive {
  offset = 0;
  seq = 0;
  readonly events: (AnalysisEvent & { frame: number })[] = [];
  constructor(
    readonly scene: BeltScene,
    readonly belt: BeltStateAnalysis,
    readonly start = 1_700_000_000_000,
  ) {}

  get now(): number {
    return this.start + this.seq * FRAME_MS;
  }

  run(frames: number, step: Step | ((i: number) => Step)): (AnalysisEvent & { frame: number })[] {
    const got: (AnalysisEvent & { frame: number })[] = [];
    for (let i = 0; i < frames; i++) {
      const s = typeof step === 'function' ? step(i) : step;
      this.offset += s.speed;
      const gray = this.scene.render({ offset: this.offset, noiseSeed: `noise-${this.seq}`, ...(s.gain === undefined ? {} : { gain: s.gain }), ...(s.person ? { person: s.person } : {}) });
      const frame = frameOf('main-belt', gray, BELT_W, BELT_H, this.seq, this.now);
      for (const e of this.belt.process(contextOf(frame))) got.push({ ...e, frame: this.seq });
      this.seq++;
    }
    this.events.push(...got);
    return got;
  }
}

function belt(extra: Record<string, unknown> = {}): BeltStateAnalysis {
  return new BeltStateAnalysis('main-belt', validateBeltOptions({ roi: BELT_ROI, direction: 'right', ...extra }, 'edge.cameras[0].analyses.belt'));
}

t.test('learnt baseline: start empty → 0002, coal arrives → 0001, stop with coal → 0003', (t) => {
  const scene = new BeltScene('belt-a');
  const d = new Drive(scene, belt());
  // stopped and empty for 14 s: the empty belt is learnt, nothing is reported
  t.same(d.run(70, { speed: 0 }), [], 'nothing while stopped');
  t.equal(d.belt.state.run, 'stopped');
  t.ok(d.belt.baseline, 'empty belt learnt from the steady stretch');
  const startAt = d.now;
  // coal reaches the view 100 frames after the start
  scene.coalEntering(100 * 4, 2400);
  const started = d.run(60, { speed: 4 });
  t.equal(started.length, 1, 'one start event');
  t.equal(started[0]?.beltStatus, '0002', 'running without coal');
  t.equal(started[0]?.kind, 'belt');
  t.equal(started[0]?.camera, 'main-belt');
  t.ok(started[0]!.at >= startAt && started[0]!.at <= startAt + 1000, 'the event is dated when the belt started');
  t.ok(started[0]!.frame - 70 >= 15 && started[0]!.frame - 70 <= 20, `reported after ~3 s of running (frame ${started[0]!.frame - 70} after the start)`);
  t.same(d.belt.marks().texts, ['belt: running, no coal']);

  // "with coal" once more than half of the belt in view carries it (648 px of ROI at 4 px/frame)
  const loaded = d.run(160, { speed: 4 });
  t.same(loaded.map((e) => e.beltStatus), ['0001'], 'coal while running: 0001');
  // Coal enters the frame at frame 170 (offset 400) and covers half the ROI (28…676 px) 88 frames
  // later: "with coal" is dated well after the first lumps and not after half the belt is covered.
  const firstLumps = startAt + (170 - 70) * 200;
  const half = startAt + (170 + 88 - 70) * 200;
  t.ok(loaded[0]!.at >= firstLumps + 6000 && loaded[0]!.at <= half + 1000, `dated when coal covered a good part of the belt (${(loaded[0]!.at - firstLumps) / 1000} s after the first lumps)`);
  t.equal(d.belt.marks().texts[0], 'belt: running, coal');
  const stopAt = d.now;
  const stopped = d.run(40, { speed: 0 });
  t.same(stopped.map((e) => e.beltStatus), ['0003'], 'stop with coal: 0003');
  t.equal(stopped[0]?.at, stopAt, 'dated at the stop');
  t.same(d.run(50, { speed: 0 }), [], 'nothing more while stopped with coal');

  // started again while the coal is still on it, then the coal runs out
  const again = d.run(40, { speed: 4 });
  t.same(again.map((e) => e.beltStatus), ['0001'], 'start with coal: 0001');
  const emptied = d.run(520, { speed: 6 });
  t.same(emptied.map((e) => e.beltStatus), ['0002'], 'coal gone while running: 0002');
  const m = d.belt.marks();
  t.equal(m.polygons.length, 1);
  t.equal(m.polygons[0]!.points.length, 4);
  t.ok(Math.abs(m.polygons[0]!.points[0]!.x - BELT_ROI.x1 * BELT_W) < 1e-9, 'ROI drawn in frame pixels');
  t.end();
});

t.test('from its first seconds: 2 s standing empty are enough to report the first start and every coal change after it', (t) => {
  const scene = new BeltScene('belt-first');
  const d = new Drive(scene, belt());
  t.same(d.run(10, { speed: 0 }), [], 'nothing while standing');
  t.ok(d.belt.baseline, 'the empty belt is learnt from the first 2 s, while it stands');
  const startAt = d.now;
  // the loader is on: coal enters the view 10 frames after the start and keeps coming for 1200 px
  scene.coalEntering(40, 1200);
  const early = d.run(30, { speed: 4 });
  t.same(early.map((e) => e.beltStatus), ['0002'], 'the first start, without coal (coal has only begun to ride in)');
  t.ok(Math.abs(early[0]!.at - startAt) <= 1000, 'dated when the belt started');
  const rest = d.run(500, { speed: 4 });
  t.same(rest.map((e) => e.beltStatus), ['0001', '0002'], 'coal arrives (0001), then runs out while the belt runs on (0002)');
  // coal covers half the ROI (28…676 px) 91 frames after the start, and half of it is bare again
  // once its tail is 324 px into the view: 10 + 300 + 88 frames after the start
  const coalAt = startAt + 91 * FRAME_MS;
  const goneAt = startAt + 398 * FRAME_MS;
  t.ok(Math.abs(rest[0]!.at - coalAt) <= 4000, `0001 dated ${(rest[0]!.at - coalAt) / 1000} s from half the belt covered`);
  t.ok(Math.abs(rest[1]!.at - goneAt) <= 4000, `0002 dated ${(rest[1]!.at - goneAt) / 1000} s from half the belt bare`);
  t.same(d.run(30, { speed: 0 }), [], 'a stop without coal: nothing (the guide has no code for it)');
  t.end();
});

t.test('under a flickering lamp (±25 %, 1.3 Hz beat at 5 fps): the same events, no more', (t) => {
  const scene = new BeltScene('belt-flicker');
  const d = new Drive(scene, belt());
  let n = 0;
  const flicker = (speed: number) => (): Step => ({ speed, gain: 0.9 * (1 + 0.25 * Math.sin(2 * Math.PI * 1.3 * (n++ / 5))) });
  t.same(d.run(15, flicker(0)), [], 'nothing while standing');
  t.ok(d.belt.baseline, 'learnt while standing under the flicker');
  scene.coalEntering(40, 2400);
  t.same(d.run(30, flicker(4)).map((e) => e.beltStatus), ['0002'], 'start without coal');
  t.same(d.run(200, flicker(4)).map((e) => e.beltStatus), ['0001'], 'coal arrives');
  t.same(d.run(40, flicker(0)).map((e) => e.beltStatus), ['0003'], 'stop with coal');
  t.same(d.run(60, flicker(0)), [], 'nothing while standing with coal');
  t.same(d.events.map((e) => e.beltStatus), ['0002', '0001', '0003']);
  t.end();
});

t.test('no event while stopped, under a lighting ramp or a person crossing; an empty stop emits nothing', (t) => {
  const scene = new BeltScene('belt-b');
  const d = new Drive(scene, belt());
  d.run(70, { speed: 0 });
  t.same(d.run(50, (i) => ({ speed: 0, gain: 1 - (0.5 * i) / 50 })), [], 'lights dim to half while stopped');
  t.same(d.run(30, (i) => ({ speed: 0, gain: 0.5, person: { x: 300, y: -140 + i * 24 } })), [], 'a person walks across the stopped belt');
  t.equal(d.belt.state.run, 'stopped');
  const started = d.run(30, { speed: 4, gain: 0.5 });
  t.same(started.map((e) => e.beltStatus), ['0002'], 'started (in dim light): 0002');
  t.same(d.run(50, (i) => ({ speed: 4, gain: 0.5 + (0.5 * i) / 50 })), [], 'lights come back while running empty');
  t.same(d.run(20, (i) => ({ speed: 4, person: { x: 200 + i * 6, y: -140 + i * 24 } })), [], 'a person walks across the running belt');
  t.same(d.run(30, { speed: 4 }), []);
  t.equal(d.belt.state.run, 'running', 'still running');
  t.equal(d.belt.state.load, 'empty', 'still empty');
  t.same(d.run(40, { speed: 0 }), [], 'an empty belt stopping is not reported');
  t.equal(d.belt.state.run, 'stopped');
  t.same(d.events.map((e) => e.beltStatus), ['0002']);
  t.end();
});

t.test('movement against the configured direction is not running, unless the belt is reversible', (t) => {
  const one = new Drive(new BeltScene('belt-c'), belt());
  one.run(70, { speed: 0 });
  t.same(one.run(40, { speed: -4 }), [], 'backwards: not running');
  const two = new Drive(new BeltScene('belt-c'), belt({ reversible: true }));
  two.run(70, { speed: 0 });
  t.same(two.run(40, { speed: -4 }).map((e) => e.beltStatus), ['0002'], 'reversible: running');
  const three = new Drive(new BeltScene('belt-c'), belt({ direction: 'left' }));
  three.run(70, { speed: 0 });
  t.same(three.run(40, { speed: -4 }).map((e) => e.beltStatus), ['0002'], "direction 'left'");
  t.end();
});

t.test('an empty-belt image from the config: a belt first seen running with coal reports 0001', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eseal-belt-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const scene = new BeltScene('belt-d');
  const gray = scene.render({ offset: 0, noiseSeed: 'snapshot' });
  const rgba = new Uint8Array(gray.length * 4);
  for (let i = 0; i < gray.length; i++) rgba.set([gray[i]!, gray[i]!, gray[i]!, 255], i * 4);
  const path = join(dir, 'empty-belt.jpg');
  await writeFile(path, jpeg.encode({ width: BELT_W, height: BELT_H, data: rgba }, 95).data);

  scene.addCoal(0, 4096, 0.4);
  const d = new Drive(scene, belt({ baselineImage: path }));
  const got = d.run(40, { speed: 4 });
  t.same(got.map((e) => e.beltStatus), ['0001'], 'running with coal from the first frames');
  t.ok(d.belt.baseline, 'baseline from the image');

  const bad = join(dir, 'bad.jpg');
  await writeFile(bad, 'not a jpeg');
  t.throws(() => belt({ baselineImage: bad }), { code: BeltBaselineUnreadable.code });
  t.throws(() => belt({ baselineImage: join(dir, 'missing.jpg') }), {
    code: InvalidAnalysisOption.code,
    field: 'edge.cameras[0].analyses.belt.baselineImage',
  });
});

t.test('options: defaults, shapes and messages naming the config path', (t) => {
  const path = 'edge.cameras[0].analyses.belt';
  const d = validateBeltOptions(undefined, path);
  t.same(d, { ...DEFAULT_BELT_OPTIONS, roi: DEFAULT_BELT_OPTIONS.roi });
  t.equal(d.startStopSeconds, 3);
  t.equal(d.coalSeconds, 5);
  const o: BeltOptions = validateBeltOptions({ roi: [[0.1, 0.2], [0.9, 0.3], [0.5, 0.9]], direction: 'up', coalSeconds: 8 }, path);
  t.same(o.roi, [{ x: 0.1, y: 0.2 }, { x: 0.9, y: 0.3 }, { x: 0.5, y: 0.9 }]);
  t.equal(o.direction, 270);
  t.equal(validateBeltOptions({ direction: -90 }, path).direction, 270);
  t.equal(validateBeltOptions({ roi: { x1: 0.1, y1: 0.2, x2: 0.5, y2: 0.6 } }, path).roi.length, 4);
  const fails = (raw: unknown, message: string): void => {
    try {
      validateBeltOptions(raw, path);
      t.fail(`accepted ${JSON.stringify(raw)}`);
    } catch (err) {
      t.ok(InvalidAnalysisOption.is(err) && (err as Error).message.startsWith(message), `${JSON.stringify(raw)}: ${(err as Error).message}`);
    }
  };
  fails({ roi: [[0, 0], [1, 1]] }, `${path}.roi: at least 3 entries (a polygon of at least 3 points [[x, y], …]), got 2`);
  fails({ roi: [[0, 0], [1, 1.5], [0, 1]] }, `${path}.roi[1][1]: must be between 0 and 1, got 1.5`);
  fails({ roi: [[0, 0], [0.5, 0.5], [1, 1]] }, `${path}.roi: the polygon encloses (almost) no area`);
  fails({ roi: { x1: 0.5, y1: 0, x2: 0.2, y2: 1 } }, `${path}.roi: a rectangle needs x1 < x2 and y1 < y2`);
  fails({ direction: 'sideways' }, `${path}.direction: must be right, down, left, up, or an angle in degrees`);
  fails({ direction: 400 }, `${path}.direction: must be between -360 and 360, got 400`);
  fails({ startStopSeconds: -1 }, `${path}.startStopSeconds: must be between 0 and 600, got -1`);
  fails({ minSpeedPx: 10, maxSpeedPx: 5 }, `${path}.maxSpeedPx: must exceed minSpeedPx`);
  fails({ speed: 3 }, `${path}.speed: unknown key`);
  fails({ coalSecond: 3 }, `${path}.coalSecond: unknown key (did you mean ${path}.coalSeconds?)`);
  fails('fast', `${path}: must be a mapping`);
  fails({ baselineImage: '/etc/passwd' }, `${path}.baselineImage: must be the path of an existing JPEG file`);
  fails({ coalShare: 0.3, coalHysteresis: 0.3 }, `${path}.coalHysteresis: must be below coalShare`);
  fails({ cells: 0 }, `${path}.cells: must be between 1 and 64, got 0`);
  fails({ cells: 2.5 }, `${path}.cells: must be a whole number between 1 and 64, got 2.5`);
  fails({ cells: 0, speed: 3 }, `${path}.cells: must be between 1 and 64, got 0; ${path}.speed: unknown key`);
  t.end();
});
