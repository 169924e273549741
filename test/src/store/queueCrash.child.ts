// Run by queueCrash.test.ts (node --import tsx queueCrash.child.ts <dir> <cycle>), which kills it
// with SIGKILL at a random moment. It writes as fast as it can and prints a line for each write
// only after the write's promise resolved, so every printed line is a promise the store made:
//   Q <seq> <payload as JSON>     an appended item
//   A <seq>                       an acknowledged (done) item
//   B <id> <size>                 a committed blob
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FsBlobStore } from '../../../src/store/fs/FsBlobStore.ts';
import { LmdbQueueStore } from '../../../src/store/lmdb/LmdbQueueStore.ts';

export interface CrashPayload {
  cycle: number;
  k: number;
  text: string;
}

const dir = process.argv[2]!;
const cycle = Number(process.argv[3]);
const queue = LmdbQueueStore.open<CrashPayload>(join(dir, 'db'));
const blobs = await FsBlobStore.open(join(dir, 'blobs'));
// stdout is a pipe: writes to it are synchronous on Linux, so a printed line is out before the next write starts
const say = (line: string) => process.stdout.write(`${line}\n`);
let next = 0;

const payload = (k: number): CrashPayload => ({ cycle, k, text: randomBytes(randomInt(0, 1500)).toString('base64') });
const keyOf = (k: number) => `mine-${k % 13}`;

async function worker(): Promise<never> {
  for (;;) {
    const k = next++;
    switch (k % 10) {
      case 3: {
        const bytes = randomBytes(randomInt(1, 96 * 1024));
        const chunks = [];
        for (let at = 0; at < bytes.length; at += 16 * 1024) chunks.push(bytes.subarray(at, at + 16 * 1024));
        const staged = await blobs.stage(Readable.from(chunks), { maxBytes: 1024 * 1024 });
        const ref = await staged.commit();
        say(`B ${ref.id} ${ref.size}`);
        break;
      }
      case 6: {
        const inputs = [0, 1, 2].map((i) => {
          const p = payload(k * 10 + i);
          return { key: keyOf(k), lane: 'video', payload: p, dedupeKey: `c${cycle}-${k}-${i}` };
        });
        const results = await queue.appendMany(inputs);
        results.forEach((r, i) => say(`Q ${r.item.seq} ${JSON.stringify(inputs[i]!.payload)}`));
        break;
      }
      case 8: {
        const leased = await queue.lease({ max: 3, leaseMs: 60_000 });
        await Promise.all(leased.map((item) => queue.ack(item.seq).then(() => say(`A ${item.seq}`))));
        break;
      }
      default: {
        const p = payload(k * 10);
        const r = await queue.append({ key: keyOf(k), lane: 'record', payload: p, dedupeKey: `c${cycle}-${k}` });
        say(`Q ${r.item.seq} ${JSON.stringify(p)}`);
      }
    }
  }
}

say('READY');
await Promise.all(Array.from({ length: 8 }, () => worker()));
