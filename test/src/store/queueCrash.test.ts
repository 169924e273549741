// kill -9 while writing: every item, ack and blob the store confirmed before the kill is there
// afterwards, exactly. Several cycles on one data directory, killed at random moments.
import { spawn } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { FsBlobStore } from '../../../src/store/fs/FsBlobStore.ts';
import { LmdbQueueStore } from '../../../src/store/lmdb/LmdbQueueStore.ts';
import type { CrashPayload } from './queueCrash.child.ts';

const CYCLES = 5;
const child = fileURLToPath(new URL('./queueCrash.child.ts', import.meta.url));

interface CycleOutput {
  lines: string[];
  signal: NodeJS.Signals | null;
}

/** Runs the child until it has been writing for a random while, then kills it with SIGKILL. */
function runAndKill(dir: string, cycle: number): Promise<CycleOutput> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, String(cycle)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (!timer && out.startsWith('READY\n')) timer = setTimeout(() => proc.kill('SIGKILL'), randomInt(80, 600));
    });
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(guard);
      clearTimeout(timer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`child ended by itself (code ${code}): ${err.slice(-2000)}`));
        return;
      }
      // only whole lines count: the kill may have cut the last one
      const lines = out.split('\n').slice(0, -1);
      resolve({ lines: lines.slice(1), signal });
    });
  });
}

t.test('SIGKILL at random moments loses nothing that was confirmed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eseal-crash-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const items = new Map<number, CrashPayload>();
  const acked = new Set<number>();
  const blobs = new Map<string, number>();
  let highestBefore = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const { lines } = await runAndKill(dir, cycle);
    let lowest = Infinity;
    let highest = 0;
    for (const line of lines) {
      const [kind, a, ...rest] = line.split(' ');
      if (kind === 'Q') {
        const seq = Number(a);
        items.set(seq, JSON.parse(rest.join(' ')) as CrashPayload);
        lowest = Math.min(lowest, seq);
        highest = Math.max(highest, seq);
      } else if (kind === 'A') acked.add(Number(a));
      else if (kind === 'B') blobs.set(a!, Number(rest[0]));
      else t.fail(`unexpected line ${line.slice(0, 80)}`);
    }
    t.ok(lines.length > 0, `cycle ${cycle}: ${lines.length} confirmed writes before the kill`);
    if (lowest !== Infinity) t.ok(lowest > highestBefore, `cycle ${cycle}: seqs go on above ${highestBefore} (from ${lowest})`);
    highestBefore = Math.max(highestBefore, highest);
  }

  const queue = LmdbQueueStore.open<CrashPayload>(join(dir, 'db'));
  t.teardown(() => queue.close());
  let missing = 0;
  let differ = 0;
  for (const [seq, payload] of items) {
    const item = queue.get(seq);
    if (!item) missing++;
    else if (JSON.stringify(item.payload) !== JSON.stringify(payload)) differ++;
  }
  t.equal(missing, 0, `all ${items.size} confirmed items are there`);
  t.equal(differ, 0, 'each with its exact payload');
  t.ok([...acked].every((seq) => queue.get(seq)?.state === 'done'), `all ${acked.size} confirmed acks held`);
  const stats = queue.stats();
  const all = queue.range();
  t.ok(stats.lastSeq >= highestBefore, 'lastSeq covers every confirmed seq');
  t.equal(stats.byState.ready + stats.byState.leased + stats.byState.done + stats.byState.dead, all.length, 'counters match the items');
  t.equal(stats.byState.leased, 0, 'no lease survives a restart');
  t.equal(stats.byState.done, all.filter((i) => i.state === 'done').length, 'done counter matches');

  // the indexes survived too: draining the queue gives every pending item once, FIFO per key
  const order = new Map<string, number[]>();
  let delivered = 0;
  for (;;) {
    const batch = await queue.lease({ max: 100, leaseMs: 60_000 });
    if (batch.length === 0) break;
    for (const item of batch) {
      const list = order.get(item.key) ?? [];
      list.push(item.seq);
      order.set(item.key, list);
    }
    await Promise.all(batch.map((item) => queue.ack(item.seq)));
    delivered += batch.length;
  }
  t.equal(delivered, all.filter((i) => i.state === 'ready').length, `drained ${delivered} pending items`);
  t.ok([...order.values()].every((seqs) => seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)), 'in seq order per key');

  const store = await FsBlobStore.open(join(dir, 'blobs'));
  t.teardown(() => store.close());
  t.strictSame(await readdir(join(dir, 'blobs', 'tmp')), [], 'temp files of the killed processes were removed');
  let badBlobs = 0;
  for (const [id, size] of blobs) {
    const hash = createHash('sm3');
    let length = 0;
    for await (const chunk of store.read(id)) {
      hash.update(chunk as Buffer);
      length += (chunk as Buffer).length;
    }
    if (hash.digest('hex') !== id || length !== size) badBlobs++;
  }
  t.equal(badBlobs, 0, `all ${blobs.size} confirmed blobs read back with their SM3 and size`);
});
