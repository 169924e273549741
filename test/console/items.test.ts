// The overview and the items over the relay's admin API, with a dead letter made the way an
// operator meets one (the national platform refuses a record), replayed and purged by an operator,
// every action audited; whatever a mine or the platform wrote is shown as text, never as markup.
import t from 'tap';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { forwardingSetup, waitFor } from '../helpers/forwarding.ts';
import { MINE, tempDir } from '../helpers/relay.ts';
import { itemBody, itemsBody } from '../../console/pages/itemsPage.ts';
import type { ItemDetail } from '../../console/api/itemsApi.ts';
import { ConsoleClient, startTestConsole } from './fixture.ts';

const PW = 'operator-pass-1';
const EVIL = '<script>alert(1)</script>';

t.test('overview, items, replay and purge of a dead letter', async (t) => {
  const { sim, relay, mine } = await forwardingSetup(t, {
    sim: { faults: { reject: { endpoint: 'infoReport/truck', status: 400, code: 400, msg: `truck gate not registered ${EVIL}` } } },
  });
  const c = await startTestConsole(t, relay);
  await c.ctx.store.users.add({ name: 'op1', role: 'operator', password: PW });
  const truck = { mineId: MINE, cameraId: '30', aiTypeCode: '02', outMineNumber: '0001', time: formatJsonTime() };
  t.equal((await mine.record(RECORD_ENDPOINTS.truck, truck)).status, 200);
  await waitFor(() => relay.ctx.queue.stats().byState.dead === 1, 10_000, 'a dead letter');

  const op = new ConsoleClient(c.url);
  await op.login('op1', PW);
  const ov = await op.call('GET', '/api/overview');
  t.equal(ov.status, 200);
  t.match(ov.json.data, { relay: { reachable: true }, roles: ['relay', 'console'], status: { queue: { dead: 1 }, lanes: { record: { budgetSeconds: 30 } }, upstream: { url: sim.url } } });
  const overviewPage = await op.call('GET', '/');
  t.match(overviewPage.text, /<div class="v bad"><a href="\/items\?state=dead">1<\/a>/, 'the dead letter counted on the overview');

  const dead = await op.call('GET', '/api/items?state=dead');
  t.equal(dead.status, 200);
  t.equal(dead.json.data.items.length, 1);
  const seq = dead.json.data.items[0].seq as number;
  t.match(dead.json.data.items[0], { state: 'dead', lane: 'record', endpoint: 'infoReport/truck', mineId: MINE, lastError: /truck gate not registered/ });
  t.same((await op.call('GET', '/api/items?state=done')).json.data.items, []);
  t.equal((await op.call('GET', `/api/items?mine=${MINE}&endpoint=infoReport/truck`)).json.data.items.length, 1);
  const badFilter = await op.call('GET', '/api/items?state=lost');
  t.equal(badFilter.status, 400);
  t.match(badFilter.json.msg, /^state: must be equal to one of the allowed values/);
  t.match((await op.call('GET', '/items?lane=fast')).text, /lane: one of status, record, evidence/, 'the page names the field too');
  t.equal((await op.call('GET', '/api/items/999999')).status, 404);

  const list = await op.call('GET', '/items?state=dead');
  t.match(list.text, new RegExp(`<a href="/items/${seq}">${seq}</a>`));
  t.notOk(list.text.includes(EVIL), "the platform's message is not markup");
  t.ok(list.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'it is shown as text');
  const detail = await op.call('GET', `/items/${seq}`);
  t.match(detail.text, /id="replay"/);
  t.match(detail.text, /outMineNumber<\/th><td>0001/);

  // replay: the platform takes it this time
  await sim.setFaults({ reject: null });
  const noCsrf = await op.call('POST', `/api/items/${seq}/replay`);
  t.equal(noCsrf.status, 403, 'no CSRF token, no replay');
  const replay = await op.act('POST', `/api/items/${seq}/replay`);
  t.equal(replay.status, 200, replay.text);
  await waitFor(() => sim.received({ endpoint: 'infoReport/truck' }).length === 1, 15_000, 'the replayed record delivered');
  await waitFor(async () => (await op.call('GET', `/api/items/${seq}`)).json.data.state === 'done', 10_000, 'delivered');
  const again = await op.act('POST', `/api/items/${seq}/replay`);
  t.equal(again.status, 409, 'only a dead letter is replayed');
  t.match(again.json.msg, /^seq: the relay refused to replay item/);
  // purge through the page's form
  const purge = await op.call('POST', `/items/${seq}/purge`, { form: { _csrf: op.csrf } });
  t.equal(purge.status, 303);
  t.equal(purge.headers.location, `/items?purged=${seq}`);
  t.equal((await op.call('GET', `/api/items/${seq}`)).status, 404, 'purged');

  const audit = c.ctx.store.audit.list({ limit: 10 }).map((e) => `${e.action} ${e.target} ${e.user} ${e.result.slice(0, 17)}`);
  t.same(audit, [`purge item ${seq} op1 ok`, `replay item ${seq} op1 refused: HTTP 409`, `replay item ${seq} op1 ok`, 'login op1 op1 ok']);
});

t.test('the relay unreachable is shown, not an error', async (t) => {
  // nothing listens on port 1
  const relay = { url: 'http://127.0.0.1:1', dataDir: await tempDir(t) };
  const c = await startTestConsole(t, relay);
  await c.ctx.store.users.add({ name: 'op1', role: 'operator', password: PW });
  const op = new ConsoleClient(c.url);
  await op.login('op1', PW);
  const ov = await op.call('GET', '/api/overview');
  t.equal(ov.status, 200);
  t.match(ov.json.data.relay, { reachable: false, error: /did not answer \(ECONNREFUSED\)/ });
  t.match((await op.call('GET', '/')).text, /无法连接/);
  const items = await op.call('GET', '/api/items');
  t.equal(items.status, 502);
  t.equal(items.json.code, 'ESEAL_ERR_CONSOLE_UPSTREAM');
});

t.test('every value on a page is escaped: a mine id with <script> renders inert', async (t) => {
  const item: ItemDetail = {
    seq: 7,
    state: 'dead',
    lane: 'record',
    enqueuedAt: 0,
    attempts: 1,
    deadReason: `"><img src=x onerror=alert(1)>`,
    endpoint: 'infoReport/truck',
    account: `a'b`,
    mineId: EVIL,
    cameraId: '30',
    receivedAt: 0,
    flags: [],
    record: { mineId: EVIL, [`k${EVIL}`]: `v${EVIL}` },
  };
  const list = itemsBody('zh', { mine: `${EVIL}"` }, { items: [item] }).text;
  const one = itemBody('en', item, { role: 'operator', csrf: `"${EVIL}` }).text;
  for (const out of [list, one]) {
    t.notOk(/<script>|<img/i.test(out), 'no markup from the data');
    t.ok(out.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  }
  t.match(list, /value="&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;"/, 'in an attribute too');
  t.match(one, /<td>a&#39;b<\/td>/);
});
