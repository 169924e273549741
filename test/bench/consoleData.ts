// The console's data API over a province's month: 1,000 mines × 30 days × 20 items (600,000 items)
// generated through the real queue store (tools/demo/generateStats.ts), then the relay started as an
// operator starts it (a child process): its start counts the queue once for the console, as on an
// upgrade (timed), and each /admin endpoint is asked in turn, sequentially, its p50/p95 printed
// against GET /healthz asked the same way in the same run (the baseline: the HTTP round trip and
// the admin auth's floor). Target: p95 < 200 ms for every endpoint.
//
//   node --import tsx test/bench/consoleData.ts
//   knobs: ESEAL_BENCH_CONSOLE_MINES (1000), ESEAL_BENCH_CONSOLE_DAYS (30), ESEAL_BENCH_CONSOLE_PER_DAY (20),
//          ESEAL_BENCH_CONSOLE_REQUESTS (40 per endpoint), ESEAL_BENCH_CONSOLE_DIR (reuse a generated data dir)
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { generateConsoleData, mineIdOf } from '../../tools/demo/generateStats.ts';
import { beijingDay } from '../../relay/stats/beijingDay.ts';
import { StatsStore } from '../../relay/stats/StatsStore.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { createLogger } from '../../src/log.ts';
import { LmdbQueueStore } from '../../src/store/lmdb/LmdbQueueStore.ts';
import { openLmdb } from '../../src/store/lmdb/open.ts';
import { emitFigures, envNumber, figure, fmt, machineLine, makeTempDir, nowMs, percentile, printTable, runBenchmark, startRelayChild, summarize, type Figure } from './lib.ts';

const TARGET_MS = 200;

async function main(): Promise<void> {
  const mines = envNumber('ESEAL_BENCH_CONSOLE_MINES', 1000);
  const days = envNumber('ESEAL_BENCH_CONSOLE_DAYS', 30);
  const perDay = envNumber('ESEAL_BENCH_CONSOLE_PER_DAY', 20);
  const n = envNumber('ESEAL_BENCH_CONSOLE_REQUESTS', 40);
  console.log(machineLine('the relay child process and this client'));
  const reuse = process.env['ESEAL_BENCH_CONSOLE_DIR'];
  const dataDir = reuse ?? (await makeTempDir('eseal-bench-console-'));
  const now = Date.now();
  if (!reuse || !existsSync(join(dataDir, 'db'))) {
    const g = await generateConsoleData({ dataDir, mines, days, perDay, now, log: (l) => process.stdout.write(`\r${l}   `) });
    console.log(`\ngenerated ${g.items} items (${g.delivered} delivered, ${g.dead} dead) for ${mines} mines × ${days} days in ${fmt(g.ms / 1000, 1)} s`);
  }
  // the relay's first start on such a queue counts it once for the console (as on an upgrade):
  // done here, timed, so that the child's start stays within its start timeout
  const b0 = nowMs();
  const root = openLmdb(join(dataDir, 'db'));
  const counted = await new StatsStore(root, new LmdbQueueStore<RelayItem>(root, { name: 'queue' })).open(createLogger({ level: 'silent' }));
  await root.close();
  console.log(`the console's aggregates built from the queue (${counted} items) in ${fmt((nowMs() - b0) / 1000, 1)} s`);
  const t0 = nowMs();
  const relay = await startRelayChild(dataDir);
  console.log(`relay started in ${fmt((nowMs() - t0) / 1000, 1)} s`);
  try {
    const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
    const get = async (path: string, auth = true): Promise<{ ms: number; bytes: number }> => {
      const t = nowMs();
      const res = await request(`${relay.url}${path}`, auth ? { headers: { authorization: `Bearer ${token}` } } : {});
      const body = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${body.toString().slice(0, 300)}`);
      return { ms: nowMs() - t, bytes: body.length };
    };
    const today = beijingDay(now);
    const monthAgo = beijingDay(now - (days - 1) * 86_400_000);
    const weekAgo = beijingDay(now - 7 * 86_400_000);
    const mine = (i: number) => mineIdOf(i % mines);
    const cases: { name: string; path: (i: number) => string }[] = [
      { name: 'GET /healthz (baseline)', path: () => '/healthz' },
      { name: 'daily, all mines, one day', path: () => `/admin/daily?from=${today}&to=${today}` },
      { name: 'daily, one mine, 31 days', path: (i) => `/admin/daily?from=${monthAgo}&to=${today}&mine=${mine(i * 37)}` },
      { name: 'hourly, one mine, 8 days', path: (i) => `/admin/hourly?mine=${mine(i * 37)}&from=${weekAgo}&to=${today}` },
      { name: 'mines, 1,000 with cameras', path: () => '/admin/mines' },
      { name: 'items, one mine, newest 100', path: (i) => `/admin/items?mine=${mine(i * 37)}` },
      { name: 'items, one mine, month, 1000', path: (i) => `/admin/items?mine=${mine(i * 37)}&limit=1000` },
      { name: 'items, one mine, dead only', path: (i) => `/admin/items?mine=${mine(i * 37)}&state=dead` },
      { name: 'items, all mines, newest 100', path: () => '/admin/items' },
      { name: 'items, all mines, one kind', path: () => '/admin/items?endpoint=infoReport/belt' },
      { name: 'item detail', path: (i) => `/admin/items/${1 + ((i * 7919) % (mines * days * perDay))}` },
    ];
    const figures: Figure[] = [];
    const rows: string[][] = [];
    let baseline = 0;
    for (const c of cases) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < 3; i++) await get(c.path(i + 1000)); // warm
      for (let i = 0; i < n; i++) {
        const r = await get(c.path(i));
        times.push(r.ms);
        bytes = r.bytes;
      }
      const s = { ...summarize(times), p95: percentile(times, 95) };
      if (c.path(0) === '/healthz') baseline = s.p50;
      rows.push([c.name, fmt(s.p50, 1), fmt(s.p95, 1), fmt(s.max, 1), fmt(bytes / 1024, 0)]);
      if (c.path(0) !== '/healthz') {
        figures.push(
          figure({ figure: `console ${c.name}, p95`, value: s.p95, unit: 'ms', baseline, baselineName: 'GET /healthz p50', target: `< ${TARGET_MS} ms`, pass: s.p95 < TARGET_MS, digits: 1 }),
        );
      }
    }
    printTable(`console data API: ${mines} mines × ${days} days × ${perDay} items, ${n} requests each, one at a time`, ['endpoint', 'p50 ms', 'p95 ms', 'max ms', 'answer KiB'], rows);
    emitFigures('console', figures);
  } finally {
    await relay.stop();
  }
}

runBenchmark('console', main);
