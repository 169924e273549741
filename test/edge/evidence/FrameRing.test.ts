import t from 'tap';
import { FrameRing } from '../../../edge/evidence/FrameRing.ts';
import { boxMarks, solidFrame, T0 } from './frames.ts';

const frame = (i: number) => solidFrame(i, T0 + i * 200, 8, 8, [i, 0, 0]);

t.test('keeps seconds × fps frames and drops the oldest', async (t) => {
  const ring = new FrameRing({ fps: 5, seconds: 2 });
  t.equal(ring.capacity, 10);
  t.equal(ring.latest(), undefined);
  const dropped: number[] = [];
  for (let i = 0; i < 25; i++) {
    const d = ring.push(frame(i), []);
    if (d) dropped.push(d.frame.seq);
  }
  t.equal(ring.size, 10);
  t.same(ring.all().map((f) => f.frame.seq), [15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
  t.same(dropped, Array.from({ length: 15 }, (_, i) => i), 'each push past capacity hands back the oldest');
  t.equal(ring.oldest()!.frame.seq, 15);
  t.equal(ring.latest()!.frame.seq, 24);
  ring.clear();
  t.equal(ring.size, 0);
  t.same(ring.all(), []);
});

t.test('between is half-open on capture time', async (t) => {
  const ring = new FrameRing({ fps: 5 });
  t.equal(ring.capacity, 40, 'default 8 s');
  for (let i = 0; i < 30; i++) ring.push(frame(i), []);
  t.same(ring.between(T0 + 1000, T0 + 2000).map((f) => f.frame.seq), [5, 6, 7, 8, 9]);
  t.same(ring.between(T0 + 1001, T0 + 1200).map((f) => f.frame.seq), []);
  t.same(ring.between(T0 - 10_000, T0 + 400).map((f) => f.frame.seq), [0, 1]);
  t.same(ring.between(T0 + 100_000, T0 + 200_000), []);
});

t.test('keeps the marks as they were when the frame came', async (t) => {
  const ring = new FrameRing({ fps: 5 });
  const marks = boxMarks(1, 2, 3, 4, [255, 0, 0], 'first');
  ring.push(frame(0), marks);
  // The analysis reuses and mutates its objects on the next frame.
  marks[0]!.boxes[0]!.box.x1 = 99;
  marks[0]!.boxes[0]!.label = 'second';
  marks[0]!.texts.push('added later');
  ring.push(frame(1), marks);
  const [a, b] = ring.all();
  t.equal(a!.marks[0]!.boxes[0]!.box.x1, 1);
  t.equal(a!.marks[0]!.boxes[0]!.label, 'first');
  t.same(a!.marks[0]!.texts, []);
  t.equal(b!.marks[0]!.boxes[0]!.box.x1, 99);
});

t.test('refuses a ring of no size', async (t) => {
  t.throws(() => new FrameRing({ fps: 0 }), RangeError);
  t.throws(() => new FrameRing({ fps: 5, seconds: -1 }), RangeError);
});
