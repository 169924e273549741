// Shared helpers of the benchmarks (npm run bench): percentiles, tables, temp dirs and child
// processes that are cleaned up even when a benchmark fails or is interrupted, the relay started
// as a child process exactly as an operator starts it, and the figures each benchmark hands to
// run.ts for the summary table.
//
// Environment knobs (all optional):
//   ESEAL_BENCH_SECONDS        measured seconds per concurrency level of the record benchmark (5)
//   ESEAL_BENCH_WARMUP_SECONDS warm-up seconds before each level (1)
//   ESEAL_BENCH_CONCURRENCY    record clients per level, comma-separated (1,16,64)
//   ESEAL_BENCH_VIDEOS         uploads per concurrency level of the video benchmark (100)
//   ESEAL_BENCH_UPLOADERS      concurrent uploaders per level, comma-separated (1,4)
//   ESEAL_BENCH_LOG_LEVEL      the relay child's log level (warn; info logs a line per request)
//   ESEAL_BENCH_CPU_PROF       a directory: run the relay child with --cpu-prof (profiles land in
//                              <dir>/records, <dir>/video and <dir>/forward) and print its top
//                              self-time functions
//   ESEAL_BENCH_RESULT_FILE    set by run.ts: where a benchmark writes its figures as JSON
//   ESEAL_BENCH_FWD_*          the forwarding benchmark's own knobs: see the top of forward.ts

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EsealChild, type EsealChildOptions } from '../../tools/esealChild.ts';

/** The repository root (the relay child and the benchmark children run from there). */
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

// ---- configuration ----

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

export function envList(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`${name}: expected whole numbers > 0 separated by commas, got ${JSON.stringify(raw)}`);
  return list;
}

// ---- statistics and formatting ----

/** Nearest-rank percentile of `values` (p in 0..100); NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): LatencySummary {
  const n = values.length;
  let sum = 0;
  let max = n ? -Infinity : NaN;
  for (const v of values) {
    sum += v;
    if (v > max) max = v;
  }
  return { n, p50: percentile(values, 50), p99: percentile(values, 99), max, mean: n ? sum / n : NaN };
}

/** A number with `digits` decimals, thousands separated; '–' for NaN or undefined. */
export function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Prints a left-aligned text table (numbers right-aligned) under an optional title. */
export function printTable(title: string | undefined, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+<>≥≤~]?[\d,.]+( ?[%×a-zA-Z/µ]+)?$|^–$/.test(r[i] ?? '')));
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  if (title) console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

/**
 * The line every benchmark output starts with: the machine, and that client and server share it.
 * `sharing` names what runs on it together (by default the relay child and the load generator).
 */
export function machineLine(sharing = 'the relay child process and the load generator'): string {
  const model = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return (
    `machine: nproc ${availableParallelism()} (${model}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}; ` +
    `${sharing} run on the same machine and share these ${availableParallelism()} cores`
  );
}

// ---- cleanup: temp dirs and child processes, on success, failure and Ctrl-C alike ----

const cleanups: (() => void)[] = [];
let cleanupInstalled = false;

/** Runs the registered clean-ups (latest first). Synchronous, so it also works from 'exit'. */
export function runCleanups(): void {
  while (cleanups.length) {
    try {
      cleanups.pop()!();
    } catch {
      // best effort: keep cleaning
    }
  }
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', runCleanups);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runCleanups();
      process.exit(130);
    });
  }
}

export function onCleanup(fn: () => void): () => void {
  installCleanup();
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** A fresh directory under the OS temp dir, removed at the end of the process whatever happens. */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }));
  return dir;
}

/**
 * Signals a child we started (by its own pid) if it is still running when we exit: SIGKILL by
 * default; SIGTERM for a benchmark script, so that it cleans up its own relay and temp dirs.
 */
export function guardChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  const remove = onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
  child.once('exit', remove);
}

// ---- child processes ----

/** A port on 127.0.0.1 that was free a moment ago (the relay binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function ticks(statPath: string): { user: number; sys: number } {
  const stat = readFileSync(statPath, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] = utime, fields[12] = stime (stat fields 14 and 15), in clock ticks (100 Hz on Linux)
  return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function processCpuSeconds(pid: number): number {
  try {
    const t = ticks(`/proc/${pid}/stat`);
    return t.user + t.sys;
  } catch {
    return NaN;
  }
}

export interface CpuSplit {
  /** the JavaScript main thread (event loop), user + system */
  main: number;
  /** every other thread: libuv's pool (fs writes, fsync), LMDB's writer, V8's GC and compiler helpers */
  others: number;
  /** user and system time of the whole process */
  user: number;
  sys: number;
}

/** CPU seconds of a process split by thread (Linux /proc); NaN fields elsewhere. */
export function processCpuSplit(pid: number): CpuSplit {
  try {
    const all = ticks(`/proc/${pid}/stat`);
    const main = ticks(`/proc/${pid}/task/${pid}/stat`);
    const total = all.user + all.sys;
    return { main: main.user + main.sys, others: total - main.user - main.sys, user: all.user, sys: all.sys };
  } catch {
    return { main: NaN, others: NaN, user: NaN, sys: NaN };
  }
}

export function cpuDelta(after: CpuSplit, before: CpuSplit): CpuSplit {
  return { main: after.main - before.main, others: after.others - before.others, user: after.user - before.user, sys: after.sys - before.sys };
}

/** CPU seconds the whole machine has spent busy so far (all cores; /proc/stat), NaN elsewhere. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
    return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Measures what else ran on the machine meanwhile: call it before a measurement with the CPU
 * seconds of our own processes so far, and the function it returns after, with their new value;
 * it answers the CPU the rest of the machine used, in cores (1 = one core busy all along).
 */
export function foreignLoad(ownCpuBefore: number): (ownCpuAfter: number) => number {
  const busy0 = machineBusySeconds();
  const t0 = nowMs();
  return (ownCpuAfter) => {
    const seconds = (nowMs() - t0) / 1000;
    const foreign = machineBusySeconds() - busy0 - (ownCpuAfter - ownCpuBefore);
    return Math.max(0, foreign) / seconds;
  };
}

/** This process's CPU seconds so far. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface RelayChild {
  child: ChildProcess;
  url: string;
  pid: number;
  logLevel: string;
  /** stdout lines seen (warnings at level warn; one per request at info) */
  logLines(): number;
  /** the last lines of stdout and stderr, for error messages */
  tail(): string;
  /** CPU seconds the relay process has used so far */
  cpuSeconds(): number;
  /** the same, split by thread and into user and system time */
  cpuSplit(): CpuSplit;
  /** SIGTERM (graceful: finishes requests, closes the stores, writes a --cpu-prof profile), then SIGKILL after 15 s */
  stop(): Promise<void>;
}

export interface RelayChildOptions {
  logLevel?: string;
  cpuProfDir?: string;
  /** more arguments after `start`, e.g. ['--config', file] */
  args?: string[];
  /** more environment variables, e.g. { ESEAL_UPSTREAM_URL: … } (the data dir, listen address, TLS and log level stay the benchmark's) */
  env?: Record<string, string>;
}

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 15_000;

/** A benchmark's child: its last 20 lines kept (cut at 400 characters), cleaned up with the rest. */
function benchChild(options: EsealChildOptions): EsealChild {
  return EsealChild.spawn({ maxLineLength: 400, guard: onCleanup, ...options });
}

/**
 * Starts the relay as an operator does (`node --import tsx app/main.ts start`) on plain HTTP on a
 * loopback port picked here, and waits until /healthz answers. The log level is warn by default:
 * at info the relay writes one JSON line per request, which is a cost of its own (measured apart
 * with ESEAL_BENCH_LOG_LEVEL=info), so the URL is not read from the "relay listening" line.
 */
export async function startRelayChild(dataDir: string, options: RelayChildOptions = {}): Promise<RelayChild> {
  const logLevel = options.logLevel ?? process.env['ESEAL_BENCH_LOG_LEVEL'] ?? 'warn';
  const cpuProfDir = options.cpuProfDir ?? process.env['ESEAL_BENCH_CPU_PROF'];
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let logLines = 0;
  const relay = benchChild({
    name: 'the relay child',
    nodeOptions: cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(cpuProfDir)}`] : [],
    args: ['start', ...(options.args ?? [])],
    env: {
      ...process.env,
      ...options.env,
      ESEAL_DATA_DIR: dataDir,
      ESEAL_RELAY_LISTEN: `127.0.0.1:${port}`,
      ESEAL_ADMIN_LISTEN: '127.0.0.1:0',
      ESEAL_RELAY_TLS: 'off',
      ESEAL_LOG_LEVEL: logLevel,
    },
    onLine: (_line, stream) => {
      if (stream === 'stdout') logLines++;
    },
  });
  await relay.waitForHealthz(url, START_TIMEOUT_MS);
  return {
    child: relay.child,
    url,
    pid: relay.pid,
    logLevel,
    logLines: () => logLines,
    tail: () => relay.tail(),
    cpuSeconds: () => processCpuSeconds(relay.pid),
    cpuSplit: () => processCpuSplit(relay.pid),
    stop: async () => void (await relay.stop(STOP_GRACE_MS)),
  };
}

export interface ServerChild {
  url: string;
  pid: number;
  /** the last lines of stdout and stderr, for error messages */
  tail(): string;
  /** CPU seconds of the process so far, split by thread and into user and system time */
  cpuSplit(): CpuSplit;
  /** SIGTERM, then SIGKILL after 15 s */
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx <script> ...args <port>` from the repository root, as startRelayChild
 * starts the relay (same loader, loopback, a port picked here), and waits until GET /healthz
 * answers 200: for a baseline server that must sit across the same process boundary as the relay.
 */
export async function startServerChild(what: string, script: string, args: string[] = []): Promise<ServerChild> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = benchChild({ name: what, script, args: [...args, String(port)], env: process.env });
  await server.waitForHealthz(url, START_TIMEOUT_MS);
  return {
    url,
    pid: server.pid,
    tail: () => server.tail(),
    cpuSplit: () => processCpuSplit(server.pid),
    stop: async () => void (await server.stop(STOP_GRACE_MS)),
  };
}

/**
 * Runs `node --import tsx <script> ...args` from the repository root and resolves to the JSON
 * value of its last stdout line (how a baseline measured in its own process reports).
 */
export function runNodeScript<T>(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  return new Promise((resolveResult, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    guardChild(child);
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const lastLine = out.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        reject(new Error(`${script} ${args.join(' ')} exited with ${code ?? signal}: ${out.slice(-2000)}`));
        return;
      }
      try {
        resolveResult(JSON.parse(lastLine) as T);
      } catch {
        reject(new Error(`${script} ${args.join(' ')} printed no JSON result: ${out.slice(-2000)}`));
      }
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export function nowMs(): number {
  return performance.now();
}

// ---- figures: what each benchmark hands to the summary ----

export interface Figure {
  /** what was measured, e.g. "records/s, 64 clients" */
  figure: string;
  value: number;
  unit: string;
  /** the baseline measured in the same run, in the same unit */
  baseline: number;
  /** what the baseline is, e.g. "LMDB durable put ceiling" */
  baselineName: string;
  /** ratio value / baseline */
  ratio: number;
  /** the target in words (e.g. "≥ 10,000/s"), '' where there is none */
  target: string;
  /** undefined where there is no target */
  pass?: boolean;
  /** digits after the decimal point for value and baseline */
  digits?: number;
}

export function figure(f: Omit<Figure, 'ratio'>): Figure {
  return { ...f, ratio: f.value / f.baseline };
}

export function printSummary(title: string, figures: Figure[]): void {
  printTable(
    title,
    ['figure', 'value', 'baseline', 'ratio', 'target', 'result'],
    figures.map((f) => [
      f.figure,
      `${fmt(f.value, f.digits ?? 0)} ${f.unit}`,
      `${fmt(f.baseline, f.digits ?? 0)} ${f.unit} (${f.baselineName})`,
      Number.isFinite(f.ratio) ? `${fmt(f.ratio, 2)}×` : '–',
      f.target || '–',
      f.pass === undefined ? '–' : f.pass ? 'PASS' : 'BELOW',
    ]),
  );
}

/**
 * Hands the figures to run.ts (ESEAL_BENCH_RESULT_FILE) or, when the benchmark runs alone,
 * prints them as the summary table.
 */
export function emitFigures(name: string, figures: Figure[]): void {
  const file = process.env['ESEAL_BENCH_RESULT_FILE'];
  if (file) writeFileSync(file, JSON.stringify({ name, figures }, null, 2));
  else printSummary(`summary (${name})`, figures);
}

export function readFigures(file: string): { name: string; figures: Figure[] } | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as { name: string; figures: Figure[] };
}

// ---- CPU profiles (ESEAL_BENCH_CPU_PROF) ----

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * The functions with the most self time in the busiest .cpuprofile of `dir` (node --cpu-prof also
 * writes one for tsx's module-loader thread, which idles), with shares of the busy (non-idle) time.
 */
export async function topSelfTime(
  dir: string,
  top = 25,
): Promise<{ file: string; busyMs: number; wallMs: number; rows: { name: string; ms: number; share: number }[] } | undefined> {
  let best: { file: string; busyMs: number; wallMs: number; byName: Map<string, number> } | undefined;
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const byName = new Map<string, number>();
    let busy = 0;
    let wall = 0;
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      wall += us;
      const f = byId.get(id)!.callFrame;
      if (f.functionName === '(idle)') return;
      busy += us;
      const where = f.url ? `${f.url.replace(/^file:\/\//, '').replace(ROOT + '/', '')}:${f.lineNumber + 1}` : '';
      const name = `${f.functionName || '(anonymous)'}${where ? ' ' + where : ''}`;
      byName.set(name, (byName.get(name) ?? 0) + us);
    });
    if (!best || busy > best.busyMs * 1000) best = { file: join(dir, file), busyMs: busy / 1000, wallMs: wall / 1000, byName };
  }
  if (!best) return undefined;
  const busyUs = best.busyMs * 1000;
  const rows = [...best.byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / busyUs }));
  return { file: best.file, busyMs: best.busyMs, wallMs: best.wallMs, rows };
}

export async function printProfile(dir: string | undefined, label: string): Promise<void> {
  if (!dir || !existsSync(dir) || readdirSync(dir).length === 0) return;
  const prof = await topSelfTime(dir);
  if (!prof) return;
  printTable(
    `relay child CPU profile (${label}), main thread: ${fmt(prof.busyMs)} ms busy of ${fmt(prof.wallMs)} ms sampled (start-up and shutdown included), ${prof.file}`,
    ['self ms', 'of busy', 'function'],
    prof.rows.map((r) => [fmt(r.ms, 1), `${fmt(r.share * 100, 1)}%`, r.name]),
  );
}

/** Runs a benchmark's main: cleanups always, exit code 1 (and the stack) when it could not run. */
export function runBenchmark(name: string, main: () => Promise<void>): void {
  main().then(
    () => runCleanups(),
    (err: unknown) => {
      console.error(`${name} benchmark failed: ${(err as Error)?.stack ?? String(err)}`);
      runCleanups();
      process.exitCode = 1;
    },
  );
}
