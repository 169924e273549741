// kill -9 at random moments while the relay forwards: nothing it answered success for is missing
// upstream, and what arrives twice stays within what was in flight at each kill (at least once).
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { NATIONAL_PW, NATIONAL_USER, startSim, waitFor } from '../helpers/forwarding.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, tempDir } from '../helpers/relay.ts';
import { startRelayChild } from '../helpers/relayChild.ts';

const CYCLES = 4;
/** records sent per start at most: a backlog the final start drains in a few seconds (each camera is one FIFO) */
const PER_CYCLE = 600;
/** sum of the lanes' concurrency in the config below: the most that can be in flight at a kill */
const IN_FLIGHT = 4 + 4 + 2;

t.test('SIGKILL while forwarding loses nothing upstream', async (t) => {
  const dataDir = await tempDir(t);
  const configFile = join(await tempDir(t), 'eseal.yaml');
  await writeFile(
    configFile,
    'forward:\n  concurrency: { status: 4, record: 4, evidence: 2 }\n  retry: { baseSeconds: 1, maxSeconds: 2 }\n  breaker: { failures: 3, probeSeconds: 1 }\n',
  );
  // a little latency upstream keeps calls in flight when the kill comes
  const sim = await startSim(t, { faults: { latencyMs: 20 } });
  const acked: string[] = [];
  let counter = 0;
  for (let cycle = 0; cycle <= CYCLES; cycle++) {
    const { child, url, exited, lines } = await startRelayChild(t, { dataDir, args: ['--config', configFile], env: { ESEAL_UPSTREAM_URL: sim.url } });
    const mine = new GuideMine(url, NATIONAL_USER, NATIONAL_PW);
    t.equal((await mine.login()).status, 200, `cycle ${cycle}: logged in`);
    if (cycle === CYCLES) {
      // the last start only drains what is left
      const upstreamKeys = () => new Set(sim.received().map((r) => `${r.record?.['inWellNumber']}/${r.record?.['time']}`));
      try {
        await waitFor(() => {
          const got = upstreamKeys();
          return acked.every((k) => got.has(k));
        }, 60_000, 'every acknowledged record upstream');
      } catch (err) {
        const got = upstreamKeys();
        t.comment(`missing ${acked.filter((k) => !got.has(k)).length} of ${acked.length}; the relay's last log lines:\n${lines.slice(-30).join('\n')}`);
        throw err;
      }
      child.kill('SIGTERM');
      await exited;
      break;
    }
    let alive = true;
    const limit = counter + PER_CYCLE;
    const sender = async () => {
      while (alive && counter < limit) {
        const n = ++counter;
        const body = { mineId: MINE, cameraId: String(10 + (n % 8)), aiTypeCode: '01', inWellNumber: String(n % 10000).padStart(4, '0'), time: formatJsonTime(Date.now() - n * 1000) };
        try {
          const a = await mine.record(RECORD_ENDPOINTS.person, body);
          if (a.status === 200 && a.body.code === 0) acked.push(`${body.inWellNumber}/${body.time}`);
        } catch {
          return;
        }
      }
    };
    const senders = Array.from({ length: 4 }, sender);
    await new Promise((r) => setTimeout(r, 500 + Math.random() * 1500));
    child.kill('SIGKILL');
    alive = false;
    await exited;
    await Promise.all(senders);
  }
  const got = sim.received({ endpoint: 'infoReport/person' });
  const upstream = new Set(got.map((r) => `${r.record!['inWellNumber']}/${r.record!['time']}`));
  const missing = acked.filter((k) => !upstream.has(k));
  t.ok(acked.length > 100, `${acked.length} records answered success`);
  t.same(missing, [], 'every acknowledged record reached the platform');
  const dupes = sim.stats().duplicates;
  t.ok(dupes <= CYCLES * IN_FLIGHT, `${dupes} sent twice, within ${CYCLES} kills × ${IN_FLIGHT} in flight`);
});
