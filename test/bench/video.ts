// 5 MB evidence uploads through the real relay (a child process, plain HTTP on 127.0.0.1) with 1
// and 4 concurrent uploaders: MB/s and p50/p99 upload latency, against a raw durable write of the
// same bytes in the same file system (read the source file, write it to a new file, fsync the
// file, fsync its directory) with the same count and concurrency, measured in the same run.
//
// Every upload is a distinct H.264 MP4 of exactly 5,000,000 bytes: one clip from ffmpeg, padded
// with a `free` box (padMp4ToSize) whose bytes are then filled with random data and a per-file
// counter, so that no upload is deduplicated and no blob is found already stored. Uploads are
// streamed from disk as multipart/form-data.
//
//   node --import tsx test/bench/video.ts      (knobs in lib.ts: ESEAL_BENCH_VIDEOS, ESEAL_BENCH_UPLOADERS, …)

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { loadAppConfig as loadConfig } from '../../app/config.ts';
import { EVIDENCE_ENDPOINTS, formatEvidenceFileName } from '../../src/contract/index.ts';
import { openRelayStores } from '../../relay/RelayContext.ts';
import { makeVideo, padMp4ToSize } from '../helpers/media.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import {
  ROOT,
  emitFigures,
  envList,
  envNumber,
  figure,
  fmt,
  foreignLoad,
  guardChild,
  machineLine,
  makeTempDir,
  nowMs,
  ownCpuSeconds,
  printProfile,
  printTable,
  processCpuSeconds,
  runBenchmark,
  startRelayChild,
  summarize,
  cpuDelta,
  type CpuSplit,
  type Figure,
  type LatencySummary,
} from './lib.ts';

const MINE = '140421007866';
const USER = 'bench002';
const PASSWORD = 'Bench+pass/word=2';
const FILE_BYTES = 5_000_000;
const MB = 1_000_000;
const TARGET_RATIO = 0.9;
const WARMUP_UPLOADS = 2;
/** each level's uploads are split into this many relay/raw round pairs */
const ROUNDS = 4;

interface Run {
  concurrency: number;
  files: number;
  ok: number;
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  latency: LatencySummary;
  failures: Map<string, number>;
  /** relay child CPU during its uploads */
  relayCpu?: CpuSplit;
  /** this process (the uploading client) CPU seconds during the relay's uploads */
  clientCpuSeconds?: number;
  /** CPU used meanwhile by processes other than the relay and this one, in cores */
  foreignCores?: number;
}

/** Writes `count` distinct MP4 files of exactly FILE_BYTES into `dir`. */
async function makeFiles(dir: string, count: number): Promise<string[]> {
  const clip = await makeVideo(dir, { seconds: 4 });
  const clipBytes = (await stat(clip)).size;
  const padStart = clipBytes + 8; // after the free box header (32-bit size: the pad is < 4 GiB)
  const filler = randomBytes(FILE_BYTES - padStart);
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, `upload-${String(i).padStart(4, '0')}.mp4`);
    await padMp4ToSize(clip, path, FILE_BYTES);
    const handle = await open(path, 'r+');
    try {
      // the padding's bytes: the shared random filler, its first bytes made unique per file
      filler.writeUInt32BE(i, 0);
      randomBytes(28).copy(filler, 4);
      await handle.write(filler, 0, filler.length, padStart);
      // flushed now, so that no write-back of the sources runs during the measurement
      await handle.sync();
    } finally {
      await handle.close();
    }
    files.push(path);
  }
  if (statSync(files[0]!).size !== FILE_BYTES) throw new Error('padMp4ToSize did not give the expected size');
  return files;
}

interface Batch {
  ok: number;
  seconds: number;
  /** CPU core-seconds used by other processes meanwhile */
  foreign?: number;
  latencies: number[];
  failures: Map<string, number>;
}

/** Runs `task` over `items` with `concurrency` workers; wall time and per-item latency in ms. */
async function runConcurrent<T>(items: T[], concurrency: number, task: (item: T) => Promise<string | undefined>): Promise<Batch> {
  let next = 0;
  let ok = 0;
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const t0 = nowMs();
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      const start = nowMs();
      let failure: string | undefined;
      try {
        failure = await task(item);
      } catch (err) {
        failure = `error ${(err as Error).message}`;
      }
      if (failure === undefined) {
        ok++;
        latencies.push(nowMs() - start);
      } else {
        failures.set(failure, (failures.get(failure) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ok, seconds: (nowMs() - t0) / 1000, latencies, failures };
}

function merge(into: Batch, b: Batch): void {
  into.ok += b.ok;
  into.seconds += b.seconds;
  into.foreign = (into.foreign ?? 0) + (b.foreign ?? 0);
  into.latencies.push(...b.latencies);
  for (const [why, n] of b.failures) into.failures.set(why, (into.failures.get(why) ?? 0) + n);
}

function finish(concurrency: number, files: number, r: Batch): Run {
  const bytes = r.ok * FILE_BYTES;
  return {
    concurrency,
    files,
    ok: r.ok,
    bytes,
    seconds: r.seconds,
    mbPerSecond: bytes / MB / r.seconds,
    latency: summarize(r.latencies),
    failures: r.failures,
    foreignCores: (r.foreign ?? 0) / r.seconds,
  };
}

/** ms to SM3 FILE_BYTES in this process (the relay hashes every upload with SM3 as it arrives). */
function sm3Milliseconds(): number {
  const data = randomBytes(FILE_BYTES);
  createHash('sm3').update(data).digest();
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = nowMs();
    createHash('sm3').update(data).digest();
    times.push(nowMs() - t0);
  }
  return summarize(times).p50;
}

// ---- the upload, as a mine device sends it: multipart/form-data, the file streamed from disk ----

let uploadCounter = 0;

async function upload(pool: Pool, token: string, path: string): Promise<string | undefined> {
  const endpoint = EVIDENCE_ENDPOINTS.personVideo;
  const n = uploadCounter++;
  const name = formatEvidenceFileName('count', { mineId: MINE, cameraId: '20', aiTypeCode: '01', count: '0001', time: Date.now() - n * 1000 });
  const boundary = `----esealbench${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${endpoint.partName}"; filename="${name}"\r\nContent-Type: video/mp4\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* body() {
    yield head;
    for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) yield chunk as Buffer;
    yield tail;
  }
  const res = await pool.request({
    path: endpoint.path,
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + FILE_BYTES + tail.length),
    },
    body: Readable.from(body(), { objectMode: false }),
  });
  const text = await res.body.text();
  if (res.statusCode === 200 && (JSON.parse(text) as { code?: number }).code === 0) return undefined;
  return `HTTP ${res.statusCode} ${text.slice(0, 160)}`;
}

// ---- the baseline: the same bytes written raw and made durable ----

async function rawDurableWrite(src: string, destDir: string, index: number): Promise<string | undefined> {
  const dest = join(destDir, `raw-${index}.mp4`);
  const handle = await open(dest, 'wx', 0o640);
  try {
    for await (const chunk of createReadStream(src, { highWaterMark: 64 * 1024 })) {
      const b = chunk as Buffer;
      let off = 0;
      while (off < b.length) off += (await handle.write(b, off, b.length - off)).bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  const dir = await open(destDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return undefined;
}

/** The discarding server of the transfer-only reference, in a process of its own. */
async function startSink(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/video.ts', '--sink-server'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  guardChild(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolvePort, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolvePort((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the sink server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function sinkServer(): void {
  const server = createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"code":0,"msg":"success","data":true}');
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    console.log(JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 }));
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

async function main(): Promise<void> {
  const perLevel = envNumber('ESEAL_BENCH_VIDEOS', 100);
  const levels = envList('ESEAL_BENCH_UPLOADERS', [1, 4]);
  const profDir = process.env['ESEAL_BENCH_CPU_PROF'] ? join(process.env['ESEAL_BENCH_CPU_PROF'], 'video') : undefined;
  const endpoint = EVIDENCE_ENDPOINTS.personVideo;
  console.log(`\n== video: 5 MB evidence uploads (POST ${endpoint.path}, part ${endpoint.partName}) ==`);
  console.log(machineLine());

  const work = await makeTempDir('eseal-bench-video-');
  const dataDir = join(work, 'relay');
  const sources = join(work, 'sources');
  const rawDir = join(work, 'raw');
  await mkdir(sources);
  await mkdir(rawDir);
  const t0 = nowMs();
  const files = await makeFiles(sources, WARMUP_UPLOADS + perLevel * levels.length);
  console.log(`made ${files.length} distinct H.264 MP4 files of ${fmt(FILE_BYTES)} bytes in ${fmt((nowMs() - t0) / 1000, 1)} s (${work})`);
  const sameFs = statSync(rawDir).dev === statSync(work).dev;
  console.log(`baseline: read the same file, write it to ${rawDir}, fsync it, fsync the directory${sameFs ? ' (same file system as the relay data dir)' : ''}`);

  const config = await loadConfig({ env: {}, set: { dataDir, 'relay.tls.mode': 'off', 'log.level': 'silent' } });
  const stores = await openRelayStores(config);
  await stores.accounts.add({ username: USER, password: PASSWORD, mines: [MINE] });
  await stores.close();

  const relay = await startRelayChild(dataDir, profDir ? { cpuProfDir: profDir } : {});
  const rounds = Math.max(1, Math.min(ROUNDS, perLevel));
  console.log(
    `relay: child pid ${relay.pid} at ${relay.url} (plain HTTP), log level ${relay.logLevel}; ${WARMUP_UPLOADS} warm-up uploads, then per level ${perLevel} uploads ` +
      `in ${rounds} rounds, each round the relay and the raw baseline over the same files back to back, in alternating order (disk and cache state drift evens out)`,
  );
  const relayRuns: Run[] = [];
  const rawRuns: Run[] = [];
  const batches: string[][] = [];
  try {
    const mine = new GuideMine(relay.url, USER, PASSWORD);
    const login = await mine.login();
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
    let cursor = 0;
    const take = (n: number) => files.slice(cursor, (cursor += n));
    {
      const pool = new Pool(relay.url, { connections: 1, keepAliveTimeout: 60_000 });
      const warm = await runConcurrent(take(WARMUP_UPLOADS), 1, (f) => upload(pool, mine.token, f));
      await pool.close();
      if (warm.ok !== WARMUP_UPLOADS) throw new Error(`warm-up uploads failed: ${JSON.stringify([...warm.failures])}`);
    }
    let rawIndex = 0;
    for (const concurrency of levels) {
      const batch = take(perLevel);
      const pool = new Pool(relay.url, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
      const viaRelay: Batch = { ok: 0, seconds: 0, latencies: [], failures: new Map() };
      const raw: Batch = { ok: 0, seconds: 0, latencies: [], failures: new Map() };
      let relayCpu: CpuSplit = { main: 0, others: 0, user: 0, sys: 0 };
      let clientCpu = 0;
      let rawCpu = 0;
      try {
        for (let round = 0; round < rounds; round++) {
          const part = batch.slice(Math.floor((round * batch.length) / rounds), Math.floor(((round + 1) * batch.length) / rounds));
          const ours = () => {
            const c = relay.cpuSplit();
            return ownCpuSeconds() + c.main + c.others;
          };
          const measured = async (task: () => Promise<Batch>) => {
            const foreign = foreignLoad(ours());
            const b = await task();
            b.foreign = foreign(ours()) * b.seconds;
            return b;
          };
          const relayPart = async () => {
            const cpu0 = relay.cpuSplit();
            const client0 = process.cpuUsage();
            merge(viaRelay, await measured(() => runConcurrent(part, concurrency, (f) => upload(pool, mine.token, f))));
            const client = process.cpuUsage(client0);
            clientCpu += (client.user + client.system) / 1e6;
            const d = cpuDelta(relay.cpuSplit(), cpu0);
            relayCpu = { main: relayCpu.main + d.main, others: relayCpu.others + d.others, user: relayCpu.user + d.user, sys: relayCpu.sys + d.sys };
          };
          const rawPart = async () => {
            const own0 = process.cpuUsage();
            merge(raw, await measured(() => runConcurrent(part, concurrency, (f) => rawDurableWrite(f, rawDir, rawIndex++))));
            const own = process.cpuUsage(own0);
            rawCpu += (own.user + own.system) / 1e6;
          };
          if (round % 2 === 0) {
            await relayPart();
            await rawPart();
          } else {
            await rawPart();
            await relayPart();
          }
        }
      } finally {
        await pool.close();
      }
      const run = { ...finish(concurrency, batch.length, viaRelay), relayCpu, clientCpuSeconds: clientCpu };
      const rawRun = { ...finish(concurrency, batch.length, raw), clientCpuSeconds: rawCpu };
      batches.push(batch);
      relayRuns.push(run);
      rawRuns.push(rawRun);
      console.log(
        `  ${concurrency} uploader${concurrency === 1 ? ' ' : 's'}: relay ${fmt(run.mbPerSecond, 1)} MB/s (p50 ${fmt(run.latency.p50, 1)} ms, p99 ${fmt(run.latency.p99, 1)} ms), ` +
          `raw ${fmt(rawRun.mbPerSecond, 1)} MB/s (p50 ${fmt(rawRun.latency.p50, 1)} ms, p99 ${fmt(rawRun.latency.p99, 1)} ms)` +
          (run.failures.size ? `, ${batch.length - run.ok} FAILED` : ''),
      );
      for (const [why, n] of run.failures) console.log(`      ${n} × ${why}`);
    }
  } catch (err) {
    console.error(`relay output (last lines):\n${relay.tail()}`);
    throw err;
  } finally {
    await relay.stop();
  }

  // a reference that is no baseline: the same uploads over the same loopback HTTP into a server
  // that only reads and discards them, to tell the transfer's share of the relay's time
  const sinkRuns: Run[] = [];
  const sink = await startSink();
  try {
    for (const [i, concurrency] of levels.entries()) {
      const pool = new Pool(sink.url, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
      const own0 = process.cpuUsage();
      const sink0 = processCpuSeconds(sink.pid);
      try {
        const r = finish(concurrency, batches[i]!.length, await runConcurrent(batches[i]!, concurrency, (f) => upload(pool, 'none', f)));
        const own = process.cpuUsage(own0);
        sinkRuns.push({ ...r, clientCpuSeconds: (own.user + own.system) / 1e6, relayCpu: { main: processCpuSeconds(sink.pid) - sink0, others: 0, user: NaN, sys: NaN } });
      } finally {
        await pool.close();
      }
    }
  } finally {
    await sink.stop();
  }

  printTable(
    'video: relay vs raw write + fsync of the same bytes',
    ['uploaders', 'uploads', 'relay MB/s', 'raw MB/s', 'ratio', 'relay p50 ms', 'relay p99 ms', 'raw p50 ms', 'raw p99 ms', 'relay CPU', 'ms/upload main', 'ms/upload other', 'sys share', 'client CPU', 'other load relay/raw', 'failed'],
    relayRuns.map((r, i) => {
      const raw = rawRuns[i]!;
      return [
        String(r.concurrency),
        `${r.ok}/${r.files}`,
        fmt(r.mbPerSecond, 1),
        fmt(raw.mbPerSecond, 1),
        `${fmt(r.mbPerSecond / raw.mbPerSecond, 2)}×`,
        fmt(r.latency.p50, 1),
        fmt(r.latency.p99, 1),
        fmt(raw.latency.p50, 1),
        fmt(raw.latency.p99, 1),
        `${fmt(((r.relayCpu!.main + r.relayCpu!.others) / r.seconds) * 100)}%`,
        fmt((r.relayCpu!.main / r.ok) * 1000, 1),
        fmt((r.relayCpu!.others / r.ok) * 1000, 1),
        `${fmt((r.relayCpu!.sys / (r.relayCpu!.user + r.relayCpu!.sys)) * 100)}%`,
        `${fmt((r.clientCpuSeconds! / r.seconds) * 100)}%`,
        `${fmt(r.foreignCores! * 100)}% / ${fmt(raw.foreignCores! * 100)}%`,
        String(r.files - r.ok),
      ];
    }),
  );
  printTable(
    'video: where the time goes (CPU ms per 5 MB file, all processes involved)',
    ['uploaders', 'relay upload', 'of it relay main', 'relay other', 'client', 'raw write+fsync', 'transfer only MB/s', 'transfer p50 ms', 'transfer: client + sink'],
    relayRuns.map((r, i) => {
      const raw = rawRuns[i]!;
      const sinkRun = sinkRuns[i];
      return [
        String(r.concurrency),
        fmt(((r.relayCpu!.main + r.relayCpu!.others + r.clientCpuSeconds!) / r.ok) * 1000, 1),
        fmt((r.relayCpu!.main / r.ok) * 1000, 1),
        fmt((r.relayCpu!.others / r.ok) * 1000, 1),
        fmt((r.clientCpuSeconds! / r.ok) * 1000, 1),
        fmt((raw.clientCpuSeconds! / raw.ok) * 1000, 1),
        fmt(sinkRun?.mbPerSecond, 1),
        fmt(sinkRun?.latency.p50, 1),
        sinkRun ? fmt(((sinkRun.clientCpuSeconds! + sinkRun.relayCpu!.main) / sinkRun.ok) * 1000, 1) : '–',
      ];
    }),
  );
  console.log(
    `(relay upload = relay child + uploading client; raw = this process reading and writing the file; transfer only = the same multipart uploads ` +
      `over the same loopback HTTP into a server that reads and discards them (no hash, no file): what moving the bytes alone costs.)`,
  );
  const sm3 = sm3Milliseconds();
  console.log(
    `(relay CPU: % of one core over the relay's upload time, 200% = both cores; main = the relay's JavaScript thread, other = its other threads ` +
      `(libuv's pool: file writes, fsync; LMDB); sys share = kernel time of the relay's CPU; client CPU = this load generator; ` +
      `other load = CPU used meanwhile by anything else on the machine, % of one core, during the relay's and the raw runs (above ~10% the figures are disturbed).)`,
  );
  console.log(`context: SM3 of ${fmt(FILE_BYTES)} bytes in one call on this machine takes ${fmt(sm3, 1)} ms (${fmt(FILE_BYTES / MB / (sm3 / 1000))} MB/s on one core); the relay computes it for every upload, on its SM3 worker thread (src/crypto/sm3Offload.ts).`);
  console.log(`(MB = 10^6 bytes; percentiles are nearest-rank: with ${perLevel} uploads p99 is the ${perLevel >= 100 ? 'second largest or larger' : 'largest'}. Relay stdout lines: ${fmt(relay.logLines())} at level ${relay.logLevel}.)`);
  await printProfile(profDir, 'video');

  const figures: Figure[] = [];
  relayRuns.forEach((r, i) => {
    const raw = rawRuns[i]!;
    const label = `${r.concurrency} uploader${r.concurrency === 1 ? '' : 's'}`;
    figures.push(
      figure({
        figure: `5 MB upload MB/s, ${label}`,
        value: r.mbPerSecond,
        unit: 'MB/s',
        baseline: raw.mbPerSecond,
        baselineName: 'raw write+fsync',
        target: `≥ ${TARGET_RATIO}× raw`,
        pass: r.mbPerSecond / raw.mbPerSecond >= TARGET_RATIO,
        digits: 1,
      }),
      figure({ figure: `5 MB upload p50, ${label}`, value: r.latency.p50, unit: 'ms', baseline: raw.latency.p50, baselineName: 'raw p50', target: '', digits: 1 }),
      figure({ figure: `5 MB upload p99, ${label}`, value: r.latency.p99, unit: 'ms', baseline: raw.latency.p99, baselineName: 'raw p99', target: '', digits: 1 }),
    );
  });
  emitFigures('video', figures);
}

if (process.argv[2] === '--sink-server') sinkServer();
else runBenchmark('video', main);
