// Run by lmdbOpen.test.ts: a second process (like an `eseal` CLI command next to the running relay)
// that opens the same LMDB directory with a tiny starting map and writes to the queue and to another
// table while the parent writes too. Prints READY when open, DONE <seqs as JSON> when finished.
import { openLmdb } from '../../../src/store/lmdb/open.ts';
import { LmdbQueueStore } from '../../../src/store/lmdb/LmdbQueueStore.ts';

const [dir, countText] = process.argv.slice(2) as [string, string];
const root = openLmdb(dir, { mapSize: 128 * 1024 });
const queue = new LmdbQueueStore<{ from: string; n: number; pad: string }>(root, { name: 'queue' });
const accounts = root.openDB<{ name: string }, string>({ name: 'accounts' });
process.stdout.write('READY\n');
const seqs: number[] = [];
const count = Number(countText);
for (let n = 0; n < count; n += 10) {
  const batch = await Promise.all(
    Array.from({ length: 10 }, (_, i) => queue.append({ key: `child-${(n + i) % 3}`, lane: 'record', payload: { from: 'child', n: n + i, pad: 'c'.repeat(4000) } })),
  );
  seqs.push(...batch.map((r) => r.item.seq));
}
await accounts.put('added-by-cli', { name: 'written by the other process' });
process.stdout.write(`DONE ${JSON.stringify(seqs)}\n`);
await queue.close();
await root.close();
