// kill -9 while mines send records: the console's counts are in the commit of the items they count,
// so the data dir as the killed relay left it (before any start reconciles) counts every stored
// item exactly once.
import t from 'tap';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../../src/contract/index.ts';
import { LmdbQueueStore } from '../../../src/store/lmdb/LmdbQueueStore.ts';
import { openRelayStores } from '../../../relay/RelayContext.ts';
import type { RelayItem } from '../../../relay/ingest/RelayItem.ts';
import { StatsStore } from '../../../relay/stats/StatsStore.ts';
import { GuideMine } from '../../helpers/mineClient.ts';
import { MINE, tempDir, testConfig } from '../../helpers/relay.ts';
import { startRelayChild } from '../../helpers/relayChild.ts';

const CYCLES = 3;
const PW = 'pw-crash';

t.test('SIGKILL: every stored item counted once, nothing counted that is not stored', async (t) => {
  const dataDir = await tempDir(t);
  const config = await testConfig(dataDir);
  const stores = await openRelayStores(config);
  await stores.accounts.add({ username: 'crash', password: PW, mines: [MINE] });
  await stores.close();
  let counter = 0;
  let answered = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const { child, url, exited } = await startRelayChild(t, { dataDir });
    const mine = new GuideMine(url, 'crash', PW);
    t.equal((await mine.login()).status, 200, `cycle ${cycle}: logged in`);
    let alive = true;
    const sender = async () => {
      while (alive) {
        const n = ++counter;
        const body = { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: '0001', time: formatJsonTime(Date.now() - n * 1000) };
        try {
          const a = await mine.record(RECORD_ENDPOINTS.person, body);
          if (a.status === 200) answered++;
        } catch {
          return;
        }
      }
    };
    const senders = Array.from({ length: 6 }, sender);
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
    child.kill('SIGKILL');
    alive = false;
    await exited;
    await Promise.all(senders);

    // the data dir as the kill left it: no start, no reconciliation
    const after = await openRelayStores(config);
    const queue = new LmdbQueueStore<RelayItem>(after.root, { name: 'queue' });
    const stats = new StatsStore(after.root, queue);
    const items = queue.range({ limit: 1_000_000 });
    let sum = 0;
    for (const { value } of stats.tables.daily.getRange({})) sum += value[0];
    t.equal(stats.through, queue.stats().lastSeq, `cycle ${cycle}: the counts cover every item appended`);
    t.equal(sum, items.length, `cycle ${cycle}: ${items.length} items stored, ${sum} counted`);
    t.equal([...stats.tables.bySeq.getKeys({})].length, items.length, 'one index entry per item');
    await after.close();
  }
  t.ok(answered > 30, `${answered} records answered success`);
});
