// npm run bench: runs every benchmark script in turn, each in a process of its own (so one's
// heap, JIT state and open files do not colour the next), then prints one summary table of all
// figures beside their baselines. Benchmarks report, they do not gate: the exit code is 0 whatever
// the figures, and 1 only when a benchmark could not run at all.
//
//   npm run bench                      all benchmarks
//   npm run bench -- records           only those named (records, video, forward, edge, fuzz, console, gb28181)
//   ESEAL_BENCH_SECONDS=10 npm run bench     (knobs: see test/bench/lib.ts; forward's own: test/bench/forward.ts;
//                                          fuzz's: ESEAL_FUZZ_RUNS, ESEAL_FUZZ_SEED in test/bench/fuzz.ts)

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, guardChild, machineLine, makeTempDir, nowMs, printSummary, readFigures, runCleanups, type Figure } from './lib.ts';

interface Benchmark {
  name: string;
  /** its parts, each a script run in a process of its own; an `optional` part whose file is not there is skipped with a note */
  parts: { script: string; optional?: boolean }[];
}

const BENCHMARKS: Benchmark[] = [
  { name: 'records', parts: [{ script: 'test/bench/records.ts' }] },
  { name: 'video', parts: [{ script: 'test/bench/video.ts' }] },
  { name: 'forward', parts: [{ script: 'test/bench/forward.ts' }] },
  { name: 'edge', parts: [{ script: 'test/bench/edge.ts' }] },
  { name: 'fuzz', parts: [{ script: 'test/bench/fuzz.ts' }] },
  // the console's data API over 1,000 mines × 30 days (test/bench/consoleData.ts)
  { name: 'console', parts: [{ script: 'test/bench/consoleData.ts' }, { script: 'test/bench/consolePages.ts' }] },
  // the GB/T 28181 bridge: media relay and viewer (gb28181Media.ts), registrar and keepalives (gb28181Register.ts),
  // INVITE → first decodable frame through SIP, a sim device, the worker and the viewer (gb28181Invite.ts)
  { name: 'gb28181', parts: [{ script: 'test/bench/gb28181Media.ts' }, { script: 'test/bench/gb28181Register.ts', optional: true }, { script: 'test/bench/gb28181Invite.ts' }] },
];

function runScript(script: string, resultFile: string): Promise<number | string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      env: { ...process.env, ESEAL_BENCH_RESULT_FILE: resultFile },
      stdio: 'inherit',
    });
    guardChild(child, 'SIGTERM');
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (code, signal) => resolve(code ?? String(signal)));
  });
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !BENCHMARKS.some((b) => b.name === w));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    return 1;
  }
  const selected = wanted.length ? BENCHMARKS.filter((b) => wanted.includes(b.name)) : BENCHMARKS;
  console.log(`eseal-relay benchmarks: ${selected.map((b) => b.name).join(', ')}`);
  const sharing = selected.some((b) => b.name === 'forward')
    ? 'the relay child process, the load generator and (forward) the national-platform simulator'
    : undefined;
  console.log(machineLine(sharing));
  const results = await makeTempDir('eseal-bench-results-');
  const figures: Figure[] = [];
  const failed: string[] = [];
  const t0 = nowMs();
  for (const b of selected) {
    for (const [i, part] of b.parts.entries()) {
      const label = b.parts.length > 1 ? `${b.name} (${part.script})` : b.name;
      if (part.optional && !existsSync(join(ROOT, part.script))) {
        console.log(`\n${b.name}: ${part.script} is not there (yet): that part skipped`);
        continue;
      }
      const file = join(results, `${b.name}-${i}.json`);
      const code = await runScript(part.script, file);
      const got = readFigures(file);
      if (code !== 0 || !got) {
        failed.push(`${label} (${code !== 0 ? `exit ${code}` : 'no figures'})`);
        continue;
      }
      figures.push(...got.figures.map((f) => ({ ...f, figure: `${b.name}: ${f.figure}` })));
    }
  }
  console.log(`\n${machineLine(sharing)}`);
  printSummary(`summary of all benchmarks (${((nowMs() - t0) / 1000).toFixed(0)} s)`, figures);
  const below = figures.filter((f) => f.pass === false).length;
  const passed = figures.filter((f) => f.pass === true).length;
  console.log(`\n${passed} target(s) met, ${below} below target${failed.length ? `; could not run: ${failed.join(', ')}` : ''}. Benchmarks report; the exit code ignores targets.`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => {
    runCleanups();
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`bench: ${(err as Error)?.stack ?? String(err)}`);
    runCleanups();
    process.exitCode = 1;
  },
);
