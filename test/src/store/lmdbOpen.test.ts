import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { LmdbQueueStore } from '../../../src/store/lmdb/LmdbQueueStore.ts';
import { DEFAULT_MAX_DBS, lmdbOptions, openLmdb } from '../../../src/store/lmdb/open.ts';
import { tempDir } from '../../helpers/tempDir.ts';

t.test('the options make every resolved write durable', async (t) => {
  const options = lmdbOptions();
  t.match(options, { overlappingSync: false, noSync: false, noMetaSync: false, useWritemap: false, maxDbs: DEFAULT_MAX_DBS });
  t.ok(options.mapSize! >= 64 * 1024 * 1024, 'a starting map that avoids early remaps');
  t.equal(lmdbOptions({ mapSize: 1 << 20 }).mapSize, 1 << 20);
});

t.test('the map grows on demand, far beyond its starting size', async (t) => {
  const dir = await tempDir(t, 'eseal-lmdb-');
  const root = openLmdb(dir, { mapSize: 128 * 1024 });
  const big = root.openDB<string, number>({ name: 'big' });
  const value = 'x'.repeat(50_000);
  for (let i = 0; i < 400; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => big.put(i + j, value)));
  t.equal(big.get(399), value, '20 MB in a map that started at 128 KiB');
  t.ok(root.getStats() && (root.getStats() as { mapSize: number }).mapSize > 20_000_000, 'the map grew');
  await root.close();
  const again = openLmdb(dir, { mapSize: 128 * 1024 });
  t.equal(again.openDB<string, number>({ name: 'big' }).get(0), value, 'reopened with a smaller starting size');
  await again.close();
});

t.test('many named tables fit in one environment', async (t) => {
  const dir = await tempDir(t, 'eseal-lmdb-');
  const root = openLmdb(dir);
  for (let i = 0; i < 40; i++) await root.openDB<number, string>({ name: `table-${i}` }).put('k', i);
  t.equal(root.openDB<number, string>({ name: 'table-39' }).get('k'), 39);
  await root.close();
});

t.test('a path that is not a directory is refused with a clear error', async (t) => {
  const dir = await tempDir(t, 'eseal-lmdb-');
  const file = join(dir, 'not-a-dir');
  await writeFile(file, 'x');
  t.throws(() => openLmdb(file), { code: 'ESEAL_ERR_STORE_OPEN', message: /cannot open the database at/ });
  t.throws(() => openLmdb(''), { code: 'ESEAL_ERR_STORE_OPEN' });
});

t.test('two processes write to one environment at once: seqs stay unique, the map grows for both', async (t) => {
  const dir = await tempDir(t, 'eseal-lmdb-');
  const root = openLmdb(dir, { mapSize: 128 * 1024 });
  const queue = new LmdbQueueStore<{ from: string; n: number; pad: string }>(root, { name: 'queue' });
  t.teardown(async () => {
    await queue.close();
    await root.close();
  });
  const COUNT = 300;
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./lmdbWriter.child.ts', import.meta.url)), dir, String(COUNT)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (c: Buffer) => (err += c));
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (c: Buffer) => {
      out += c;
      if (out.startsWith('READY\n')) resolve();
    });
    proc.on('close', (code) => reject(new Error(`child ended early (${code}): ${err}`)));
  });
  const mine: number[] = [];
  for (let n = 0; n < COUNT; n += 10) {
    const batch = await Promise.all(
      Array.from({ length: 10 }, (_, i) => queue.append({ key: `parent-${(n + i) % 3}`, lane: 'video', payload: { from: 'parent', n: n + i, pad: 'p'.repeat(4000) } })),
    );
    mine.push(...batch.map((r) => r.item.seq));
  }
  const code = await new Promise<number | null>((resolve) => (proc.exitCode !== null ? resolve(proc.exitCode) : proc.on('close', resolve)));
  t.equal(code, 0, `child finished (${err.trim().slice(-300)})`);
  const theirs = JSON.parse(out.split('\n').find((l) => l.startsWith('DONE '))!.slice(5)) as number[];
  const all = [...mine, ...theirs].sort((a, b) => a - b);
  t.strictSame(all, Array.from({ length: 2 * COUNT }, (_, i) => i + 1), 'every seq once, none skipped');
  t.ok(mine.every((s, i) => i === 0 || s > mine[i - 1]!), 'increasing within a process');
  const interleaved = mine.filter((s, i) => i > 0 && s !== mine[i - 1]! + 1).length;
  t.comment(`the two writers interleaved ${interleaved} times`);
  const stats = queue.stats();
  t.strictSame(stats.byState, { ready: 2 * COUNT, leased: 0, dead: 0, done: 0 }, 'counters kept right by both');
  t.strictSame(stats.pendingByLane, { record: COUNT, video: COUNT });
  t.equal(queue.get(theirs.at(-1)!)?.payload.from, 'child', "the other process's items are readable here");
  t.strictSame(root.openDB<{ name: string }, string>({ name: 'accounts' }).get('added-by-cli'), { name: 'written by the other process' });
  // FIFO across both writers: each key drains in seq order
  const drained: number[] = [];
  for (;;) {
    const batch = await queue.lease({ max: 50, leaseMs: 60_000 });
    if (batch.length === 0) break;
    drained.push(...batch.map((i) => i.seq));
    await Promise.all(batch.map((i) => queue.ack(i.seq)));
  }
  t.equal(drained.length, 2 * COUNT, 'all delivered once');
});
