// Durable JSON-record ingest through the real relay (a child process, plain HTTP on 127.0.0.1),
// with 1, 16 and 64 concurrent clients: records/s and p50/p99 latency, against two baselines
// measured in the same run:
//  - LMDB's batched durable-put ceiling, in its own process (the same number of puts of a value as
//    large as the relay's stored queue item, 64 outstanding at once, into an environment opened
//    with openLmdb, whose commits are durable);
//  - the machine's HTTP ceiling: a bare Fastify server in a child process of its own, as the relay
//    is, that parses the same JSON body and answers the same success envelope (no auth, no
//    validation, no store), driven by the same client at the same levels. Figures from two machines
//    differ by their HTTP ceilings before they differ by anything in the relay.
//
//   node --import tsx test/bench/records.ts            the benchmark (see lib.ts for the knobs)
//   node --import tsx test/bench/records.ts --lmdb-baseline <dir> <count> <valueBytes> <outstanding>
//                                                      the baseline alone (prints one JSON line)
//   node --import tsx test/bench/records.ts --http-ceiling <port>
//                                                      the bare server alone (until SIGTERM)

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Pool } from 'undici';
import { loadAppConfig as loadConfig } from '../../app/config.ts';
import { RECORD_ENDPOINTS, SUCCESS, formatJsonTime } from '../../src/contract/index.ts';
import { openLmdb } from '../../src/store/lmdb/open.ts';
import { LmdbQueueStore } from '../../src/store/lmdb/LmdbQueueStore.ts';
import { openRelayStores } from '../../relay/RelayContext.ts';
import { Ingest } from '../../relay/ingest/Ingest.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { RelayMetrics } from '../../relay/metrics.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import {
  emitFigures,
  envList,
  envNumber,
  figure,
  fmt,
  foreignLoad,
  machineLine,
  makeTempDir,
  nowMs,
  ownCpuSeconds,
  printProfile,
  printTable,
  runBenchmark,
  runNodeScript,
  startRelayChild,
  startServerChild,
  summarize,
  cpuDelta,
  type CpuSplit,
  type Figure,
  type LatencySummary,
} from './lib.ts';

const MINE = '140421007866';
const USER = 'bench001';
const PASSWORD = 'Bench+pass/word=1';
const TARGET_RPS = 10_000;
const TARGET_P99_MS = 50;
const BASELINE_OUTSTANDING = 64;

// ---- the baseline, in its own process ----

interface LmdbBaseline {
  puts: number;
  valueBytes: number;
  outstanding: number;
  seconds: number;
  putsPerSecond: number;
  latency: LatencySummary;
}

async function lmdbBaseline(dir: string, count: number, valueBytes: number, outstanding: number): Promise<LmdbBaseline> {
  const root = openLmdb(dir);
  try {
    const db = root.openDB<Buffer, number>({ name: 'bench', encoding: 'binary' });
    const value = randomBytes(valueBytes);
    // a short warm-up (the first commits create the sub-database and grow the file)
    await Promise.all(Array.from({ length: outstanding }, (_, i) => db.put(-1 - i, value)));
    let next = 0;
    const latencies: number[] = [];
    const t0 = nowMs();
    const loop = async () => {
      while (next < count) {
        const key = next++;
        const start = nowMs();
        await db.put(key, value);
        latencies.push(nowMs() - start);
      }
    };
    await Promise.all(Array.from({ length: outstanding }, loop));
    const seconds = (nowMs() - t0) / 1000;
    return { puts: count, valueBytes, outstanding, seconds, putsPerSecond: count / seconds, latency: summarize(latencies) };
  } finally {
    await root.close();
  }
}

/**
 * A reference, not the baseline: the relay's own ingest layer without HTTP (Ingest.accept over
 * LmdbQueueStore, what recordRoutes calls for each record), 64 outstanding, in its own process.
 * The gap between it and the LMDB put ceiling is the queue store's cost; the gap between it and
 * the relay is HTTP, Fastify, authentication and validation.
 */
async function ingestBaseline(dir: string, count: number, outstanding: number): Promise<LmdbBaseline> {
  const root = openLmdb(dir);
  const queue = new LmdbQueueStore<RelayItem>(root, { name: 'queue' });
  try {
    const ingest = new Ingest(queue, root, new RelayMetrics());
    const lane = RECORD_ENDPOINTS.person.lane;
    let n = 0;
    const item = (): RelayItem => {
      const record = JSON.parse(nextRecord()) as Record<string, string>;
      return {
        v: 1,
        endpoint: RECORD_ENDPOINTS.person.id,
        account: USER,
        mineId: MINE,
        cameraId: '20',
        receivedAt: Date.now(),
        requestId: (n++).toString(16).padStart(12, '0'),
        from: '127.0.0.1',
        flags: [],
        record: record as unknown as NonNullable<RelayItem['record']>,
      };
    };
    await Promise.all(Array.from({ length: outstanding }, () => ingest.accept(item(), lane)));
    let left = count;
    const latencies: number[] = [];
    const t0 = nowMs();
    await Promise.all(
      Array.from({ length: outstanding }, async () => {
        while (left-- > 0) {
          const start = nowMs();
          await ingest.accept(item(), lane);
          latencies.push(nowMs() - start);
        }
      }),
    );
    const seconds = (nowMs() - t0) / 1000;
    return { puts: count, valueBytes: NaN, outstanding, seconds, putsPerSecond: count / seconds, latency: summarize(latencies) };
  } finally {
    await queue.close();
    await root.close();
  }
}

/**
 * The HTTP ceiling's server: Fastify with its defaults (its own JSON parser), the record path,
 * and the relay's success envelope; nothing is authenticated, checked or stored.
 */
async function httpCeilingServer(port: number): Promise<void> {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => 'ok');
  app.post(RECORD_ENDPOINTS.person.path, async (request, reply) => {
    if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send({ code: 400, msg: 'body: not a JSON object' });
    return SUCCESS;
  });
  await app.listen({ host: '127.0.0.1', port });
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

// ---- the relay ----

interface Level {
  clients: number;
  ok: number;
  seconds: number;
  recordsPerSecond: number;
  latency: LatencySummary;
  /** non-200 (or code ≠ 0) answers and errors, by status */
  failures: Map<string, number>;
  /** the server child's CPU (the relay, or the HTTP ceiling's bare server) */
  serverCpu: CpuSplit;
  clientCpuSeconds: number;
  /** CPU used meanwhile by processes other than the server child and this load generator, in cores */
  foreignCores: number;
}

let counter = 0;
const baseTime = Date.now();

/** A record no earlier one equals: inWellNumber and time vary with a global counter. */
function nextRecord(): string {
  const n = counter++;
  return JSON.stringify({
    mineId: MINE,
    cameraId: '20',
    aiTypeCode: '01',
    inWellNumber: String(n % 10_000).padStart(4, '0'),
    // within the 5 minutes of allowed clock skew for 3 million records, so none is flagged for it
    time: formatJsonTime(baseTime - Math.floor(n / 10_000) * 1000),
  });
}

async function drive(pool: Pool, token: string, clients: number, seconds: number, record: boolean, serverCpu: () => CpuSplit): Promise<Level> {
  const path = RECORD_ENDPOINTS.person.path;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let ok = 0;
  const fail = (why: string) => failures.set(why, (failures.get(why) ?? 0) + 1);
  const cpu0 = serverCpu();
  const client0 = process.cpuUsage();
  const ours = () => {
    const c = serverCpu();
    return ownCpuSeconds() + c.main + c.others;
  };
  const foreign = foreignLoad(ours());
  const t0 = nowMs();
  const deadline = t0 + seconds * 1000;
  const loop = async () => {
    while (nowMs() < deadline) {
      const body = nextRecord();
      const start = nowMs();
      try {
        const res = await pool.request({ path, method: 'POST', headers, body });
        const text = await res.body.text();
        const took = nowMs() - start;
        if (res.statusCode === 200 && (JSON.parse(text) as { code?: number }).code === 0) {
          ok++;
          if (record) latencies.push(took);
        } else {
          fail(`HTTP ${res.statusCode} ${text.slice(0, 120)}`);
        }
      } catch (err) {
        fail(`error ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  const elapsed = (nowMs() - t0) / 1000;
  const foreignCores = foreign(ours());
  const client = process.cpuUsage(client0);
  return {
    clients,
    ok,
    seconds: elapsed,
    recordsPerSecond: ok / elapsed,
    latency: summarize(latencies),
    failures,
    serverCpu: cpuDelta(serverCpu(), cpu0),
    clientCpuSeconds: (client.user + client.system) / 1e6,
    foreignCores,
  };
}

/**
 * Every level in turn, each with a pool of its own (one keep-alive connection per client): a
 * warm-up, then the measured run, printed as it ends. `noun` names what one answer is.
 */
async function driveLevels(url: string, token: string, levels: number[], warmup: number, seconds: number, serverCpu: () => CpuSplit, noun: string): Promise<Level[]> {
  const results: Level[] = [];
  for (const clients of levels) {
    const pool = new Pool(url, { connections: clients, pipelining: 1, keepAliveTimeout: 60_000 });
    try {
      await drive(pool, token, clients, warmup, false, serverCpu);
      const level = await drive(pool, token, clients, seconds, true, serverCpu);
      results.push(level);
      const failed = [...level.failures.values()].reduce((a, b) => a + b, 0);
      console.log(
        `  ${String(clients).padStart(3)} clients: ${fmt(level.ok)} ${noun} in ${fmt(level.seconds, 2)} s = ${fmt(level.recordsPerSecond)}/s, ` +
          `p50 ${fmt(level.latency.p50, 2)} ms, p99 ${fmt(level.latency.p99, 2)} ms${failed ? `, ${failed} FAILED` : ''}`,
      );
      for (const [why, n] of level.failures) console.log(`      ${n} × ${why}`);
    } finally {
      await pool.close();
    }
  }
  return results;
}

/** The columns of loadCells; `server` names the child measured, `per` what one answer is. */
function loadHeader(server: string, per: string): string[] {
  return ['p50 ms', 'p99 ms', 'max ms', `${server} CPU`, `µs/${per} main`, `µs/${per} other`, 'sys share', 'client CPU', 'other load', 'non-200'];
}

/** A level's latency, the server child's and the client's CPU, other load and failures. */
function loadCells(r: Level): string[] {
  return [
    fmt(r.latency.p50, 2),
    fmt(r.latency.p99, 2),
    fmt(r.latency.max, 1),
    `${fmt(((r.serverCpu.main + r.serverCpu.others) / r.seconds) * 100)}%`,
    fmt((r.serverCpu.main / r.ok) * 1e6),
    fmt((r.serverCpu.others / r.ok) * 1e6),
    `${fmt((r.serverCpu.sys / (r.serverCpu.user + r.serverCpu.sys)) * 100)}%`,
    `${fmt((r.clientCpuSeconds / r.seconds) * 100)}%`,
    `${fmt(r.foreignCores * 100)}%`,
    String([...r.failures.values()].reduce((a, b) => a + b, 0)),
  ];
}

/** Mean size of the queue items the relay stored (msgpack bytes as LMDB holds them). */
async function storedItemBytes(dbDir: string): Promise<number> {
  const root = openLmdb(dbDir, { readOnly: true });
  try {
    const items = root.openDB<Buffer, number>({ name: 'queue', encoding: 'binary' });
    let n = 0;
    let bytes = 0;
    for (const { value } of items.getRange({ limit: 2000 })) {
      n++;
      bytes += value.length;
    }
    if (n === 0) throw new Error('the relay stored no queue item');
    return Math.round(bytes / n);
  } finally {
    await root.close();
  }
}

async function main(): Promise<void> {
  const seconds = envNumber('ESEAL_BENCH_SECONDS', 5);
  const warmup = envNumber('ESEAL_BENCH_WARMUP_SECONDS', 1);
  const levels = envList('ESEAL_BENCH_CONCURRENCY', [1, 16, 64]);
  const profDir = process.env['ESEAL_BENCH_CPU_PROF'] ? join(process.env['ESEAL_BENCH_CPU_PROF'], 'records') : undefined;
  console.log(`\n== records: durable JSON-record ingest (POST ${RECORD_ENDPOINTS.person.path}) ==`);
  console.log(machineLine());

  const work = await makeTempDir('eseal-bench-records-');
  const dataDir = join(work, 'relay');
  const config = await loadConfig({ env: {}, set: { dataDir, 'relay.tls.mode': 'off', 'log.level': 'silent' } });
  const stores = await openRelayStores(config);
  await stores.accounts.add({ username: USER, password: PASSWORD, mines: [MINE] });
  await stores.close();

  const relay = await startRelayChild(dataDir, profDir ? { cpuProfDir: profDir } : {});
  console.log(
    `relay: child pid ${relay.pid} at ${relay.url} (plain HTTP), log level ${relay.logLevel}; ` +
      `URL from a port picked here and /healthz polled, not from the "relay listening" line (info would log every request)`,
  );
  console.log(`load: undici Pool, one keep-alive connection per client, each client one request at a time; ${warmup} s warm-up then ${seconds} s measured per level; only 200 + code 0 counted`);
  let results: Level[];
  let token = '';
  try {
    const mine = new GuideMine(relay.url, USER, PASSWORD);
    const login = await mine.login();
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
    token = mine.token;
    results = await driveLevels(relay.url, token, levels, warmup, seconds, relay.cpuSplit, 'records');
  } catch (err) {
    console.error(`relay output (last lines):\n${relay.tail()}`);
    throw err;
  } finally {
    await relay.stop();
  }
  const logLines = relay.logLines();

  // the HTTP ceiling: the same client, levels and bodies against a bare Fastify child
  const ceilingServer = await startServerChild('the HTTP-ceiling server', 'test/bench/records.ts', ['--http-ceiling']);
  console.log(`HTTP ceiling: bare Fastify child pid ${ceilingServer.pid} at ${ceilingServer.url}, same client, levels and bodies (no auth, validation or store)`);
  let ceiling: Level[];
  try {
    // the relay's token goes along (the same request bytes) and is not looked at
    ceiling = await driveLevels(ceilingServer.url, token, levels, warmup, seconds, ceilingServer.cpuSplit, 'requests');
  } catch (err) {
    console.error(`HTTP-ceiling server output (last lines):\n${ceilingServer.tail()}`);
    throw err;
  } finally {
    await ceilingServer.stop();
  }
  const ceilingAt = (clients: number) => ceiling.find((c) => c.clients === clients)!;

  // the baseline: as many puts as the relay stored at 64 clients (at least 5,000), of a value as
  // large as the relay's queue item, 64 outstanding, in a process of its own
  const valueBytes = await storedItemBytes(join(dataDir, 'db'));
  const top = results.find((r) => r.clients === 64) ?? results[results.length - 1]!;
  const puts = Math.max(5000, top.ok);
  const base = await runNodeScript<LmdbBaseline>('test/bench/records.ts', [
    '--lmdb-baseline',
    join(work, 'baseline-db'),
    String(puts),
    String(valueBytes),
    String(BASELINE_OUTSTANDING),
  ]);
  const ingestRef = await runNodeScript<LmdbBaseline>('test/bench/records.ts', [
    '--ingest-baseline',
    join(work, 'ingest-db'),
    String(puts),
    String(BASELINE_OUTSTANDING),
  ]);
  console.log(
    `baseline: LMDB (openLmdb, durable commits) ${fmt(base.puts)} puts of ${base.valueBytes} B, ${base.outstanding} outstanding, own process: ` +
      `${fmt(base.putsPerSecond)}/s, p50 ${fmt(base.latency.p50, 2)} ms, p99 ${fmt(base.latency.p99, 2)} ms`,
  );
  console.log(
    `baseline: HTTP ceiling (bare Fastify child, same client and bodies) ` +
      ceiling.map((c) => `${c.clients} client${c.clients === 1 ? '' : 's'} ${fmt(c.recordsPerSecond)}/s`).join(', '),
  );

  printTable(
    'records: relay vs LMDB durable-put ceiling and the HTTP ceiling',
    ['clients', 'records', 'records/s', 'LMDB puts/s', 'ratio', 'ingest/s', 'of ingest', 'HTTP ceiling/s', 'of HTTP', ...loadHeader('relay', 'rec')],
    results.map((r) => [
      String(r.clients),
      fmt(r.ok),
      fmt(r.recordsPerSecond),
      fmt(base.putsPerSecond),
      `${fmt(r.recordsPerSecond / base.putsPerSecond, 2)}×`,
      fmt(ingestRef.putsPerSecond),
      `${fmt(r.recordsPerSecond / ingestRef.putsPerSecond, 2)}×`,
      fmt(ceilingAt(r.clients).recordsPerSecond),
      `${fmt(r.recordsPerSecond / ceilingAt(r.clients).recordsPerSecond, 2)}×`,
      ...loadCells(r),
    ]),
  );
  console.log(
    `(relay CPU: % of one core, 200% = both cores; µs/rec main = the relay's JavaScript thread, other = its other threads ` +
      `(LMDB's writer, libuv, GC); sys share = kernel time of the relay's CPU; other load = CPU used meanwhile by anything but ` +
      `the relay and this load generator (% of one core; above ~10% the figures are disturbed). Relay stdout lines during the run: ${fmt(logLines)} at level ${relay.logLevel}.)`,
  );
  console.log(
    `reference (not the baseline): the relay's ingest layer alone, Ingest.accept over LmdbQueueStore with no HTTP, ${fmt(ingestRef.puts)} records, ` +
      `${ingestRef.outstanding} outstanding, own process: ${fmt(ingestRef.putsPerSecond)}/s, p50 ${fmt(ingestRef.latency.p50, 2)} ms, p99 ${fmt(ingestRef.latency.p99, 2)} ms ` +
      `(column "ingest/s"; LMDB puts/s ÷ ingest/s = ${fmt(base.putsPerSecond / ingestRef.putsPerSecond, 1)}× is what the queue store's bookkeeping costs over a bare put)`,
  );
  printTable(
    'HTTP ceiling: bare Fastify child (JSON body parsed, success envelope; no auth, validation or store), same client',
    ['clients', 'requests', 'requests/s', ...loadHeader('server', 'req')],
    ceiling.map((r) => [String(r.clients), fmt(r.ok), fmt(r.recordsPerSecond), ...loadCells(r)]),
  );
  console.log(
    `(the most this client gets through HTTP and Fastify on this machine at each level; "of HTTP" above = relay ÷ this. ` +
      `A machine whose ceiling is lower gets fewer records/s for reasons outside the relay; the relay's share of its ceiling is what compares across machines.)`,
  );
  await printProfile(profDir, 'records');

  const figures: Figure[] = [];
  const ceilingFigures: Figure[] = [];
  for (const r of results) {
    const at64 = r.clients === 64;
    figures.push(
      figure({
        figure: `records/s, ${r.clients} client${r.clients === 1 ? '' : 's'}`,
        value: r.recordsPerSecond,
        unit: '/s',
        baseline: base.putsPerSecond,
        baselineName: 'LMDB durable puts, 64 outstanding',
        target: at64 ? `≥ ${fmt(TARGET_RPS)}/s` : '',
        ...(at64 ? { pass: r.recordsPerSecond >= TARGET_RPS } : {}),
      }),
    );
    ceilingFigures.push(
      figure({
        figure: `records/s of the HTTP ceiling, ${r.clients} client${r.clients === 1 ? '' : 's'}`,
        value: r.recordsPerSecond,
        unit: '/s',
        baseline: ceilingAt(r.clients).recordsPerSecond,
        baselineName: `bare Fastify, same client, ${r.clients} client${r.clients === 1 ? '' : 's'}`,
        target: '',
      }),
    );
  }
  for (const r of results) {
    const at64 = r.clients === 64;
    figures.push(
      figure({
        figure: `record p50 latency, ${r.clients} client${r.clients === 1 ? '' : 's'}`,
        value: r.latency.p50,
        unit: 'ms',
        baseline: base.latency.p50,
        baselineName: 'LMDB put p50',
        target: '',
        digits: 2,
      }),
      figure({
        figure: `record p99 latency, ${r.clients} client${r.clients === 1 ? '' : 's'}`,
        value: r.latency.p99,
        unit: 'ms',
        baseline: base.latency.p99,
        baselineName: 'LMDB put p99',
        target: at64 ? `< ${TARGET_P99_MS} ms` : '',
        ...(at64 ? { pass: r.latency.p99 < TARGET_P99_MS } : {}),
        digits: 2,
      }),
    );
  }
  figures.push(...ceilingFigures);
  emitFigures('records', figures);
}

const args = process.argv.slice(2);
function report(result: Promise<LmdbBaseline>): void {
  result.then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n', () => process.exit(0)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
if (args[0] === '--lmdb-baseline') {
  const [dir, count, valueBytes, outstanding] = args.slice(1);
  report(lmdbBaseline(dir!, Number(count), Number(valueBytes), Number(outstanding)));
} else if (args[0] === '--http-ceiling') {
  httpCeilingServer(Number(args[1])).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else if (args[0] === '--ingest-baseline') {
  const [dir, count, outstanding] = args.slice(1);
  report(ingestBaseline(dir!, Number(count), Number(outstanding)));
} else {
  runBenchmark('records', main);
}
