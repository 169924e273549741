// A province's month in a relay data dir, for the console's benchmark and screens: N mines × D days
// of items written through the real queue store (src/store/lmdb), in big commits, most of them
// delivered, a few dead, the last hour's still pending. The relay counts them for the console at its
// next start (relay/stats: a queue without aggregates is counted once, as on an upgrade).
//
//   node --import tsx tools/demo/generateStats.ts --dir DATA_DIR [--mines 1000] [--days 30] [--per-day 20]
//
// A tool: it imports src/ only, so the relay's item shape is written here as data (the fields the
// relay keeps for each call: relay/ingest/RelayItem.ts).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, flag, formatEvidenceFileName, formatJsonTime } from '../../src/contract/index.ts';
import { LmdbQueueStore } from '../../src/store/lmdb/LmdbQueueStore.ts';
import { openLmdb } from '../../src/store/lmdb/open.ts';

export interface GenerateOptions {
  dataDir: string;
  mines: number;
  days: number;
  /** items per mine and day */
  perDay: number;
  /** the end of the generated month (ms); default now */
  now?: number;
  /** share of delivered items that died instead (dead letters) */
  deadShare?: number;
  /** progress lines */
  log?: (line: string) => void;
}

export interface GenerateReport {
  items: number;
  delivered: number;
  dead: number;
  ms: number;
  /** the mine ids, 140421000001 … */
  mineIds: string[];
}

const DAY_MS = 86_400_000;
const BATCH = 5000;
const ACCOUNT = 'demo';
const R = RECORD_ENDPOINTS;
const E = EVIDENCE_ENDPOINTS;

/** One mine-day's calls, as a mine with a full set of analyses sends them (20 by default, cycled). */
const DAY_MIX: { endpoint: { id: string; lane: string }; camera: string; make: (mineId: string, at: number, i: number) => Record<string, unknown> | { file: string } }[] = [
  { endpoint: R.person, camera: '20', make: (m, at, i) => ({ mineId: m, cameraId: '20', aiTypeCode: '01', inWellNumber: String(i % 40).padStart(4, '0'), time: formatJsonTime(at) }) },
  { endpoint: R.truck, camera: '30', make: (m, at, i) => ({ mineId: m, cameraId: '30', aiTypeCode: '02', outMineNumber: String(i % 9).padStart(4, '0'), time: formatJsonTime(at) }) },
  { endpoint: R.belt, camera: '10', make: (m, at, i) => ({ mineId: m, cameraId: '10', aiTypeCode: '03', beltStatus: i % 3 ? '0001' : '0002', time: formatJsonTime(at) }) },
  { endpoint: R.person, camera: '21', make: (m, at, i) => ({ mineId: m, cameraId: '21', aiTypeCode: '01', inWellNumber: String(i % 25).padStart(4, '0'), time: formatJsonTime(at) }) },
  { endpoint: R.cameraOnline, camera: '10', make: (m, at, i) => ({ mineId: m, cameraId: '10', alarm: i % 7 === 0 ? 0 : 1, time: formatJsonTime(at) }) },
  { endpoint: R.dispatchingRoom, camera: '40', make: (m, at) => ({ mineId: m, cameraId: '40', aiTypeCode: '06', time: formatJsonTime(at) }) },
  { endpoint: R.cameraLive, camera: '20', make: (m, at) => ({ mineId: m, cameraId: '20', liveUrl: `http://10.${Number(m.slice(-3)) % 250}.0.20/live`, time: formatJsonTime(at) }) },
  { endpoint: R.occlusion, camera: '30', make: (m, at, i) => ({ mineId: m, cameraId: '30', aiTypeCode: i % 2 ? '04' : '05', time: formatJsonTime(at) }) },
  {
    endpoint: E.personVideo,
    camera: '20',
    make: (m, at, i) => ({ file: formatEvidenceFileName('count', { mineId: m, cameraId: '20', aiTypeCode: '01', count: String(i % 30).padStart(4, '0'), time: at }) }),
  },
  { endpoint: R.truck, camera: '31', make: (m, at, i) => ({ mineId: m, cameraId: '31', aiTypeCode: '02', outMineNumber: String(i % 5).padStart(4, '0'), time: formatJsonTime(at) }) },
];

export function mineIdOf(n: number): string {
  return `1404210${String(n + 1).padStart(5, '0')}`;
}

export async function generateConsoleData(o: GenerateOptions): Promise<GenerateReport> {
  const started = Date.now();
  const now = o.now ?? Date.now();
  const deadShare = o.deadShare ?? 0.01;
  const mineIds = Array.from({ length: o.mines }, (_, i) => mineIdOf(i));
  const root = openLmdb(join(o.dataDir, 'db'));
  const queue = new LmdbQueueStore(root, { name: 'queue' });
  let items = 0;
  let delivered = 0;
  let dead = 0;
  try {
    let batch: Parameters<typeof queue.appendMany>[0] = [];
    const outcomes: { doneAt: number; dead: boolean }[] = [];
    const flush = async () => {
      if (!batch.length) return;
      const results = await queue.appendMany(batch);
      const acks: Promise<void>[] = [];
      results.forEach((r, i) => {
        const out = outcomes[i]!;
        if (out.doneAt > now) return; // still pending
        if (out.dead) {
          dead++;
          acks.push(queue.deadLetter(r.item.seq, 'demo: refused upstream (code 400)'));
        } else {
          delivered++;
          acks.push(queue.ack(r.item.seq));
        }
      });
      await Promise.all(acks); // lmdb-js puts them in a few commits
      items += batch.length;
      batch = [];
      outcomes.length = 0;
    };
    const start = now - o.days * DAY_MS;
    // day by day, every mine, spread over the day: seq order is roughly time order, as in life
    for (let d = 0; d < o.days; d++) {
      for (let k = 0; k < o.perDay; k++) {
        for (let m = 0; m < o.mines; m++) {
          const mineId = mineIds[m]!;
          const at = start + d * DAY_MS + Math.floor(((k + (m % 97) / 97) / o.perDay) * DAY_MS);
          const mix = DAY_MIX[(k + m) % DAY_MIX.length]!;
          const made = mix.make(mineId, at, d * o.perDay + k + m);
          const n = items + batch.length;
          const payload = {
            v: 1,
            endpoint: mix.endpoint.id,
            account: ACCOUNT,
            mineId,
            cameraId: mix.camera,
            receivedAt: at,
            requestId: `demo-${n.toString(36)}`,
            from: '10.0.0.1',
            flags: n % 50 === 0 ? [flag('time.skew', '+40s')] : [],
            ...('file' in made
              ? { file: { name: made.file, blob: 'a'.repeat(64), size: 2_000_000, durationMs: 10_000, codec: 'avc1', width: 1280, height: 720, contentType: 'video/mp4' } }
              : { record: made }),
          };
          batch.push({ key: `${mineId}/${mix.camera}/${mix.endpoint.id}:${ACCOUNT}`, lane: mix.endpoint.lane, payload, dedupeKey: `demo\u0000${n}` });
          const latency = mix.endpoint.lane === 'evidence' ? 20_000 + (n % 13) * 1000 : 300 + (n % 17) * 100 + (n % 400 === 0 ? 60_000 : 0);
          outcomes.push({ doneAt: at + latency, dead: (n * 7919) % 10_000 < deadShare * 10_000 });
          if (batch.length >= BATCH) await flush();
        }
      }
      o.log?.(`day ${d + 1}/${o.days}: ${items + batch.length} items`);
    }
    await flush();
  } finally {
    await queue.close();
    await root.close();
  }
  return { items, delivered, dead, ms: Date.now() - started, mineIds };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { dir: { type: 'string' }, mines: { type: 'string', default: '1000' }, days: { type: 'string', default: '30' }, 'per-day': { type: 'string', default: '20' } },
  });
  const num = (v: string | undefined, name: string, max: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name}: a whole number from 1 to ${max}, got ${v}`);
    return n;
  };
  if (!values.dir) throw new Error('--dir: the relay data dir to fill (required)');
  const report = await generateConsoleData({
    dataDir: values.dir,
    mines: num(values.mines, 'mines', 100_000),
    days: num(values.days, 'days', 366),
    perDay: num(values['per-day'], 'per-day', 10_000),
    log: (l) => console.log(l),
  });
  console.log(JSON.stringify({ ...report, mineIds: undefined }));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
