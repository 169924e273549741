// The detection gate inside a real CameraPipeline (real motion stage, tracker and analyses) on
// synthetic frames: which frames reach the detector, and that an analysis still gets what it needs.
// The detector here is a recorder that answers boxes chosen by the test: what is under test is
// which frames the pipeline asks it about, not what it finds.
import t from 'tap';
import { ANALYSES, linkAnalyses } from '../../../edge/analyses/registry.ts';
import type { Detector, DetectorStats } from '../../../edge/detect/detector.ts';
import { CameraPipeline } from '../../../edge/pipeline/CameraPipeline.ts';
import { boxToSegment } from '../../../edge/pipeline/DetectionGate.ts';
import type { AnalysisEvent, AnalysisKind, Box, Detection, Frame } from '../../../edge/types.ts';

const W = 320;
const H = 240;
const FPS = 5;
const START = Date.UTC(2026, 0, 5);

/** Answers `answer(frame)` and remembers which frames it was asked about. */
class RecordingDetector implements Detector {
  readonly asked: number[] = [];
  constructor(readonly answer: (f: Frame) => Detection[]) {}
  async detect(frame: Frame): Promise<Detection[]> {
    this.asked.push(frame.seq);
    return this.answer(frame);
  }
  async swapModel(): Promise<void> {}
  stats(): DetectorStats {
    return { model: 'recording', inputSize: 512, framesRun: this.asked.length, framesDropped: 0, framesFailed: 0, meanLatencyMs: 0, workerRestarts: 0 };
  }
  async close(): Promise<void> {}
  crashWorkerForTest(): void {}
}

/** A dark frame with bright boxes (moving ones make motion); gray and RGB agree. */
function frame(seq: number, boxes: Box[]): Frame {
  const gray = new Uint8Array(W * H).fill(30);
  for (const b of boxes) {
    for (let y = Math.max(0, Math.floor(b.y1)); y < Math.min(H, Math.ceil(b.y2)); y++) {
      for (let x = Math.max(0, Math.floor(b.x1)); x < Math.min(W, Math.ceil(b.x2)); x++) gray[y * W + x] = 220;
    }
  }
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0; i < gray.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = gray[i]!;
  return { camera: 'c', seq, at: START + (seq * 1000) / FPS, width: W, height: H, rgb, gray };
}

function pipeline(analyses: Partial<Record<AnalysisKind, unknown>>, detector: Detector, gate?: false): CameraPipeline {
  const validated: Partial<Record<AnalysisKind, unknown>> = {};
  for (const [k, o] of Object.entries(analyses) as [AnalysisKind, unknown][]) validated[k] = ANALYSES[k].validate(o, k);
  const list = Object.entries(linkAnalyses(validated)).map(([k, o]) => ANALYSES[k as AnalysisKind].create('c', o));
  return new CameraPipeline({ camera: 'c', width: W, height: H, analyses: list, detector, ...(gate === false ? { gate: false as const } : {}) });
}

async function run(p: CameraPipeline, frames: number, boxes: (seq: number) => Box[]): Promise<AnalysisEvent[]> {
  const events: AnalysisEvent[] = [];
  for (let i = 0; i < frames; i++) events.push(...(await p.process(frame(i, boxes(i)))));
  events.push(...p.flush());
  return events;
}

/** a blob (20×40, or w×h) sweeping along y = `foot`, 12 px a frame */
const sweeping =
  (foot: number, w = 20, h = 40) =>
  (seq: number) => {
    const x = 20 + ((seq * 12) % 260);
    return [{ x1: x, y1: foot - h, x2: x + w, y2: foot }];
  };

const line = { line: [[0.02, 0.85], [0.98, 0.85]], towards: [0.5, 0.95] };

t.test('motion far from the counting line does not run the detector; motion at it does, every frame', async (t) => {
  const far = new RecordingDetector(() => []);
  // feet at y 30, the line at y 204: its motion region (about 36 px tall with the motion stage's
  // dilation) is more than three of its heights away
  await run(pipeline({ person: line }, far), 200, sweeping(30, 10, 20));
  // only the keep-alive: the first frame, then one every 10
  t.ok(far.asked.length <= 21, `far from the line: ${far.asked.length} of 200 frames detected`);
  t.ok(far.asked.length >= 19, 'the keep-alive still runs it at least every 10 frames');
  for (let i = 1; i < far.asked.length; i++) t.ok(far.asked[i]! - far.asked[i - 1]! <= 10, `gap ${far.asked[i - 1]}→${far.asked[i]}`);

  const near = new RecordingDetector(() => []);
  await run(pipeline({ person: line }, near), 200, sweeping(200));
  t.ok(near.asked.length >= 195, `at the line: ${near.asked.length} of 200 frames detected`);

  // without the gate the same far motion runs it on nearly every frame: the gate is what saves it
  const ungated = new RecordingDetector(() => []);
  await run(pipeline({ person: line }, ungated, false), 200, sweeping(30, 10, 20));
  t.ok(ungated.asked.length >= 150, `ungated, far motion: ${ungated.asked.length} of 200 frames detected`);
});

t.test('a person standing still in the dispatch room is still seen, and an empty room still reported', async (t) => {
  const room = { roi: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]], emptySeconds: 10 };
  const person: Detection = { box: { x1: 150, y1: 80, x2: 180, y2: 160 }, score: 0.9, cls: 'person' };
  // no motion at all (the person does not move): 60 s
  const still = new RecordingDetector(() => [person]);
  const staffed = await run(pipeline({ dispatchRoom: room }, still), 300, () => [person.box]);
  t.same(staffed.filter((e) => e.kind === 'dispatchRoom'), [], 'a still person keeps the room staffed');
  t.ok(still.asked.length >= 29, `the detector ran ${still.asked.length} times in 300 still frames`);

  const empty = new RecordingDetector(() => []);
  const absent = await run(pipeline({ dispatchRoom: room }, empty), 300, () => []);
  const ev = absent.filter((e) => e.kind === 'dispatchRoom');
  t.equal(ev.length, 1, 'an empty still room is reported once');
  t.ok(ev[0] && ev[0].at - START <= 12_000, `within 2 s of emptySeconds (${ev[0] ? (ev[0].at - START) / 1000 : '-'} s)`);
});

t.test('motion in the dispatch room runs the detector at most once a second; outside it only the keep-alive', async (t) => {
  const room = { roi: [[0.0, 0.5], [1, 0.5], [1, 1], [0, 1]] };
  const inside = new RecordingDetector(() => []);
  await run(pipeline({ dispatchRoom: room }, inside), 200, sweeping(220));
  t.ok(inside.asked.length >= 38 && inside.asked.length <= 41, `moving in the room: ${inside.asked.length} of 200 (once every 5)`);
  const outside = new RecordingDetector(() => []);
  await run(pipeline({ dispatchRoom: room }, outside), 200, sweeping(60, 10, 20));
  t.ok(outside.asked.length <= 21, `moving outside the room: ${outside.asked.length} of 200`);
});

t.test('a track followed keeps the detector running where the motion stage sees nothing', async (t) => {
  // the detector sees a person walking slowly down across the line, 1 px a frame, but the frames
  // show nothing moving (a person too small or too dim for the motion stage): the keep-alive runs
  // start a track, and once it is confirmed and moving the detector runs on every frame
  const walker = new RecordingDetector((f) => {
    const y = 120 + f.seq;
    return [{ box: { x1: 150, y1: y - 40, x2: 170, y2: y }, score: 0.9, cls: 'person' }];
  });
  const p = pipeline({ person: { ...line, groupSeconds: 0.5 } }, walker);
  const events = await run(p, 160, () => []);
  const gated = p.stats().gated;
  t.ok((gated.following ?? 0) >= 80, `runs while following: ${JSON.stringify(gated)}`);
  t.ok(walker.asked.length >= 100, `detector runs: ${walker.asked.length} of 160`);
  t.equal(events.filter((e) => e.kind === 'person').length, 1, 'the crossing is counted');
});

t.test('a big person followed at the line is detected every other frame; a small one beside it brings back every frame', async (t) => {
  // 100 px tall, walking down across the line (y 204) at 1 px a frame; the frames show it
  const big = (seq: number): Box => ({ x1: 150, y1: 50 + seq, x2: 190, y2: 150 + seq });
  const small: Box = { x1: 40, y1: 150, x2: 52, y2: 180 };
  const alone = new RecordingDetector((f) => [{ box: big(f.seq), score: 0.9, cls: 'person' }]);
  const events = await run(pipeline({ person: { ...line, groupSeconds: 0.5 } }, alone), 100, (seq) => [big(seq)]);
  t.ok(alone.asked.length <= 60, `alone: ${alone.asked.length} of 100 frames detected`);
  t.ok(alone.asked.length >= 45, 'but no fewer than every other one');
  // (the first frames: a 1 px step is below the motion stage's threshold until it adds up)
  for (let i = 1; i < alone.asked.length; i++) if (alone.asked[i - 1]! >= 5) t.ok(alone.asked[i]! - alone.asked[i - 1]! <= 2, `gap ${alone.asked[i - 1]}→${alone.asked[i]}`);
  t.equal(events.filter((e) => e.kind === 'person').length, 1, 'its crossing is counted');

  const withSmall = new RecordingDetector((f) => [
    { box: big(f.seq), score: 0.9, cls: 'person' },
    { box: small, score: 0.9, cls: 'person' },
  ]);
  await run(pipeline({ person: line }, withSmall), 100, (seq) => [big(seq), small]);
  t.ok(withSmall.asked.length >= 95, `with a small person: ${withSmall.asked.length} of 100 frames detected`);
});

t.test('box-to-segment distance', async (t) => {
  const box = { x1: 10, y1: 10, x2: 20, y2: 20 };
  t.equal(boxToSegment(box, { x: 0, y: 15 }, { x: 30, y: 15 }), 0, 'a line through the box');
  t.equal(boxToSegment(box, { x: 0, y: 30 }, { x: 30, y: 30 }), 10, 'a line below it');
  t.equal(boxToSegment(box, { x: 12, y: 12 }, { x: 14, y: 14 }), 0, 'a segment inside it');
  t.equal(boxToSegment(box, { x: 23, y: 0 }, { x: 23, y: 40 }), 3, 'a line beside it');
});
