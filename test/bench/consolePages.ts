// The console's mines, alarms and acceptance pages over a province: 1,000 mines × 7 days × 20 items
// generated through the real queue store (tools/demo/generateStats.ts), the relay started as an
// operator starts it (a child process), the console in this process reading its admin API. Each page
// and its JSON is asked in turn, one at a time, p50/p95 printed against GET /api/me asked the same
// way in the same run (the baseline: the HTTP round trip, the session lookup). Target: p95 < 200 ms.
//
//   node --import tsx test/bench/consolePages.ts
//   knobs: ESEAL_BENCH_CONSOLE_MINES (1000), ESEAL_BENCH_CONSOLE_DAYS (7), ESEAL_BENCH_CONSOLE_PER_DAY (20),
//          ESEAL_BENCH_CONSOLE_REQUESTS (30 per page), ESEAL_BENCH_CONSOLE_DIR (reuse a generated data dir)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { generateConsoleData, mineIdOf } from '../../tools/demo/generateStats.ts';
import { StatsStore } from '../../relay/stats/StatsStore.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { loadAppConfig } from '../../app/config.ts';
import { startConsole } from '../../console/server.ts';
import { createLogger } from '../../src/log.ts';
import { LmdbQueueStore } from '../../src/store/lmdb/LmdbQueueStore.ts';
import { openLmdb } from '../../src/store/lmdb/open.ts';
import { emitFigures, envNumber, figure, fmt, machineLine, makeTempDir, nowMs, percentile, printTable, runBenchmark, startRelayChild, summarize, type Figure } from './lib.ts';

const TARGET_MS = 200;

async function main(): Promise<void> {
  const mines = envNumber('ESEAL_BENCH_CONSOLE_MINES', 1000);
  const days = envNumber('ESEAL_BENCH_CONSOLE_DAYS', 7);
  const perDay = envNumber('ESEAL_BENCH_CONSOLE_PER_DAY', 20);
  const n = envNumber('ESEAL_BENCH_CONSOLE_REQUESTS', 30);
  console.log(machineLine('the relay child process and the console in this process'));
  const reuse = process.env['ESEAL_BENCH_CONSOLE_DIR'];
  const dataDir = reuse ?? (await makeTempDir('eseal-bench-console-pages-'));
  if (!reuse || !existsSync(join(dataDir, 'db'))) {
    const g = await generateConsoleData({ dataDir, mines, days, perDay, log: (l) => process.stdout.write(`\r${l}   `) });
    console.log(`\ngenerated ${g.items} items for ${mines} mines × ${days} days in ${fmt(g.ms / 1000, 1)} s`);
    const root = openLmdb(join(dataDir, 'db'));
    await new StatsStore(root, new LmdbQueueStore<RelayItem>(root, { name: 'queue' })).open(createLogger({ level: 'silent' }));
    await root.close();
  }
  const relay = await startRelayChild(dataDir);
  const config = await loadAppConfig({ env: {}, set: { dataDir, 'admin.listen': '127.0.0.1:0', 'admin.relay.url': relay.url, 'log.level': 'silent' } });
  const c = await startConsole(config, createLogger({ level: 'silent' }));
  try {
    if (!c.ctx.store.users.get('bench')) await c.ctx.store.users.add({ name: 'bench', role: 'viewer', password: 'bench-pass-123' });
    const login = await request(`${c.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', password: 'bench-pass-123' }) });
    await login.body.text();
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const get = async (path: string): Promise<{ ms: number; bytes: number }> => {
      const t = nowMs();
      const res = await request(`${c.url}${path}`, { headers: { cookie } });
      const body = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${body.toString().slice(0, 300)}`);
      return { ms: nowMs() - t, bytes: body.length };
    };
    const mine = (i: number) => mineIdOf((i * 37) % mines);
    const cases: { name: string; path: (i: number) => string }[] = [
      { name: 'GET /api/me (baseline)', path: () => '/api/me' },
      { name: 'page /mines (first 100 of 1,000)', path: () => '/mines' },
      { name: 'page /mines sorted by late, desc', path: () => '/mines?sort=late&order=desc' },
      { name: 'api /api/mines, 500 by late', path: () => '/api/mines?sort=late&order=desc&limit=500' },
      { name: 'page /mines/:id (31 days, timeline)', path: (i) => `/mines/${mine(i)}` },
      { name: 'page /alarms (every mine, 7-day trend)', path: () => '/alarms?show=all' },
      { name: 'api /api/alarms', path: () => '/api/alarms' },
      { name: 'page /acceptance (every mine, 7 days)', path: () => '/acceptance' },
      { name: 'page /acceptance/:mine (hourly gaps)', path: (i) => `/acceptance/${mine(i)}` },
      { name: 'record.csv of a mine (audited)', path: (i) => `/api/acceptance/${mine(i)}/record.csv` },
      { name: 'page / (overview, late today)', path: () => '/' },
    ];
    const figures: Figure[] = [];
    const rows: string[][] = [];
    let baseline = 0;
    for (const k of cases) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < 3; i++) await get(k.path(i + 1000));
      for (let i = 0; i < n; i++) {
        const r = await get(k.path(i));
        times.push(r.ms);
        bytes = r.bytes;
      }
      const s = { ...summarize(times), p95: percentile(times, 95) };
      if (k.path(0) === '/api/me') baseline = s.p50;
      rows.push([k.name, fmt(s.p50, 1), fmt(s.p95, 1), fmt(s.max, 1), fmt(bytes / 1024, 0)]);
      if (k.path(0) !== '/api/me') figures.push(figure({ figure: `console ${k.name}, p95`, value: s.p95, unit: 'ms', baseline, baselineName: 'GET /api/me p50', target: `< ${TARGET_MS} ms`, pass: s.p95 < TARGET_MS, digits: 1 }));
    }
    printTable(`console pages: ${mines} mines × ${days} days × ${perDay} items, ${n} requests each, one at a time`, ['page', 'p50 ms', 'p95 ms', 'max ms', 'answer KiB'], rows);
    emitFigures('consolePages', figures);
  } finally {
    await c.close();
    await relay.stop();
  }
}

runBenchmark('consolePages', main);
