// Forwarding to the national platform through the real relay (a child process started as an
// operator starts it, `node --import tsx app/main.ts start --config …` with ESEAL_UPSTREAM_URL set,
// plain HTTP on 127.0.0.1) into a real NationalSimulator (sim/national). Two measurements,
// each beside a baseline measured in the same run:
//
// 1. Backlog drain. The simulator's data port is taken down (connection refused) and its body
//    bandwidth capped (bandwidthBytesPerSec: one token bucket for every request body together, a
//    FIFO link); a mine queues a backlog in the relay (records, and ~1 MB videos of distinct
//    bytes, from several mines and two cameras each); the port comes back up and the time until the
//    simulator has recorded every item is taken. Reported: items/s and MB/s of the drain, from the
//    first item reaching the simulator to the last one answered, and its share of the cap; apart
//    from it, the wait from "port up" to that first item (the relay's circuit breaker probes every
//    forward.breaker.probeSeconds, 5 s by default). Baseline: the same backlog (same counts, sizes
//    and bytes, new names) sent by this process straight to the capped simulator with NationalClient
//    (the client the relay forwards with), with the relay's lane concurrency as its senders.
//    The relay runs with forward.bandwidthBytesPerSecond 0 (no relay-side cap) and forward.concurrency
//    { status 8, record 8, evidence 4 }: the relay's defaults. Four video streams are enough to fill
//    the cap (videos alone drain at 1.0× the cap with 2 or more); more of them only queue more video
//    bytes ahead of each record in the capped link (ESEAL_BENCH_FWD_EVIDENCE to try).
//
//    Verification's cost (issue 14): every video leaves the relay checked against its SM3 address
//    while it streams (relay/forward/blobSource.ts). The same backlog (same counts, sizes and bytes,
//    new names) is drained a second time through a second relay child started with
//    ESEAL_BENCH_FORWARD_UNVERIFIED=1 (the check off: a switch for this benchmark only, not a
//    setting), right after the first; reported: drain MB/s and the relay's CPU seconds, verified
//    against unverified, as ratios (ESEAL_BENCH_FWD_VERIFY_BASELINE=0 skips it).
//
// 2. The relay's added latency. A mine's record from its call to the simulator recording it (the
//    simulator's `at`, taken once it has read and parsed the body; the send time is taken on the
//    same clock just before the request), through the relay versus straight to the simulator, with
//    the same number of concurrent senders, side by side: each level runs in rounds of at most 500
//    records per path, every path once per round, in rotating order. Sender i sends for mine i,
//    camera 10: one queue key per sender (ESEAL_BENCH_FWD_KEYS_PER_SENDER for more). Paths:
//      direct       mine → simulator; a sender's next record after the simulator's answer
//      relay        mine → relay → simulator; a sender's next record once the relay answered AND the
//                   simulator recorded the previous one: at most one record per sender on its way,
//                   as on the direct path. added = p(relay) − p(direct), p50 and p99: the target.
//      relay, mine's pace  a sender's next record as soon as the relay answers (what a mine does).
//                   Where mines send faster than the relay forwards, records queue in the relay and
//                   this latency grows with the length of the burst (500 records a round): it is
//                   shown, with the rate forwarded against the rate accepted, not held to the target.
//
// Where the simulator runs: in this process, with the mine clients (the load generator). Simulator,
// relay and clients share the machine's 2 cores; with the simulator in a third process the relay path
// would have three busy processes on two cores (and the direct path two), charging the relay for CPU
// contention that separate machines do not have. In one process the relay path has exactly one
// process more than the direct path, as in production. It also gives the simulator and the clients
// one clock (performance.timeOrigin + performance.now(), sub-millisecond, passed as the simulator's
// `now`), and lets this process see each call the simulator answers (its log hook) without polling.
//
//   node --import tsx test/bench/forward.ts      (or npm run bench -- forward; about 40 s)
//
// Knobs (environment, all optional):
//   ESEAL_BENCH_FWD_RECORDS          records in the backlog (2000)
//   ESEAL_BENCH_FWD_VIDEOS           videos in the backlog (60)
//   ESEAL_BENCH_FWD_VIDEO_BYTES      bytes per video (1000000): an ffmpeg H.264 clip padded with random bytes
//   ESEAL_BENCH_FWD_BANDWIDTH        the simulator's cap in bytes/s during the drain (20000000)
//   ESEAL_BENCH_FWD_EVIDENCE         the relay's forward.concurrency.evidence, and the baseline's video senders (4)
//   ESEAL_BENCH_FWD_RECORD_LANE      the relay's forward.concurrency.record, and the baseline's record senders (the relay's default)
//   ESEAL_BENCH_FWD_MINES            mines the backlog comes from, two cameras each (10: 20 queue keys per kind)
//   ESEAL_BENCH_FWD_LATENCY_RECORDS  records per path and level in the latency measurement (4000)
//   ESEAL_BENCH_FWD_SENDERS          concurrent senders per level, comma-separated (1,16)
//   ESEAL_BENCH_FWD_KEYS_PER_SENDER  mines each latency sender sends for in turn, a record each (1)
//   ESEAL_BENCH_FWD_ONLY             latency or drain: only that part (both)
//   ESEAL_BENCH_FWD_VERIFY_BASELINE  0: no second drain without the SM3 check of videos (1)
//   ESEAL_BENCH_LOG_LEVEL, ESEAL_BENCH_CPU_PROF (the relay's profile lands in <dir>/forward): see lib.ts

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pool } from 'undici';
import { NationalClient, type ApiAnswer } from '../../src/client/NationalClient.ts';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatEvidenceFileName, formatJsonTime } from '../../src/contract/index.ts';
import { DEFAULT_CONFIG } from '../../app/config.ts';
import { NationalSimulator, type ReceivedItem, type SimLogger } from '../../sim/national/index.ts';
import { makeVideo, padMp4ToSize } from '../helpers/media.ts';
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
  ownCpuSeconds,
  percentile,
  printProfile,
  printTable,
  runBenchmark,
  sleep,
  startRelayChild,
  summarize,
  type Figure,
  type RelayChild,
} from './lib.ts';

const USER = 'bench003';
const PASSWORD = 'National+bench/3';
const MB = 1_000_000;
const TARGET_DRAIN_SHARE = 0.9;
const TARGET_ADDED_P99_MS = 20;
/** the relay's forward.concurrency.status (its default; no status calls here) */
const STATUS_LANE = 8;
/** senders the mine queues the backlog with (not measured) */
const QUEUE_RECORD_SENDERS = 16;
const QUEUE_VIDEO_SENDERS = 4;
/** records per path in one round of the latency measurement, at most */
const ROUND_RECORDS = 500;
const WARMUP_RECORDS = 200;
const PERSON = RECORD_ENDPOINTS.person;
const PERSON_VIDEO = EVIDENCE_ENDPOINTS.personVideo;
const SHARING = 'the relay child process and this process (the mine clients and the national-platform simulator)';

/** The clock of the latency figures: ms since the epoch with sub-ms resolution; the simulator's `now` too. */
const clock = (): number => performance.timeOrigin + performance.now();

// ---- what is sent: distinct records and file names ----

function mineId(i: number): string {
  return `140421${String(i).padStart(6, '0')}`;
}

let recordCounter = 0;
let videoCounter = 0;
const baseTime = Date.now();

type PersonRecord = { mineId: string; cameraId: string; aiTypeCode: string; inWellNumber: string; time: string };

/** A record no other one equals (inWellNumber and time follow a counter), on the relay's clock-skew side of safe. */
function nextRecord(mine: string, camera: string): PersonRecord {
  const n = recordCounter++;
  return {
    mineId: mine,
    cameraId: camera,
    aiTypeCode: '01',
    inWellNumber: String(n % 10_000).padStart(4, '0'),
    time: formatJsonTime(baseTime - Math.floor(n / 10_000) * 1000),
  };
}

function recordKey(r: Record<string, unknown>): string {
  return `${String(r['mineId'])}|${String(r['cameraId'])}|${String(r['inWellNumber'])}|${String(r['time'])}`;
}

function nextVideoName(mine: string, camera: string): string {
  const n = videoCounter++;
  return formatEvidenceFileName('count', { mineId: mine, cameraId: camera, aiTypeCode: '01', count: '0001', time: baseTime - n * 1000 });
}

/** `count` distinct H.264 MP4 files of exactly `bytes`: one ffmpeg clip, padded, the padding random per file. */
async function makeVideos(dir: string, count: number, bytes: number): Promise<string[]> {
  const clip = await makeVideo(dir, { seconds: 2, width: 320, height: 240 });
  const clipBytes = (await stat(clip)).size;
  if (clipBytes + 8 > bytes) throw new Error(`ESEAL_BENCH_FWD_VIDEO_BYTES: ${bytes} is smaller than the clip (${clipBytes} bytes) and its padding header`);
  const padStart = clipBytes + 8; // after the free box's header
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(dir, `video-${String(i).padStart(4, '0')}.mp4`);
    await padMp4ToSize(clip, path, bytes);
    const handle = await open(path, 'r+');
    try {
      await handle.write(randomBytes(bytes - padStart), 0, bytes - padStart, padStart);
      await handle.sync();
    } finally {
      await handle.close();
    }
    files.push(path);
  }
  return files;
}

// ---- what the simulator answered, as it happens (its log hook) ----

/** Sees every call the simulator answers: when (on `clock`), and wakes a sender waiting for its mine's record. */
class Arrivals implements SimLogger {
  /** seq of a recorded item → when its answer was sent */
  readonly answeredAt = new Map<number, number>();
  readonly #waiting = new Map<string, () => void>();

  info(obj: object, msg?: string): void {
    if (msg !== 'call') return;
    const o = obj as { outcome?: unknown; seq?: unknown; mineId?: unknown };
    if (o.outcome !== 'ok' || typeof o.seq !== 'number') return;
    this.answeredAt.set(o.seq, clock());
    if (typeof o.mineId === 'string') {
      const wake = this.#waiting.get(o.mineId);
      if (wake) {
        this.#waiting.delete(o.mineId);
        wake();
      }
    }
  }

  warn(): void {}

  debug(): void {}

  /** Resolves when the simulator next records a call of `mine` (cancel: stop waiting, resolves too). */
  next(mine: string, timeoutMs: number): { arrived: Promise<void>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    let cancel = () => {};
    const arrived = new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiting.set(mine, done);
      cancel = () => {
        if (this.#waiting.get(mine) === done) this.#waiting.delete(mine);
        done();
      };
      timer = setTimeout(() => {
        this.#waiting.delete(mine);
        reject(new Error(`no record of mine ${mine} reached the simulator within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    // handled when awaited; this only keeps a timeout during the mine's own call from counting as unhandled
    arrived.catch(() => {});
    return { arrived, cancel: () => cancel() };
  }
}

async function until(cond: () => boolean, timeoutMs: number, what: () => string, everyMs = 5): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await sleep(everyMs);
  }
}

/** Items the simulator has recorded, duplicates left out (a redelivery would be one). */
function recordedOnce(sim: NationalSimulator): number {
  const s = sim.stats();
  return s.received - s.duplicates;
}

interface Cpu {
  /** the relay child, all threads */
  relay: number;
  /** of it, its JavaScript main thread */
  relayMain: number;
  own: number;
  /** CPU of anything else on the machine, core-seconds */
  foreign: number;
  seconds: number;
}

/** Wall time and CPU of the relay, of this process and of the rest of the machine while `task` runs. */
async function measured<T>(relay: RelayChild, task: () => Promise<T>): Promise<{ result: T; cpu: Cpu }> {
  const ours = () => ownCpuSeconds() + relay.cpuSeconds();
  const relay0 = relay.cpuSplit();
  const own0 = ownCpuSeconds();
  const foreign = foreignLoad(ours());
  const t0 = clock();
  const result = await task();
  const seconds = (clock() - t0) / 1000;
  const relay1 = relay.cpuSplit();
  const relayMain = relay1.main - relay0.main;
  return {
    result,
    cpu: { relay: relayMain + relay1.others - relay0.others, relayMain, own: ownCpuSeconds() - own0, foreign: foreign(ours()) * seconds, seconds },
  };
}

function addCpu(a: Cpu, b: Cpu): Cpu {
  return { relay: a.relay + b.relay, relayMain: a.relayMain + b.relayMain, own: a.own + b.own, foreign: a.foreign + b.foreign, seconds: a.seconds + b.seconds };
}

const NO_CPU: Cpu = { relay: 0, relayMain: 0, own: 0, foreign: 0, seconds: 0 };

// ---- 2. added latency ----

type Path = 'direct' | 'relay' | 'relayFree';
const PATHS: Path[] = ['direct', 'relay', 'relayFree'];
const PATH_NAMES: Record<Path, string> = {
  direct: 'direct to the simulator',
  relay: 'via the relay (next after upstream)',
  relayFree: "via the relay, mine's pace",
};

interface LatencyEnv {
  sim: NationalSimulator;
  arrivals: Arrivals;
  relay: RelayChild;
  relayToken: string;
  directToken: string;
  /** mines (queue keys) each sender sends for in turn */
  keysPerSender: number;
}

interface PathRun {
  sent: number;
  ok: number;
  /** records answered success that the simulator never recorded */
  missing: number;
  /** recorded upstream more than once */
  duplicates: number;
  /** mine's call → simulator's `at`, ms */
  toPlatform: number[];
  /** mine's call → its answer (the relay's or the simulator's), ms */
  answer: number[];
  /** the mine's answer → the simulator's `at`, ms (via the relay: the forwarding part, after the record was durable) */
  afterAnswer: number[];
  /** seconds from the first call to the last record upstream */
  seconds: number;
  /** seconds from the first call to the last answer the mine got */
  sendSeconds: number;
  failures: Map<string, number>;
  cpu: Cpu;
}

function emptyRun(): PathRun {
  return { sent: 0, ok: 0, missing: 0, duplicates: 0, toPlatform: [], answer: [], afterAnswer: [], seconds: 0, sendSeconds: 0, failures: new Map(), cpu: NO_CPU };
}

function mergeRun(into: PathRun, r: PathRun): void {
  into.sent += r.sent;
  into.ok += r.ok;
  into.missing += r.missing;
  into.duplicates += r.duplicates;
  into.toPlatform.push(...r.toPlatform);
  into.answer.push(...r.answer);
  into.afterAnswer.push(...r.afterAnswer);
  into.seconds += r.seconds;
  into.sendSeconds += r.sendSeconds;
  for (const [k, v] of r.failures) into.failures.set(k, (into.failures.get(k) ?? 0) + v);
  into.cpu = addCpu(into.cpu, r.cpu);
}

async function latencyRun(env: LatencyEnv, pool: Pool, path: Path, senders: number, count: number): Promise<PathRun> {
  const { sim, arrivals } = env;
  const token = path === 'direct' ? env.directToken : env.relayToken;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const seqBefore = sim.stats().lastSeq;
  const recordedBefore = recordedOnce(sim);
  const sentAt = new Map<string, number>();
  const answeredAt = new Map<string, number>();
  const run = emptyRun();
  const fail = (why: string) => run.failures.set(why, (run.failures.get(why) ?? 0) + 1);
  let left = count;
  const { cpu } = await measured(env.relay, async () => {
    const sender = async (s: number) => {
      let own = 0;
      while (left > 0) {
        left--;
        const mine = mineId(s * env.keysPerSender + (own++ % env.keysPerSender));
        const record = nextRecord(mine, '10');
        const key = recordKey(record);
        const body = JSON.stringify(record);
        const upstream = path === 'relay' ? arrivals.next(mine, 30_000) : undefined;
        const t0 = clock();
        sentAt.set(key, t0);
        run.sent++;
        let ok = false;
        try {
          const res = await pool.request({ path: PERSON.path, method: 'POST', headers, body });
          const text = await res.body.text();
          const t1 = clock();
          if (res.statusCode === 200 && (JSON.parse(text) as { code?: number }).code === 0) {
            ok = true;
            run.ok++;
            run.answer.push(t1 - t0);
            answeredAt.set(key, t1);
          } else {
            fail(`HTTP ${res.statusCode} ${text.slice(0, 120)}`);
          }
        } catch (err) {
          fail(`error ${(err as Error).message}`);
        }
        if (!ok) {
          sentAt.delete(key);
          upstream?.cancel();
        }
        if (upstream) await upstream.arrived;
      }
    };
    const t0 = clock();
    await Promise.all(Array.from({ length: senders }, (_, s) => sender(s)));
    run.sendSeconds = (clock() - t0) / 1000;
    // every record answered success is upstream before the next run starts
    await until(
      () => recordedOnce(sim) - recordedBefore >= run.ok,
      60_000,
      () => `${run.ok - (recordedOnce(sim) - recordedBefore)} of ${run.ok} records to reach the simulator (${path}, ${senders} senders)`,
      2,
    );
  });
  run.cpu = cpu;
  run.seconds = cpu.seconds;
  const seen = new Set<string>();
  for (const item of sim.received({ since: seqBefore })) {
    if (!item.record) continue;
    const key = recordKey(item.record);
    const t0 = sentAt.get(key);
    if (t0 === undefined) continue;
    if (seen.has(key)) {
      run.duplicates++;
      continue;
    }
    seen.add(key);
    run.toPlatform.push(item.at - t0);
    run.afterAnswer.push(item.at - answeredAt.get(key)!);
  }
  run.missing = run.ok - seen.size;
  return run;
}

interface Level {
  senders: number;
  runs: Record<Path, PathRun>;
}

async function latencyLevel(env: LatencyEnv, senders: number, perPath: number): Promise<Level> {
  const pools: Record<'direct' | 'relay', Pool> = {
    direct: new Pool(env.sim.url, { connections: senders, pipelining: 1, keepAliveTimeout: 60_000 }),
    relay: new Pool(env.relay.url, { connections: senders, pipelining: 1, keepAliveTimeout: 60_000 }),
  };
  const poolOf = (p: Path) => (p === 'direct' ? pools.direct : pools.relay);
  try {
    for (const p of PATHS) {
      const warm = await latencyRun(env, poolOf(p), p, senders, Math.min(WARMUP_RECORDS, perPath));
      if (warm.failures.size || warm.missing) throw new Error(`warm-up (${p}, ${senders} senders) failed: ${JSON.stringify([...warm.failures])}, ${warm.missing} missing`);
    }
    const runs: Record<Path, PathRun> = { direct: emptyRun(), relay: emptyRun(), relayFree: emptyRun() };
    const rounds = Math.max(1, Math.ceil(perPath / ROUND_RECORDS));
    for (let round = 0; round < rounds; round++) {
      const share = Math.floor(((round + 1) * perPath) / rounds) - Math.floor((round * perPath) / rounds);
      for (let i = 0; i < PATHS.length; i++) {
        const p = PATHS[(round + i) % PATHS.length]!;
        mergeRun(runs[p], await latencyRun(env, poolOf(p), p, senders, share));
      }
    }
    return { senders, runs };
  } finally {
    await Promise.all([pools.direct.close(), pools.relay.close()]);
  }
}

// ---- 1. backlog drain ----

interface BacklogItem {
  kind: 'record' | 'video';
  record?: PersonRecord;
  fileName?: string;
  path?: string;
  size?: number;
}

/** `records` records and one video per file, spread over `mines` mines × cameras 10 and 20, each with a new name. */
function makeBacklog(records: number, files: string[], videoBytes: number, mines: number): BacklogItem[] {
  const where = (i: number) => ({ mine: mineId(1000 + (i % mines)), camera: Math.floor(i / mines) % 2 === 0 ? '10' : '20' });
  const items: BacklogItem[] = [];
  for (let i = 0; i < records; i++) {
    const { mine, camera } = where(i);
    items.push({ kind: 'record', record: nextRecord(mine, camera) });
  }
  files.forEach((path, i) => {
    const { mine, camera } = where(i);
    items.push({ kind: 'video', fileName: nextVideoName(mine, camera), path, size: videoBytes });
  });
  return items;
}

function answerFailure(a: ApiAnswer): string | undefined {
  return a.status === 200 && a.envelope?.code === 0 ? undefined : `HTTP ${a.status} ${a.text.slice(0, 120)}`;
}

/** Sends the backlog with NationalClient: records and videos at once, each kind with its own senders. */
async function sendBacklog(client: NationalClient, token: string, items: BacklogItem[], recordSenders: number, videoSenders: number): Promise<Map<string, number>> {
  const failures = new Map<string, number>();
  const fail = (why: string) => failures.set(why, (failures.get(why) ?? 0) + 1);
  const lane = async (kind: BacklogItem['kind'], senders: number) => {
    const queue = items.filter((i) => i.kind === kind);
    let next = 0;
    const sender = async () => {
      while (next < queue.length) {
        const item = queue[next++]!;
        try {
          const a =
            kind === 'record'
              ? await client.sendRecord(PERSON, item.record, token)
              : await client.sendEvidence(PERSON_VIDEO, item.fileName!, item.size!, createReadStream(item.path!, { highWaterMark: 256 * 1024 }), token);
          const why = answerFailure(a);
          if (why) fail(why);
        } catch (err) {
          fail(`error ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: senders }, sender));
  };
  await Promise.all([lane('record', recordSenders), lane('video', videoSenders)]);
  return failures;
}

interface Drain {
  items: number;
  records: number;
  videos: number;
  /** request-body bytes the simulator read (records, videos and multipart framing) */
  bodyBytes: number;
  videoBytes: number;
  /** from the first item reaching the simulator to the last one answered, s */
  seconds: number;
  /** from the start (the port up, or the first call of the baseline) to the first item reaching the simulator, s */
  waitSeconds: number;
  /** from the first item to the last record / last video answered, s */
  recordsSeconds: number;
  videosSeconds: number;
  itemsPerSecond: number;
  mbPerSecond: number;
  /** MB/s of the videos alone, from the first video's arrival to the last video's answer */
  videoMbPerSecond: number;
  duplicates: number;
  cpu: Cpu;
}

/** Waits until the simulator recorded `expected` more items, then reads the drain's timeline. */
async function awaitDrain(
  sim: NationalSimulator,
  arrivals: Arrivals,
  before: { seq: number; recorded: number; bodyBytes: number; duplicates: number },
  expected: number,
  start: number,
  timeoutMs: number,
): Promise<Omit<Drain, 'cpu'>> {
  await until(
    () => recordedOnce(sim) - before.recorded >= expected,
    timeoutMs,
    () => `${expected - (recordedOnce(sim) - before.recorded)} of ${expected} backlog items to reach the simulator`,
    2,
  );
  const items: ReceivedItem[] = sim.received({ since: before.seq });
  const stats = sim.stats();
  let first = Infinity;
  let last = -Infinity;
  let recordsDone = -Infinity;
  let videosDone = -Infinity;
  let firstVideo = Infinity;
  let videoBytes = 0;
  let records = 0;
  let videos = 0;
  for (const item of items) {
    const answered = arrivals.answeredAt.get(item.seq) ?? item.at;
    first = Math.min(first, item.at);
    last = Math.max(last, answered);
    if (item.file) {
      videos++;
      videoBytes += item.file.size;
      firstVideo = Math.min(firstVideo, item.at);
      videosDone = Math.max(videosDone, answered);
    } else {
      records++;
      recordsDone = Math.max(recordsDone, answered);
    }
  }
  const seconds = (last - first) / 1000;
  const bodyBytes = stats.bodyBytes - before.bodyBytes;
  return {
    items: items.length,
    records,
    videos,
    bodyBytes,
    videoBytes,
    seconds,
    waitSeconds: (first - start) / 1000,
    recordsSeconds: (recordsDone - first) / 1000,
    videosSeconds: (videosDone - first) / 1000,
    itemsPerSecond: items.length / seconds,
    mbPerSecond: bodyBytes / MB / seconds,
    videoMbPerSecond: videoBytes / MB / ((videosDone - firstVideo) / 1000),
    duplicates: stats.duplicates - before.duplicates,
  };
}

function simMark(sim: NationalSimulator): { seq: number; recorded: number; bodyBytes: number; duplicates: number } {
  const s = sim.stats();
  return { seq: s.lastSeq, recorded: s.received - s.duplicates, bodyBytes: s.bodyBytes, duplicates: s.duplicates };
}

interface Drained {
  drain: Drain;
  direct: Drain;
  /** the same backlog through a relay that sends videos without checking them against their SM3 */
  unverified?: Drain;
  /** seconds the mine took to queue the backlog in the relay */
  queueSeconds: number;
}

async function runDrain(o: {
  sim: NationalSimulator;
  arrivals: Arrivals;
  relay: RelayChild;
  relayToken: string;
  directToken: string;
  files: string[];
  videoBytes: number;
  backlogRecords: number;
  cap: number;
  mines: number;
  recordLane: number;
  evidenceLane: number;
  /** starts the relay without the SM3 check of videos, for the second drain */
  unverified?: () => Promise<{ relay: RelayChild; token: string }>;
}): Promise<Drained> {
  const { sim, arrivals, relay, relayToken, directToken, files, videoBytes, backlogRecords, cap, mines, recordLane, evidenceLane } = o;
  const backlogVideos = files.length;
  console.log(
    `\ndrain: backlog of ${fmt(backlogRecords)} records + ${fmt(backlogVideos)} videos of ${fmt(videoBytes)} bytes from ${mines} mines × cameras 10, 20 ` +
      `(${mines * 2} queue keys per kind), simulator capped at ${fmt(cap / MB, 1)} MB/s (all request bodies together)`,
  );
  const { drain, queueSeconds } = await drainThrough(o, relay, relayToken, 'via the relay');
  let unverified: Drain | undefined;
  if (o.unverified) {
    const second = await o.unverified();
    unverified = (await drainThrough(o, second.relay, second.token, 'via a relay without the SM3 check of videos (ESEAL_BENCH_FORWARD_UNVERIFIED=1)')).drain;
    console.log(
      `  verification's cost: drain ${fmt(drain.seconds, 2)} s verified vs ${fmt(unverified.seconds, 2)} s unverified (${fmt(drain.seconds / unverified.seconds, 3)}×), ` +
        `relay CPU ${fmt(drain.cpu.relay, 2)} s vs ${fmt(unverified.cpu.relay, 2)} s (${fmt(drain.cpu.relay / unverified.cpu.relay, 3)}×)`,
    );
  }
  const total = backlogRecords + backlogVideos;

  // the baseline: the same backlog, new names, straight to the simulator at the relay's lane concurrency
  let direct: Drain;
  {
    const again = makeBacklog(backlogRecords, files, videoBytes, mines);
    const client = new NationalClient({ url: sim.url });
    try {
      const before = simMark(sim);
      const { result, cpu } = await measured(relay, async () => {
        const start = clock();
        const failures = await sendBacklog(client, directToken, again, recordLane, evidenceLane);
        if (failures.size) throw new Error(`the direct baseline failed: ${describeFailures(failures)}`);
        return awaitDrain(sim, arrivals, before, total, start, 60_000);
      });
      direct = { ...result, cpu };
    } finally {
      await client.close();
    }
  }
  console.log(
    `  direct (baseline): ${fmt(direct.items)} items, ${fmt(direct.bodyBytes / MB, 1)} MB in ${fmt(direct.seconds, 2)} s = ${fmt(direct.itemsPerSecond)} items/s, ` +
      `${fmt(direct.mbPerSecond, 2)} MB/s (${fmt(direct.mbPerSecond / (cap / MB), 2)}× the cap)`,
  );
  return { drain, direct, ...(unverified ? { unverified } : {}), queueSeconds };
}

/** Queues a new backlog in `relay` while the simulator is down, brings the simulator up and measures the drain. */
async function drainThrough(
  o: { sim: NationalSimulator; arrivals: Arrivals; files: string[]; videoBytes: number; backlogRecords: number; cap: number; mines: number },
  relay: RelayChild,
  relayToken: string,
  what: string,
): Promise<{ drain: Drain; queueSeconds: number }> {
  const { sim, arrivals, files, videoBytes, backlogRecords, cap, mines } = o;
  const backlog = makeBacklog(backlogRecords, files, videoBytes, mines);
  const total = backlog.length;
  await sim.setFaults({ down: true, bandwidthBytesPerSec: cap });
  let queueing: { seconds: number; failures: Map<string, number> };
  {
    const client = new NationalClient({ url: relay.url });
    try {
      const { result, cpu } = await measured(relay, () => sendBacklog(client, relayToken, backlog, QUEUE_RECORD_SENDERS, QUEUE_VIDEO_SENDERS));
      queueing = { seconds: cpu.seconds, failures: result };
    } finally {
      await client.close();
    }
  }
  if (queueing.failures.size) throw new Error(`queueing the backlog in the relay failed: ${describeFailures(queueing.failures)}`);
  console.log(
    `  queued in the relay while the simulator was down (connection refused): ${fmt(total)} items in ${fmt(queueing.seconds, 1)} s ` +
      `(${QUEUE_RECORD_SENDERS} record and ${QUEUE_VIDEO_SENDERS} video senders); waiting 1.5 s for the first retries' back-off (≤ 1 s) to run out`,
  );
  await sleep(1500);
  let drain: Drain;
  {
    const before = simMark(sim);
    const { result, cpu } = await measured(relay, async () => {
      await sim.setFaults({ down: false });
      const up = clock();
      return awaitDrain(sim, arrivals, before, total, up, 180_000);
    });
    drain = { ...result, cpu };
  }
  console.log(
    `  ${what}: ${fmt(drain.items)} items, ${fmt(drain.bodyBytes / MB, 1)} MB in ${fmt(drain.seconds, 2)} s = ${fmt(drain.itemsPerSecond)} items/s, ` +
      `${fmt(drain.mbPerSecond, 2)} MB/s (${fmt(drain.mbPerSecond / (cap / MB), 2)}× the cap); port up → first item ${fmt(drain.waitSeconds, 2)} s`,
  );
  return { drain, queueSeconds: queueing.seconds };
}

// ---- the run ----

function describeFailures(failures: Map<string, number>): string {
  return [...failures].map(([why, n]) => `${n} × ${why}`).join('; ');
}

async function main(): Promise<void> {
  const backlogRecords = envNumber('ESEAL_BENCH_FWD_RECORDS', 2000);
  const backlogVideos = envNumber('ESEAL_BENCH_FWD_VIDEOS', 60);
  const videoBytes = envNumber('ESEAL_BENCH_FWD_VIDEO_BYTES', 1_000_000);
  const cap = envNumber('ESEAL_BENCH_FWD_BANDWIDTH', 20_000_000);
  const evidenceLane = envNumber('ESEAL_BENCH_FWD_EVIDENCE', 4);
  const recordLane = envNumber('ESEAL_BENCH_FWD_RECORD_LANE', DEFAULT_CONFIG.forward.concurrency.record);
  const only = process.env['ESEAL_BENCH_FWD_ONLY'] ?? '';
  if (!['', 'latency', 'drain'].includes(only)) throw new Error(`ESEAL_BENCH_FWD_ONLY: latency or drain, got ${JSON.stringify(only)}`);
  const mines = envNumber('ESEAL_BENCH_FWD_MINES', 10);
  const perPath = envNumber('ESEAL_BENCH_FWD_LATENCY_RECORDS', 4000);
  const levels = envList('ESEAL_BENCH_FWD_SENDERS', [1, 16]);
  const keysPerSender = envNumber('ESEAL_BENCH_FWD_KEYS_PER_SENDER', 1);
  const profDir = process.env['ESEAL_BENCH_CPU_PROF'] ? join(process.env['ESEAL_BENCH_CPU_PROF'], 'forward') : undefined;
  console.log('\n== forward: relay → national-platform simulator (backlog drain under a bandwidth cap; added latency of a record) ==');
  console.log(machineLine(SHARING));

  const work = await makeTempDir('eseal-bench-forward-');
  const sources = join(work, 'sources');
  await mkdir(sources);
  const made0 = clock();
  const files = await makeVideos(sources, backlogVideos, videoBytes);
  console.log(`made ${files.length} distinct H.264 MP4 files of ${fmt(videoBytes)} bytes (ffmpeg clip + random padding) in ${fmt((clock() - made0) / 1000, 1)} s`);

  const arrivals = new Arrivals();
  const sim = await NationalSimulator.start({
    accounts: [{ username: USER, password: PASSWORD, org: 'bench' }],
    seed: 1,
    now: clock,
    log: arrivals,
  });
  const configFile = join(work, 'eseal.yaml');
  await writeFile(
    configFile,
    `forward:\n  concurrency: { status: ${STATUS_LANE}, record: ${recordLane}, evidence: ${evidenceLane} }\n  bandwidthBytesPerSecond: 0\n`,
  );
  let relay: RelayChild | undefined;
  let unverifiedRelay: RelayChild | undefined;
  const verifyBaseline = envNumber('ESEAL_BENCH_FWD_VERIFY_BASELINE', 1) !== 0;
  const levelsDone: Level[] = [];
  let drained: Drained | undefined;
  try {
    relay = await startRelayChild(join(work, 'relay'), {
      args: ['--config', configFile],
      env: { ESEAL_UPSTREAM_URL: sim.url },
      ...(profDir ? { cpuProfDir: profDir } : {}),
    });
    console.log(
      `relay: child pid ${relay.pid} at ${relay.url} (plain HTTP), log level ${relay.logLevel}, upstream ${sim.url} (passthrough: the mine logs in with its national account); ` +
        `forward.concurrency { status ${STATUS_LANE}, record ${recordLane}, evidence ${evidenceLane} }, forward.bandwidthBytesPerSecond 0, breaker and retry at their defaults`,
    );
    console.log(`simulator: in this process, with the mine clients (why: see the top of test/bench/forward.ts); its clock = this process's, sub-ms`);

    const relayMine = new GuideMine(relay.url, USER, PASSWORD);
    const directMine = new GuideMine(sim.url, USER, PASSWORD);
    for (const [what, m] of [['relay', relayMine], ['simulator', directMine]] as const) {
      const login = await m.login();
      if (login.status !== 200) throw new Error(`login at the ${what} failed: ${login.status} ${JSON.stringify(login.body)}`);
    }
    const env: LatencyEnv = { sim, arrivals, relay, relayToken: relayMine.token, directToken: directMine.token, keysPerSender };

    // ---- 2. added latency (first: an empty queue, nothing capped) ----
    if (only !== 'drain') console.log(
      `\nlatency: per level ${fmt(perPath)} records per path after ${WARMUP_RECORDS} warm-up each, in ${Math.max(1, Math.ceil(perPath / ROUND_RECORDS))} rounds (each round every path once, rotating order); ` +
        (keysPerSender === 1
          ? `sender i = mine ${mineId(0)}+i, camera 10 (one queue key per sender)`
          : `sender i = mines ${mineId(0)}+${keysPerSender}i … +${keysPerSender - 1} in turn, camera 10 (${keysPerSender} queue keys per sender)`) +
        '; undici Pool, one keep-alive connection per sender',
    );
    for (const senders of only === 'drain' ? [] : levels) {
      const level = await latencyLevel(env, senders, perPath);
      levelsDone.push(level);
      const d = summarize(level.runs.direct.toPlatform);
      const line = (p: Path) => {
        const s = summarize(level.runs[p].toPlatform);
        const r = level.runs[p];
        const bad = [...r.failures.values()].reduce((a, b) => a + b, 0);
        return `${PATH_NAMES[p]} p50 ${fmt(s.p50, 2)} / p99 ${fmt(s.p99, 2)} ms (added ${fmt(s.p50 - d.p50, 2)} / ${fmt(s.p99 - d.p99, 2)})${bad ? `, ${bad} FAILED` : ''}${r.missing ? `, ${r.missing} MISSING` : ''}`;
      };
      console.log(`  ${String(senders).padStart(2)} sender${senders === 1 ? ' ' : 's'}: direct p50 ${fmt(d.p50, 2)} / p99 ${fmt(d.p99, 2)} ms; ${line('relay')}; ${line('relayFree')}`);
      for (const p of PATHS) if (level.runs[p].failures.size) console.log(`      ${p}: ${describeFailures(level.runs[p].failures)}`);
    }

    // ---- 1. backlog drain (second: the queue holds only delivered items) ----
    if (only !== 'latency') {
      // the baseline of verification's cost: the same relay, the SM3 check of videos off (a benchmark-only switch)
      const unverified = async () => {
        unverifiedRelay = await startRelayChild(join(work, 'relay-unverified'), {
          args: ['--config', configFile],
          env: { ESEAL_UPSTREAM_URL: sim.url, ESEAL_BENCH_FORWARD_UNVERIFIED: '1' },
        });
        const m = new GuideMine(unverifiedRelay.url, USER, PASSWORD);
        const login = await m.login();
        if (login.status !== 200) throw new Error(`login at the unverified relay failed: ${login.status} ${JSON.stringify(login.body)}`);
        return { relay: unverifiedRelay, token: m.token };
      };
      drained = await runDrain({
        sim,
        arrivals,
        relay,
        relayToken: relayMine.token,
        directToken: directMine.token,
        files,
        videoBytes,
        backlogRecords,
        cap,
        mines,
        recordLane,
        evidenceLane,
        ...(verifyBaseline ? { unverified } : {}),
      });
    }
  } catch (err) {
    if (relay) console.error(`relay output (last lines):\n${relay.tail()}`);
    if (unverifiedRelay) console.error(`unverified relay output (last lines):\n${unverifiedRelay.tail()}`);
    throw err;
  } finally {
    await relay?.stop();
    await unverifiedRelay?.stop();
    await sim.close();
  }

  // ---- tables ----
  const pct = (cores: number) => `${fmt(cores * 100)}%`;
  if (levelsDone.length) printTable(
    'forward: a record from the mine\'s call to the simulator recording it (ms; added = via the relay − direct)',
    ['senders', 'path', 'records', 'p50', 'p99', 'max', 'added p50', 'added p99', 'answer p50', 'answer p99', 'answer→up p50', 'answer→up p99', 'answered/s', 'upstream/s', 'relay CPU', 'of it main', 'client+sim CPU', 'other load', 'failed', 'missing', 'twice'],
    levelsDone.flatMap((level) => {
      const d = summarize(level.runs.direct.toPlatform);
      return PATHS.map((p) => {
        const r = level.runs[p];
        const s = summarize(r.toPlatform);
        const a = summarize(r.answer);
        return [
          String(level.senders),
          PATH_NAMES[p],
          fmt(s.n),
          fmt(s.p50, 2),
          fmt(s.p99, 2),
          fmt(s.max, 1),
          p === 'direct' ? '–' : fmt(s.p50 - d.p50, 2),
          p === 'direct' ? '–' : fmt(s.p99 - d.p99, 2),
          fmt(a.p50, 2),
          fmt(a.p99, 2),
          p === 'direct' ? '–' : fmt(percentile(r.afterAnswer, 50), 2),
          p === 'direct' ? '–' : fmt(percentile(r.afterAnswer, 99), 2),
          fmt(r.ok / r.sendSeconds),
          fmt(r.ok / r.seconds),
          pct(r.cpu.relay / r.cpu.seconds),
          pct(r.cpu.relayMain / r.cpu.seconds),
          pct(r.cpu.own / r.cpu.seconds),
          pct(r.cpu.foreign / r.cpu.seconds),
          String([...r.failures.values()].reduce((x, y) => x + y, 0)),
          String(r.missing),
          String(r.duplicates),
        ];
      });
    }),
  );
  if (levelsDone.length) console.log(
    `(p50/p99/max: the mine's call → the simulator's \`at\` (after it read and parsed the body), one clock, sub-ms; answer: the mine's call → the answer it got ` +
      `(the relay answers once the record is durable, and forwards it from then on); answer→up: from that answer to the simulator's \`at\` ` +
      `(via the relay: the forwarding part); answered/s: records answered per second while the senders ran; upstream/s: records ` +
      `recorded by the simulator per second until the last one arrived; CPU in % of one core (200% = both cores) over the path's runs: the relay child (of it its ` +
      `JavaScript main thread) and this process (mine clients + simulator); other load: anything else on the machine; twice: recorded upstream twice.)`,
  );
  if (drained) {
    const { drain, direct } = drained;
    const rows = [
      ['via the relay', drain],
      ...(drained.unverified ? ([['via the relay, videos unverified', drained.unverified]] as const) : []),
      ['direct (baseline)', direct],
    ] as const;
    printTable(
      `forward: draining a backlog of ${fmt(backlogRecords)} records + ${fmt(backlogVideos)} × ${fmt(videoBytes / MB, 1)} MB videos into a simulator capped at ${fmt(cap / MB, 1)} MB/s`,
      ['path', 'items', 'MB', 'seconds', 'items/s', 'MB/s', 'of cap', 'videos MB/s', 'records done s', 'videos done s', 'wait s', 'relay CPU', 'of it main', 'client+sim CPU', 'other load', 'twice'],
      rows.map(([name, r]) => [
        name,
        fmt(r.items),
        fmt(r.bodyBytes / MB, 1),
        fmt(r.seconds, 2),
        fmt(r.itemsPerSecond),
        fmt(r.mbPerSecond, 2),
        `${fmt(r.mbPerSecond / (cap / MB), 2)}×`,
        fmt(r.videoMbPerSecond, 2),
        fmt(r.recordsSeconds, 2),
        fmt(r.videosSeconds, 2),
        fmt(r.waitSeconds, 2),
        pct(r.cpu.relay / r.cpu.seconds),
        pct(r.cpu.relayMain / r.cpu.seconds),
        pct(r.cpu.own / r.cpu.seconds),
        pct(r.cpu.foreign / r.cpu.seconds),
        String(r.duplicates),
      ]),
    );
    console.log(
      `(seconds: from the first item reaching the simulator to the last one answered; MB: request-body bytes the simulator read (videos, records, multipart framing); ` +
        `records/videos done: seconds from that first item to the last record / video answered; wait: from the port coming up (relay) or the first call (direct) to the first item ` +
        `(the relay's breaker probes every forward.breaker.probeSeconds); CPU over the whole wait + drain, % of one core. The relay queued the backlog in ${fmt(drained.queueSeconds, 1)} s.)`,
    );
  }
  await printProfile(profDir, 'forward');

  const figures: Figure[] = [];
  if (drained) {
    const { drain, direct } = drained;
    const capMb = cap / MB;
    figures.push(
      figure({
        figure: `backlog drain MB/s, cap ${fmt(capMb, 1)} MB/s`,
        value: drain.mbPerSecond,
        unit: 'MB/s',
        baseline: direct.mbPerSecond,
        baselineName: 'same backlog sent directly',
        target: `≥ ${fmt(TARGET_DRAIN_SHARE * capMb, 1)} MB/s (${TARGET_DRAIN_SHARE}× cap)`,
        pass: drain.mbPerSecond >= TARGET_DRAIN_SHARE * capMb,
        digits: 2,
      }),
      figure({
        figure: 'backlog drain items/s',
        value: drain.itemsPerSecond,
        unit: '/s',
        baseline: direct.itemsPerSecond,
        baselineName: 'same backlog sent directly',
        target: '',
      }),
      figure({
        figure: 'backlog drain, share of the cap',
        value: drain.mbPerSecond / capMb,
        unit: '×',
        baseline: direct.mbPerSecond / capMb,
        baselineName: 'direct, share of the cap',
        target: `≥ ${fmt(TARGET_DRAIN_SHARE, 2)}×`,
        pass: drain.mbPerSecond / capMb >= TARGET_DRAIN_SHARE,
        digits: 2,
      }),
    );
  }
  if (drained?.unverified) {
    const { drain, unverified } = drained;
    figures.push(
      figure({
        figure: 'backlog drain MB/s, videos checked against their SM3',
        value: drain.mbPerSecond,
        unit: 'MB/s',
        baseline: unverified.mbPerSecond,
        baselineName: 'same backlog, unchecked (ESEAL_BENCH_FORWARD_UNVERIFIED=1)',
        target: '',
        digits: 2,
      }),
      figure({
        figure: 'relay CPU of the drain, videos checked against their SM3',
        value: drain.cpu.relay,
        unit: 's',
        baseline: unverified.cpu.relay,
        baselineName: 'same backlog, unchecked',
        target: '',
        digits: 2,
      }),
    );
  }
  for (const level of levelsDone) {
    const label = `${level.senders} sender${level.senders === 1 ? '' : 's'}`;
    const d = level.runs.direct.toPlatform;
    const dp50 = percentile(d, 50);
    const dp99 = percentile(d, 99);
    const added = (p: Path, q: number) => percentile(level.runs[p].toPlatform, q) - (q === 50 ? dp50 : dp99);
    figures.push(
      figure({ figure: `relay added p50, ${label}`, value: added('relay', 50), unit: 'ms', baseline: dp50, baselineName: 'direct p50', target: '', digits: 2 }),
      figure({
        figure: `relay added p99, ${label}`,
        value: added('relay', 99),
        unit: 'ms',
        baseline: dp99,
        baselineName: 'direct p99',
        target: `< ${TARGET_ADDED_P99_MS} ms`,
        pass: added('relay', 99) < TARGET_ADDED_P99_MS,
        digits: 2,
      }),
      figure({
        figure: `relay added p99, ${label}, mine's pace (bursts of ${ROUND_RECORDS})`,
        value: added('relayFree', 99),
        unit: 'ms',
        baseline: dp99,
        baselineName: 'direct p99',
        target: '',
        digits: 2,
      }),
      figure({
        figure: `records/s forwarded, ${label}, mine's pace`,
        value: level.runs.relayFree.ok / level.runs.relayFree.seconds,
        unit: '/s',
        baseline: level.runs.relayFree.ok / level.runs.relayFree.sendSeconds,
        baselineName: 'records/s the relay accepted meanwhile',
        target: '',
      }),
    );
  }
  emitFigures('forward', figures);
}

runBenchmark('forward', main);

