import t from 'tap';
import type { Detector } from '../../../edge/detect/detector.ts';
import { cropAround, refineNearLines } from '../../../edge/detect/refine.ts';
import type { Detection, Frame, Point } from '../../../edge/types.ts';

const W = 704;
const H = 576;
const frame: Frame = { camera: 'c', seq: 0, at: 0, width: W, height: H, rgb: new Uint8Array(W * H * 3), gray: new Uint8Array(0) };
const LINE: [Point, Point] = [{ x: 14, y: 184 }, { x: 690, y: 184 }];

/** A detector that finds `found` (crop pixels) in every crop, and records the crops it was given. */
function fakeDetector(found: (f: Frame) => Detection[]): Detector & { seen: Frame[] } {
  const seen: Frame[] = [];
  return {
    seen,
    detect: async (f) => {
      seen.push(f);
      return found(f);
    },
    swapModel: async () => {},
    stats: () => ({ model: 'fake', inputSize: 512, framesRun: 0, framesDropped: 0, framesFailed: 0, meanLatencyMs: 0, workerRestarts: 0 }),
    close: async () => {},
    crashWorkerForTest: () => {},
  };
}

t.test('the crop is square, inside the frame, and zooms the object to the wanted size', async (t) => {
  const r = cropAround({ x1: 100, y1: 150, x2: 112, y2: 182 }, W, H, 512, 112);
  t.equal(r.x2 - r.x1, r.y2 - r.y1);
  t.equal(r.x2 - r.x1, Math.round((32 * 512) / 112));
  t.ok(r.x1 >= 0 && r.y1 >= 0 && r.x2 <= W && r.y2 <= H);
  const edge = cropAround({ x1: 0, y1: 0, x2: 10, y2: 30 }, W, H, 512, 112);
  t.same([edge.x1, edge.y1], [0, 0], 'pushed inside at the corner');
});

t.test('a small person near the line takes the crop\'s better score and box; far or large ones are left alone', async (t) => {
  const small: Detection = { cls: 'person', score: 0.25, box: { x1: 300, y1: 150, x2: 312, y2: 182 } };
  const far: Detection = { cls: 'person', score: 0.25, box: { x1: 500, y1: 400, x2: 512, y2: 432 } };
  const large: Detection = { cls: 'person', score: 0.4, box: { x1: 100, y1: 90, x2: 140, y2: 190 } };
  const c = cropAround(small.box, W, H, 512, 112);
  const inCrop: Detection = { cls: 'person', score: 0.7, box: { x1: 300 - c.x1, y1: 151 - c.y1, x2: 313 - c.x1, y2: 183 - c.y1 } };
  const d = fakeDetector((f) => (f.width < W ? [inCrop] : []));
  const out = await refineNearLines(d, frame, [small, far, large], [LINE], 512);
  t.equal(d.seen.length, 1, 'one crop: only the small one near the line');
  t.equal(out[0]!.score, 0.7);
  t.same(out[0]!.box, { x1: 300, y1: 151, x2: 313, y2: 183 }, 'the crop box, back in frame pixels');
  t.same(out[1], far);
  t.same(out[2], large);
});

t.test('a crop that finds nothing there, or scores it lower, keeps the first look', async (t) => {
  const small: Detection = { cls: 'person', score: 0.3, box: { x1: 300, y1: 150, x2: 312, y2: 182 } };
  t.same(await refineNearLines(fakeDetector(() => []), frame, [small], [LINE], 512), [small]);
  t.same(await refineNearLines(fakeDetector(() => [{ cls: 'vehicle', score: 0.9, box: { x1: 0, y1: 0, x2: 200, y2: 200 } }]), frame, [small], [LINE], 512), [small], 'another class');
  t.same(await refineNearLines(fakeDetector(() => []), frame, [small], [], 512), [small], 'no lines: no crops');
  const sure = fakeDetector(() => []);
  await refineNearLines(sure, frame, [{ ...small, score: 0.45 }], [LINE], 512);
  t.equal(sure.seen.length, 0, 'scoring 0.45 at 32 px is enough already (0.75 after scaling): no crop');
});
