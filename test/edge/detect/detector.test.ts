import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDetector, type Detector } from '../../../edge/detect/detector.ts';
import { DetectorClosed, DetectorModelLoadFailed, DetectorSpecInvalid, DetectorWorkerFailed } from '../../../edge/detect/errors.ts';
import { checkModelSpec, type DetectorModelSpec } from '../../../edge/detect/modelSpec.ts';
import { DataType, GraphBuilder, floatTensor } from '../../../edge/models/onnx/onnxModel.ts';
import type { Detection, Frame } from '../../../edge/types.ts';
import { cachedModel, frameOf, photo } from '../models/fixtures.ts';

const tmp = await mkdtemp(join(tmpdir(), 'eseal-detector-'));
t.teardown(() => rm(tmp, { recursive: true, force: true }));

const spec512 = await cachedModel(512);
const spec320 = await cachedModel(320);
const personJpg = await photo('person.jpg');

function people(d: Detection[] | undefined): number {
  return (d ?? []).filter((x) => x.cls === 'person').length;
}

async function open(t: { teardown(fn: () => unknown): void }, opts: Partial<Parameters<typeof createDetector>[0]> = {}): Promise<Detector> {
  const d = await createDetector({ model: spec320, ...opts });
  t.teardown(() => d.close());
  return d;
}

t.test('finds the person in a real photo, in frame pixels', async (t) => {
  const d = await open(t, { model: spec512 });
  const dets = await d.detect(frameOf(personJpg));
  t.equal(people(dets), 1);
  const box = dets!.find((x) => x.cls === 'person')!.box;
  t.ok(box.x1 > 160 && box.x2 < 300 && box.y2 > 340 && box.y2 <= personJpg.height, JSON.stringify(box));
  t.match(d.stats(), { model: 'centernet-mbv3-512', inputSize: 512, framesRun: 1, framesDropped: 0 });
  t.ok(d.stats().meanLatencyMs > 0);
});

t.test('a busy detector drops the older frames of a camera instead of queueing them', async (t) => {
  const d = await open(t);
  const results = await Promise.all([0, 1, 2, 3, 4, 5].map((seq) => d.detect(frameOf(personJpg, 'cam-a', seq))));
  // frame 0 went to the worker at once; 1…4 were each replaced by the next; 5 ran after 0
  t.same(results.map((r) => r !== undefined), [true, false, false, false, false, true]);
  t.equal(people(results[5]), 1, 'the newest frame was run');
  t.match(d.stats(), { framesRun: 2, framesDropped: 4 });
});

t.test('cameras are served round-robin', async (t) => {
  const d = await open(t, { queueDepth: 3 });
  const order: string[] = [];
  const send = (cam: string, seq: number) => d.detect(frameOf(personJpg, cam, seq)).then(() => order.push(`${cam}${seq}`));
  const all = [send('a', 0), send('a', 1), send('a', 2), send('a', 3), send('b', 1), send('b', 2), send('b', 3)];
  await Promise.all(all);
  t.same(order, ['a0', 'b1', 'a1', 'b2', 'a2', 'b3', 'a3'], 'camera a, which filled its queue first, does not starve b');
  t.equal(d.stats().framesDropped, 0, 'nothing dropped within the queue depth');
});

t.test('swapModel: a broken model is refused and the old one kept; a good one is switched to', async (t) => {
  const d = await open(t);
  const broken = join(tmp, 'broken.onnx');
  await writeFile(broken, 'this is not an onnx model');
  await t.rejects(d.swapModel({ ...spec320, path: broken }), { code: DetectorModelLoadFailed.code });
  await t.rejects(d.swapModel({ ...spec320, path: join(tmp, 'missing.onnx') }), { code: DetectorModelLoadFailed.code });
  // the model loads but does not fit the spec: 320's outputs are not 512's
  await t.rejects(d.swapModel({ ...spec320, inputSize: 512 }), { code: DetectorModelLoadFailed.code });
  await t.rejects(d.swapModel({ ...spec320, decoder: 'boxes' }), { code: DetectorModelLoadFailed.code }, 'no [N,6] output');
  t.throws(() => checkModelSpec({ ...spec320, layout: 'chw' }), { code: DetectorSpecInvalid.code, field: 'model.layout' });
  t.equal(d.stats().inputSize, 320);
  t.equal(people(await d.detect(frameOf(personJpg))), 1, 'detection still works on the old model');

  const running = d.detect(frameOf(personJpg, 'cam-a', 1));
  await d.swapModel(spec512);
  t.equal(people(await running), 1, 'the frame in flight finished');
  t.equal(d.stats().inputSize, 512);
  t.equal(people(await d.detect(frameOf(personJpg, 'cam-a', 2))), 1, 'and the new model detects');
});

t.test("the 'boxes' contract: [1,N,6] rows in input pixels, mapped back through the letterbox", async (t) => {
  // a model that ignores the image and returns three fixed rows
  const g = new GraphBuilder('fixed_boxes');
  g.input({ name: 'img', elemType: DataType.FLOAT, shape: [1, 3, 320, 320] });
  const rows = [10, 50, 110, 150, 0.9, 3, 0, 0, 10, 10, 0.1, 3, 0, 40, 100, 100, 0.8, 9];
  const boxes = g.constant('rows', (n) => floatTensor(n, [1, 3, 6], rows));
  const zero = g.constant('zero', (n) => floatTensor(n, [], [0]));
  const any = g.op('ReduceMax', ['img'], 'any', { keepdims: { i: 0 } });
  const nothing = g.op('Mul', [any, zero], 'nothing');
  g.node('Add', [boxes, nothing], ['detections']);
  g.output({ name: 'detections', elemType: DataType.FLOAT, shape: [1, 3, 6] });
  const path = join(tmp, 'boxes.onnx');
  await writeFile(path, g.toModel());
  const spec: DetectorModelSpec = { path, inputSize: 320, layout: 'nchw', normalization: { mean: [0, 0, 0], std: [255, 255, 255] }, decoder: 'boxes', classes: { 3: 'vehicle' } };
  const d = await open(t, { model: spec });
  const frame: Frame = { camera: 'c', seq: 0, at: 0, width: 640, height: 480, rgb: new Uint8Array(640 * 480 * 3), gray: new Uint8Array(640 * 480) };
  // 640×480 into 320: scale ½, 40 px of padding above and below
  t.same(await d.detect(frame), [{ box: { x1: 20, y1: 20, x2: 220, y2: 220 }, score: Math.fround(0.9), cls: 'vehicle' }]);
});

t.test('watchdog: a dead worker fails the frame it held and is replaced', async (t) => {
  const d = await open(t);
  d.crashWorkerForTest();
  // sent after the crash message, so the worker dies holding it
  await t.rejects(d.detect(frameOf(personJpg, 'cam-a', 1)), { code: DetectorWorkerFailed.code });
  t.equal(people(await d.detect(frameOf(personJpg, 'cam-a', 2))), 1, 'the restarted worker detects');
  t.match(d.stats(), { workerRestarts: 1, framesFailed: 1 });
});

t.test('close: waiting frames resolve undefined, later calls are refused', async (t) => {
  const d = await createDetector({ model: spec320 });
  const first = d.detect(frameOf(personJpg, 'a', 0));
  const waiting = d.detect(frameOf(personJpg, 'b', 0));
  await d.close();
  t.equal(people(await first), 1, 'the frame in flight finished');
  t.equal(await waiting, undefined);
  await t.rejects(d.detect(frameOf(personJpg)), { code: DetectorClosed.code });
});
