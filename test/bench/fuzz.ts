// The fuzz suite of test/security/fuzz.test.ts at length: many more generated runs of malformed
// requests against a real relay (in this process, plain HTTP on 127.0.0.1, LMDB in a temp dir),
// reporting malformed cases answered per second beside the rate of valid records sent the same way
// (one connection each), and the findings: violations of the suite's properties, grouped, with
// those a known finding explains (test/helpers/fuzzFindings.ts) counted apart.
//
//   npm run bench -- fuzz
//   ESEAL_FUZZ_RUNS=2000 ESEAL_FUZZ_SEED=7 node --import tsx test/bench/fuzz.ts
//   knobs: ESEAL_FUZZ_RUNS (runs of up to 8 actions, 400), ESEAL_FUZZ_SEED (random)

import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { createLogger } from '../../src/log.ts';
import { startRelay } from '../../relay/server.ts';
import { makeMp4Fixture } from '../helpers/media.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, MINE_PASSWORD, OTHER_MINE, testConfig } from '../helpers/relay.ts';
import { fuzzTargetOf, perform, runActions, runArb, showAction, triage, type FuzzAction, type Violation } from '../helpers/fuzz.ts';
import { KNOWN_FINDINGS } from '../helpers/fuzzFindings.ts';
import { emitFigures, envNumber, figure, fmt, machineLine, makeTempDir, nowMs, printTable, runBenchmark } from './lib.ts';

const RUNS = envNumber('ESEAL_FUZZ_RUNS', 400);
const SEED = process.env['ESEAL_FUZZ_SEED'] === undefined ? Date.now() % 2 ** 31 : Number(process.env['ESEAL_FUZZ_SEED']);
const BOUND_MS = 20_000;
const BASELINE_CALLS = 300;

/** a violation's kind without what varies from case to case (ids, tokens, lengths) */
function signature(v: Violation): string {
  const body = (v.body ?? '')
    .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<uuid>')
    .replace(/"message":"[^"]*"/, '"message":…')
    .replace(/\(request [^,]*,/, '(request …,')
    .replace(/\d+/g, 'N')
    .slice(0, 110);
  return `${v.property} ${v.status ?? ''} ${body}`;
}

runBenchmark('fuzz', async () => {
  console.log(`\nfuzz: ${RUNS} runs of up to 8 malformed or valid calls each, seed ${SEED}`);
  console.log(machineLine('the relay (in this process) and the load generator'));
  const dir = await makeTempDir('eseal-bench-fuzz-');
  const video = await readFile(await makeMp4Fixture(dir, 'h264', 1));
  const config = await testConfig(`${dir}/var`);
  const relay = await startRelay(config, createLogger({ level: 'silent' }));
  try {
    relay.disk.stop();
    await relay.ctx.accounts.add({ username: 'mine001', password: MINE_PASSWORD, mines: [MINE], org: 'XX煤矿' });
    const mine = new GuideMine(relay.url, 'mine001', MINE_PASSWORD);
    if ((await mine.login()).status !== 200) throw new Error('login failed');
    const target = fuzzTargetOf(relay, mine.token, video, { mineId: MINE, otherMine: OTHER_MINE });

    // baseline: valid records, one raw connection each, as the fuzzer sends them
    const state = { diskFull: false };
    const valid: FuzzAction = { kind: 'validRecord', endpoint: 'camera/online-offine', via: 'raw' };
    let t0 = nowMs();
    for (let i = 0; i < BASELINE_CALLS; i++) await perform(target, state, valid, BOUND_MS);
    const baseline = BASELINE_CALLS / ((nowMs() - t0) / 1000);

    const samples = fc.sample(runArb(target), { numRuns: RUNS, seed: SEED });
    const groups = new Map<string, { count: number; known?: string; example: Violation; actions: FuzzAction[] }>();
    let cases = 0;
    let acknowledged = 0;
    t0 = nowMs();
    for (const actions of samples) {
      const r = await runActions(target, actions, BOUND_MS);
      cases += r.outcomes.length;
      acknowledged += r.acknowledged.length;
      const { fresh, explained } = triage(r.violations, KNOWN_FINDINGS);
      const tagged: [Violation, string | undefined][] = [...fresh.map((v): [Violation, undefined] => [v, undefined])];
      for (const [id, vs] of explained) tagged.push(...vs.map((v): [Violation, string] => [v, id]));
      for (const [v, known] of tagged) {
        const key = signature(v);
        const g = groups.get(key);
        if (g) g.count++;
        else groups.set(key, { count: 1, example: v, actions, ...(known ? { known } : {}) });
      }
    }
    const seconds = (nowMs() - t0) / 1000;
    const rate = cases / seconds;
    const fresh = [...groups.values()].filter((g) => !g.known);
    const known = [...groups.values()].filter((g) => g.known);
    printTable(
      `fuzz findings (${fmt(cases)} calls in ${fmt(seconds, 1)} s, ${fmt(acknowledged)} acknowledged and found in the queue)`,
      ['count', 'known finding', 'property, status, path, answer'],
      [...groups.entries()].sort((a, b) => b[1].count - a[1].count).map(([key, g]) => [fmt(g.count), g.known ?? 'NEW', key]),
    );
    for (const g of fresh.slice(0, 5)) {
      console.log(`\nNEW: ${signature(g.example)}\n  ${g.example.what}\n  reproducer (run of ${g.actions.length}):\n  ${g.actions.map(showAction).join('\n  ')}`);
    }
    emitFigures('fuzz', [
      figure({ figure: 'malformed and valid calls answered/s', value: rate, unit: 'calls/s', baseline, baselineName: 'valid records, one connection each', target: '', digits: 0 }),
      { figure: 'new findings (distinct)', value: fresh.length, unit: 'findings', baseline: NaN, baselineName: 'none', ratio: NaN, target: '0', pass: fresh.length === 0 },
      { figure: 'known findings seen (test/helpers/fuzzFindings.ts)', value: new Set(known.map((g) => g.known)).size, unit: 'findings', baseline: NaN, baselineName: 'none', ratio: NaN, target: '', digits: 0 },
    ]);
  } finally {
    await relay.close();
  }
});
