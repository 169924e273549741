// Property-based: generated malformed requests (request lines, headers, Content-Length /
// Transfer-Encoding combinations, JSON of the wrong types, broken multipart, tus header junk)
// against every endpoint of the national API, the tus routes and the ops routes of a real relay
// on loopback, over raw TCP sockets and through fetch, with valid records and uploads in between.
// Every run must keep: no 5xx (507 only while a disk fault is injected), no hang, the API's
// envelope on every JSON answer, a good call answered after the run, and every acknowledged call
// in the queue. test/helpers/fuzz.ts has the generators and the checks.
//
//   ESEAL_FUZZ_RUNS=500 npx tap test/security/fuzz.test.ts      more runs (default 150)
//   ESEAL_FUZZ_SEED=123 …                                         replay a failing seed
//   npm run bench -- fuzz                                         many more cases, cases/s
import t from 'tap';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { makeMp4Fixture } from '../helpers/media.ts';
import { MINE, OTHER_MINE, relayWithMine, tempDir } from '../helpers/relay.ts';
import { fuzzTargetOf, runActions, runArb, showAction, triage, type Violation } from '../helpers/fuzz.ts';
import { KNOWN_FINDINGS } from '../helpers/fuzzFindings.ts';

const RUNS = Number(process.env['ESEAL_FUZZ_RUNS'] ?? 150);
const SEED = process.env['ESEAL_FUZZ_SEED'] === undefined ? undefined : Number(process.env['ESEAL_FUZZ_SEED']);
/** one loopback call's bound: far above what any answer takes, only there to end a hung case */
const BOUND_MS = 20_000;

function show(v: Violation): string {
  return `${v.property}: ${v.what}${v.status !== undefined ? ` → ${v.status}` : ''}${v.body ? ` ${v.body}` : ''}`;
}

t.test('malformed requests never get a 5xx, a hang, a bare answer or a lost acknowledgement', async (t) => {
  const dir = await tempDir(t);
  const video = await readFile(await makeMp4Fixture(dir, 'h264', 1));
  const { relay, mine } = await relayWithMine(t);
  // the disk fault is injected by the test alone: the watcher would undo it on its next look
  relay.disk.stop();
  const target = fuzzTargetOf(relay, mine.token, video, { mineId: MINE, otherMine: OTHER_MINE });
  const explained = new Map<string, Violation[]>();
  let cases = 0;
  let acknowledged = 0;
  const property = fc.asyncProperty(runArb(target), async (actions) => {
    const r = await runActions(target, actions, BOUND_MS);
    cases += r.outcomes.length;
    acknowledged += r.acknowledged.length;
    const { fresh, explained: known } = triage(r.violations, KNOWN_FINDINGS);
    for (const [id, vs] of known) explained.set(id, [...(explained.get(id) ?? []), ...vs]);
    if (fresh.length) {
      throw new Error(`${fresh.length} violation(s):\n${fresh.map(show).join('\n')}\nactions:\n${actions.map(showAction).join('\n')}`);
    }
  });
  // Shrinking re-runs cases against the live relay; a short budget keeps a red run readable.
  await fc.assert(property, { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), interruptAfterTimeLimit: 120_000, markInterruptAsFailure: false });
  t.ok(cases > RUNS, `${cases} requests in ${RUNS} runs`);
  t.ok(acknowledged >= RUNS, `${acknowledged} acknowledged calls found in the queue`);
  for (const [id, vs] of explained) {
    t.comment(`known finding ${id}: seen ${vs.length} time(s), e.g. ${show(vs[0]!)}`);
  }
});
