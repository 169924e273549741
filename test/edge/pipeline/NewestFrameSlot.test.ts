import t from 'tap';
import { NewestFrameSlot } from '../../../edge/pipeline/NewestFrameSlot.ts';
import type { Frame } from '../../../edge/types.ts';

const frame = (seq: number): Frame => ({ camera: 'c', seq, at: seq * 200, width: 1, height: 1, rgb: new Uint8Array(3), gray: new Uint8Array(1) });

t.test('one frame in analysis, only the newest waits; the rest are skipped, nothing queues', async (t) => {
  const analysed: number[] = [];
  const waited: number[] = [];
  const skippedSeqs: number[] = [];
  let release!: () => void;
  const slot = new NewestFrameSlot(
    async (f) => {
      analysed.push(f.seq);
      if (f.seq === 0) await new Promise<void>((r) => (release = r));
    },
    { onWait: (f) => waited.push(f.seq), onSkip: (f) => skippedSeqs.push(f.seq) },
  );
  slot.offer(frame(0));
  for (let i = 1; i <= 4; i++) slot.offer(frame(i));
  t.same(analysed, [0], 'the first is being analysed');
  t.same(waited, [1, 2, 3, 4]);
  t.same(skippedSeqs, [1, 2, 3], 'each replaced frame is reported once');
  t.equal(slot.skipped, 3);
  release();
  await new Promise((r) => setImmediate(r));
  await slot.drain();
  t.same(analysed, [0, 4], 'then the newest, frame 4');
});

t.test('the newest waiting frame is analysed next; drain drops a waiting frame at shutdown', async (t) => {
  const analysed: number[] = [];
  let release!: () => void;
  const slot = new NewestFrameSlot(async (f) => {
    analysed.push(f.seq);
    if (f.seq === 0) await new Promise<void>((r) => (release = r));
  });
  slot.offer(frame(0));
  slot.offer(frame(1));
  slot.offer(frame(2));
  release();
  await new Promise((r) => setImmediate(r));
  await slot.drain();
  t.same(analysed, [0, 2], 'frame 1 skipped, frame 2 analysed');

  const errors: unknown[] = [];
  const failing = new NewestFrameSlot(async () => {
    throw new Error('boom');
  }, { onError: (err) => errors.push(err) });
  failing.offer(frame(5));
  await failing.drain();
  failing.offer(frame(6));
  await failing.drain();
  t.equal(errors.length, 2, 'an error is reported and the slot keeps working');

  let hold!: () => void;
  const seen: number[] = [];
  const stopping = new NewestFrameSlot(async (f) => {
    seen.push(f.seq);
    if (f.seq === 0) await new Promise<void>((r) => (hold = r));
  });
  stopping.offer(frame(0));
  stopping.offer(frame(1));
  const drained = stopping.drain();
  hold();
  await drained;
  t.same(seen, [0], 'the waiting frame is dropped by drain');
});
