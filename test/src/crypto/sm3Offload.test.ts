import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { HashWorkerFailed, Sm3Job, stopSm3Worker } from '../../../src/crypto/sm3Offload.ts';
import { refusal } from '../../helpers/refusal.ts';

const BLOCK = 64 * 1024;

/** Feeds `data` in blocks of BLOCK (the last one shorter), as the blob store does. */
async function offloaded(data: Buffer): Promise<string> {
  const job = new Sm3Job();
  for (let at = 0; at < data.length; at += BLOCK) {
    const block = Buffer.allocUnsafeSlow(Math.min(BLOCK, data.length - at));
    data.copy(block, 0, at);
    await job.update(block, BLOCK);
  }
  return job.digest();
}

t.test('the same digest as hashing inline, for every size around the block edges', async (t) => {
  for (const size of [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 5 * BLOCK, 5 * BLOCK + 17]) {
    const data = randomBytes(size);
    t.equal(await offloaded(data), createHash('sm3').update(data).digest('hex'), `${size} bytes`);
  }
});

t.test('blocks that are views into larger buffers (as the blob store hands them over)', async (t) => {
  for (const size of [BLOCK + 1, BLOCK + BLOCK / 2, 3 * BLOCK - 7]) {
    const data = randomBytes(size);
    const job = new Sm3Job();
    const big = Buffer.allocUnsafeSlow(BLOCK);
    for (let at = 0; at < size; at += BLOCK) {
      // a full block is a whole buffer (transferred); the last one a view of a bigger buffer
      const n = Math.min(BLOCK, size - at);
      const block = n === BLOCK ? Buffer.from(data.subarray(at, at + n)) : (data.copy(big, 0, at, at + n), big.subarray(0, n));
      await job.update(block, BLOCK);
    }
    t.equal(await job.digest(), createHash('sm3').update(data).digest('hex'), `${size} bytes`);
  }
});

t.test('many jobs at once keep their own state', async (t) => {
  const inputs = Array.from({ length: 12 }, (_, i) => randomBytes(3 * BLOCK + i * 1000));
  const digests = await Promise.all(inputs.map(offloaded));
  t.same(digests, inputs.map((d) => createHash('sm3').update(d).digest('hex')));
});

t.test('a job whose first block is small stays inline, even if big blocks follow', async (t) => {
  const job = new Sm3Job();
  const small = randomBytes(10);
  const big = randomBytes(BLOCK);
  const expected = createHash('sm3').update(small).update(big).digest('hex');
  await job.update(small, BLOCK);
  await job.update(big, BLOCK);
  t.equal(await job.digest(), expected);
});

t.test('a dead worker fails the jobs under way, and the next job gets a new worker', async (t) => {
  const job = new Sm3Job();
  await job.update(Buffer.allocUnsafeSlow(BLOCK).fill(1), BLOCK);
  await stopSm3Worker();
  const err = await refusal(job.digest());
  t.equal(err.code, HashWorkerFailed.code);
  const data = randomBytes(2 * BLOCK);
  t.equal(await offloaded(data), createHash('sm3').update(data).digest('hex'));
});
