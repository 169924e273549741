import t from 'tap';
import * as ort from 'onnxruntime-node';
import { decodeCenternet } from '../../../edge/models/centernet.ts';
import { COCO_CLASS_MAP, COCO_LABELS } from '../../../edge/models/coco.ts';
import { letterbox, letterboxGeometry, toFrame } from '../../../edge/detect/letterbox.ts';
import type { Detection } from '../../../edge/types.ts';
import { cachedModel, photo, type Rgb } from './fixtures.ts';

/** empty outputs of a grid×grid model with 80 classes, and a way to place a peak with its box */
function outputs(grid: number) {
  const cells = grid * grid;
  const peaks = new Float32Array(80 * cells);
  const edges = new Float32Array(4 * cells);
  const put = (cls: number, x: number, y: number, score: number, [l, tp, r, b]: number[]) => {
    const cell = y * grid + x;
    peaks[cls * cells + cell] = score;
    [l, tp, r, b].forEach((v, k) => (edges[k * cells + cell] = v!));
  };
  return { out: { peaks, edges, grid }, put };
}

t.test('decoding: box from the edge head, class map, threshold, NMS across mapped classes, top-K', async (t) => {
  const { out, put } = outputs(16);
  put(0, 5, 6, 0.9, [8, 10, 12, 30]); // person centred at (20, 24)
  put(16, 2, 2, 0.95, [4, 4, 4, 4]); // dog: not a class we use
  put(2, 10, 10, 0.7, [20, 10, 20, 10]); // car at (40, 40)
  put(7, 10, 11, 0.6, [20, 12, 20, 8]); // truck on the same vehicle: merged into it
  put(0, 14, 14, 0.2, [2, 2, 2, 2]); // below the threshold
  const dets = decodeCenternet(out, { classes: COCO_CLASS_MAP, scoreThreshold: 0.3 });
  t.same(dets, [
    { box: { x1: 12, y1: 14, x2: 32, y2: 54 }, score: dets[0]!.score, cls: 'person' },
    { box: { x1: 20, y1: 30, x2: 60, y2: 50 }, score: dets[1]!.score, cls: 'vehicle' },
  ]);
  t.equal(dets[0]!.score, Math.fround(0.9));
  t.equal(COCO_LABELS[7], 'truck');

  const many = outputs(16);
  for (let i = 0; i < 10; i++) many.put(0, i, 0, 0.5 + i / 100, [1, 1, 1, 1]);
  const top = decodeCenternet(many.out, { classes: { 0: 'person' }, scoreThreshold: 0.3, perClassTopK: 3 });
  t.same(top.map((d) => d.box.x1), [35, 31, 27], 'the best three per class, best first');
});

t.test('letterbox keeps the aspect ratio and maps boxes back', async (t) => {
  const geo = letterboxGeometry(640, 360, 320);
  t.same(geo, { scale: 0.5, padX: 0, padY: 70 });
  t.same(toFrame({ x1: 10, y1: 80, x2: 110, y2: 180 }, geo, 640, 360), { x1: 20, y1: 20, x2: 220, y2: 220 });
  t.same(toFrame({ x1: -10, y1: 0, x2: 5, y2: 60 }, geo, 640, 360), undefined, 'a box only on the padding is dropped');
  // a 2×1 red|blue frame into 4×4 NCHW: the top and bottom rows are padding
  const out = new Float32Array(4 * 4 * 3);
  letterbox(Uint8Array.from([255, 0, 0, 0, 0, 255]), 2, 1, { size: 4, layout: 'nchw', mean: [0, 0, 0], std: [255, 255, 255], channelOrder: 'rgb', padValue: 0 }, out);
  t.same(Array.from(out.subarray(0, 4)), [0, 0, 0, 0], 'padding row');
  t.equal(out[4], 1, 'red at the left of the red plane');
  t.equal(out[16 * 2 + 7], 1, 'blue at the right of the blue plane');
});

async function detectPhoto(session: ort.InferenceSession, size: number, img: Rgb): Promise<Detection[]> {
  const input = new Float32Array(size * size * 3);
  const geo = letterbox(img.rgb, img.width, img.height, { size, layout: 'nhwc', mean: [0, 0, 0], std: [1, 1, 1], channelOrder: 'rgb', padValue: 0 }, input);
  const out = await session.run({ images: new ort.Tensor('float32', input, [1, size, size, 3]) });
  const dets = decodeCenternet(
    { peaks: out['peaks']!.data as Float32Array, edges: out['edges']!.data as Float32Array, grid: size / 4 },
    { classes: COCO_CLASS_MAP, scoreThreshold: 0.3 },
  );
  return dets.flatMap((d) => {
    const box = toFrame(d.box, geo, img.width, img.height);
    return box ? [{ ...d, box }] : [];
  });
}

for (const size of [512, 320]) {
  t.test(`real photos at ${size}: the person in person.jpg, the truck in dog.jpg`, async (t) => {
    const spec = await cachedModel(size);
    const session = await ort.InferenceSession.create(spec.path, { intraOpNumThreads: 1 });
    t.teardown(() => session.release());

    // person.jpg (640×424): a woman standing left of centre, her dog and a horse beside her
    const person = await detectPhoto(session, size, await photo('person.jpg'));
    const people = person.filter((d) => d.cls === 'person');
    t.equal(people.length, 1, `one person (${JSON.stringify(person)})`);
    const p = people[0]!.box;
    t.ok(p.x1 > 160 && p.x2 < 300 && p.y1 > 70 && p.y1 < 140 && p.y2 > 340, `person box plausible: ${JSON.stringify(p)}`);
    t.ok((p.y2 - p.y1) / (p.x2 - p.x1) > 2, 'a standing person is taller than wide');
    t.notOk(person.some((d) => d.cls === 'vehicle'), 'no vehicle in person.jpg');

    // dog.jpg (768×576): a pickup truck at the top right, a bicycle and a dog below it
    const dog = await detectPhoto(session, size, await photo('dog.jpg'));
    const vehicles = dog.filter((d) => d.cls === 'vehicle');
    t.ok(vehicles.length >= 1, `a vehicle (${JSON.stringify(dog)})`);
    const v = vehicles[0]!.box;
    t.ok(v.x1 > 400 && v.x2 > 620 && v.y1 < 120 && v.y2 < 230 && v.y2 > 130, `truck box plausible: ${JSON.stringify(v)}`);
    t.notOk(dog.some((d) => d.cls === 'person'), 'no person in dog.jpg');
  });
}
