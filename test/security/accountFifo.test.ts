// Issue 9, finding 6: the queue is FIFO per (mine, camera, kind) and per account. An account whose
// upstream login the platform refuses (a passthrough account may queue under any mine) waits with
// back-off on its own; it never holds up another account's items, its own mine's or another's.
// Items queued by a relay before per-account keys are moved to them at the first start and still go.
import t, { type Test } from 'tap';
import { main } from '../../app/main.ts';
import { RECORD_ENDPOINTS, checkRecord, formatJsonTime } from '../../src/contract/index.ts';
import { LmdbQueueStore } from '../../src/store/lmdb/LmdbQueueStore.ts';
import { openRelayStores } from '../../relay/RelayContext.ts';
import { legacyQueueKey, queueKey, type RelayItem } from '../../relay/ingest/RelayItem.ts';
import { FAST_FORWARD, NATIONAL_PW, NATIONAL_USER, forwardingSetup, startSim, waitFor } from '../helpers/forwarding.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, OTHER_MINE, startTestRelay, tempDir, testConfig, type TestRelay } from '../helpers/relay.ts';

const ONLINE = RECORD_ENDPOINTS.cameraOnline;
const PERSON = RECORD_ENDPOINTS.person;
/** how long unblocked items may take at most (well under a second when nothing holds them up) */
const DELIVERY_MS = 15_000;

let clock = Date.now() - 60_000;
/** a camera status record; each one a second later than the last (distinct records, known order) */
function online(mineId: string, cameraId = '10'): Record<string, unknown> {
  clock += 1000;
  return { mineId, cameraId, alarm: 1, time: formatJsonTime(clock) };
}

async function send(t: Test, mine: GuideMine, body: Record<string, unknown>, endpoint = ONLINE): Promise<string> {
  const a = await mine.record(endpoint, body);
  t.equal(a.status, 200, `${mine.username}: ${endpoint.id} for ${String(body['mineId'])} accepted`);
  return String(body['time']);
}

/** The account's items not yet delivered, oldest first. */
function waiting(relay: TestRelay, account: string) {
  return relay.ctx.queue.range().filter((i) => i.state !== 'done' && i.payload.account === account);
}

const timesFrom = (relay: { received(f: { account?: string; endpoint?: string }): { record?: Record<string, unknown> }[] }, account: string, endpoint = ONLINE.id) =>
  relay.received({ account, endpoint }).map((i) => String(i.record?.['time']));

t.test('an account refused upstream waits; another account, same mine/camera/kind, is delivered meanwhile', async (t) => {
  const { sim, relay, mine: b } = await forwardingSetup(t, {
    sim: { accounts: [{ username: NATIONAL_USER, password: NATIONAL_PW }, { username: 'acctA', password: 'a-national-pw' }] },
  });
  const a = new GuideMine(relay.url, 'acctA', 'a-national-pw');
  t.equal((await a.login()).status, 200, 'A logs in through the relay (passthrough: any mine)');
  // the platform changes A's password and every token lapses: A's stored credentials are refused now
  sim.addAccount({ username: 'acctA', password: 'changed-upstream' });
  sim.expireTokens();

  const aTimes: string[] = [];
  for (let n = 0; n < 3; n++) aTimes.push(await send(t, a, online(MINE)));
  await waitFor(() => waiting(relay, 'acctA').some((i) => /refused the login/.test(i.lastError ?? '')), DELIVERY_MS, "A's login refused upstream");
  const bTimes: string[] = [];
  for (let n = 0; n < 3; n++) bTimes.push(await send(t, b, online(MINE)));

  await waitFor(() => timesFrom(sim, NATIONAL_USER).length === 3, DELIVERY_MS, "B's three items upstream while A's wait");
  t.strictSame(timesFrom(sim, NATIONAL_USER), bTimes, "B's items, in B's order");
  t.strictSame(timesFrom(sim, 'acctA'), [], 'none of A');
  const left = waiting(relay, 'acctA');
  t.equal(left.length, 3, "A's three items wait");
  t.match(left[0]!.lastError, /refused the login/);
  t.strictSame(relay.ctx.queue.range({ state: 'dead' }), [], 'a refused login is never a dead letter');
  t.match(relay.ctx.forwarder!.status().accountsWaiting, [{ account: 'acctA', reason: /refused the login/ }], 'status names A as waiting for its login');
  const out: string[] = [];
  const env = { ESEAL_DATA_DIR: relay.dataDir, ESEAL_RELAY_LISTEN: new URL(relay.url).host, ESEAL_RELAY_TLS: 'off', ESEAL_UPSTREAM_URL: sim.url };
  await main(['status'], { out: (l) => out.push(l), err: () => undefined, stdin: async () => '' }, env);
  t.match(out.join('\n'), new RegExp(`^waiting: {3}acctA: \\d+ queue\\(s\\) under ${MINE} wait for its upstream login \\(refused \\d+×; next try .*refused the login`, 'm'), 'eseal status says so in plain text too');

  // the mine fixes it: its new national password, through the relay; A's items go, in A's order
  sim.addAccount({ username: 'acctA', password: 'a-new-pw' });
  t.equal((await new GuideMine(relay.url, 'acctA', 'a-new-pw').login()).status, 200, 'A logs in with its new national password');
  await waitFor(() => timesFrom(sim, 'acctA').length === 3, DELIVERY_MS, "A's items once its login works");
  t.strictSame(timesFrom(sim, 'acctA'), aTimes, "A's items, in A's order");
  t.strictSame(relay.ctx.forwarder!.status().accountsWaiting, [], 'nothing waits for a login any more');
});

t.test("a passthrough account's items under another mine do not block that mine's own account", async (t) => {
  const { sim, relay } = await forwardingSetup(t, {
    sim: {
      accounts: [
        { username: NATIONAL_USER, password: NATIONAL_PW },
        { username: 'roamer', password: 'roamer-pw' },
        { username: 'other-own', password: 'other-national-pw', mines: [OTHER_MINE] },
      ],
    },
  });
  // the other mine's own account, made by the operator: only OTHER_MINE
  await relay.ctx.accounts.add({ username: 'other-own', password: 'relay-pw', mines: [OTHER_MINE], upstreamUsername: 'other-own', upstreamPassword: 'other-national-pw' });
  const own = new GuideMine(relay.url, 'other-own', 'relay-pw');
  t.equal((await own.login()).status, 200);
  const roamer = new GuideMine(relay.url, 'roamer', 'roamer-pw');
  t.equal((await roamer.login()).status, 200, 'a passthrough account: it may send for any mine');
  sim.addAccount({ username: 'roamer', password: 'no-longer' });
  sim.expireTokens();

  const person = (cameraId: string) => {
    clock += 1000;
    return { mineId: OTHER_MINE, cameraId, aiTypeCode: '01', inWellNumber: '0003', time: formatJsonTime(clock) };
  };
  // the roamer's items come first, on the same mine/camera/kind as the own account's (10, 20), and
  // on three more cameras of each kind: eight queues of one account waiting for its login
  for (const [status, record] of [['10', '20'], ['11', '21'], ['12', '22'], ['13', '23']] as const) {
    await send(t, roamer, online(OTHER_MINE, status));
    await send(t, roamer, person(record), PERSON);
  }
  await waitFor(() => waiting(relay, 'roamer').some((i) => /refused the login/.test(i.lastError ?? '')), DELIVERY_MS, "the roamer's login refused upstream");
  const ownOnline: string[] = [];
  const ownPerson: string[] = [];
  for (let n = 0; n < 3; n++) {
    ownOnline.push(await send(t, own, online(OTHER_MINE)));
    ownPerson.push(await send(t, own, person('20'), PERSON));
  }
  await waitFor(
    () => timesFrom(sim, 'other-own').length === 3 && timesFrom(sim, 'other-own', PERSON.id).length === 3,
    DELIVERY_MS,
    "the mine's own items upstream",
  );
  t.strictSame(timesFrom(sim, 'other-own'), ownOnline, 'camera status in order');
  t.strictSame(timesFrom(sim, 'other-own', PERSON.id), ownPerson, 'records in order');
  t.equal(sim.received({ account: 'roamer' }).length, 0, 'nothing of the roamer');
  t.equal(waiting(relay, 'roamer').length, 8, "the roamer's items wait");

  // set aside with one back-off for the account: one login try per round, not one per queue
  const roamerWait = () => relay.ctx.forwarder!.status().accountsWaiting.find((w) => w.account === 'roamer');
  await waitFor(() => (roamerWait()?.failures ?? 0) >= 3 && roamerWait()?.heads === 8, DELIVERY_MS, 'three rounds of refused logins');
  const { failures, heads, mines } = roamerWait()!;
  t.strictSame({ heads, mines }, { heads: 8, mines: [OTHER_MINE] }, 'its eight queues, under the other mine');
  const tried = sim.stats().loginFailures;
  t.ok(tried <= failures + 1, `${tried} refused logins upstream for ${failures} rounds of eight queues`);
  const lanes = relay.ctx.forwarder!.status().lanes;
  t.equal(lanes[ONLINE.lane]!.waitingForLogin + lanes[PERSON.lane]!.waitingForLogin, 8, 'the lanes say which of their queues wait for a login');
});

t.test('items queued before per-account keys: moved at the first start, forwarded, in order with new ones', async (t) => {
  const dataDir = await tempDir(t);
  const sim = await startSim(t, {
    accounts: [
      { username: NATIONAL_USER, password: NATIONAL_PW },
      { username: 'old-refused', password: 'its-national-pw' },
    ],
  });
  const set = { 'upstream.url': sim.url, ...FAST_FORWARD };

  // An older relay's data dir: two accounts' items interleaved under one mine/camera/kind key, the
  // head one of an account whose national password is wrong.
  const config = await testConfig(dataDir, set);
  const stores = await openRelayStores(config);
  await stores.accounts.add({ username: 'old-ok', password: 'relay-pw', mines: [MINE], upstreamUsername: NATIONAL_USER, upstreamPassword: NATIONAL_PW });
  await stores.accounts.add({ username: 'old-refused', password: 'relay-pw', mines: [MINE], upstreamUsername: 'old-refused', upstreamPassword: 'wrong' });
  const oldQueue = new LmdbQueueStore<RelayItem>(stores.root, { name: 'queue' });
  const oldTimes: Record<string, string[]> = { 'old-ok': [], 'old-refused': [] };
  for (const account of ['old-refused', 'old-ok', 'old-refused', 'old-ok', 'old-ok']) {
    const { value } = checkRecord(ONLINE, online(MINE), { now: Date.now(), maxSkewMs: Infinity });
    const item: RelayItem = { v: 1, endpoint: ONLINE.id, account, mineId: MINE, cameraId: '10', receivedAt: Date.now(), requestId: 'old', from: '127.0.0.1', flags: [], record: value };
    await oldQueue.append({ key: legacyQueueKey(item), lane: ONLINE.lane, payload: item, dedupeKey: `old-${oldTimes[account]!.length}-${account}` });
    oldTimes[account]!.push(String(value['time']));
  }
  t.equal(oldQueue.range()[0]!.key, `${MINE}/10/${ONLINE.id}`, 'written with the old key');
  await oldQueue.close();
  await stores.close();

  // the new relay, upstream down at first so that old and new items of old-ok queue together
  await sim.setFaults({ down: true });
  const relay = await startTestRelay(t, set, dataDir);
  t.ok(relay.ctx.queue.range().every((i) => i.key === queueKey(i.payload)), 'every old item has its per-account key');
  const mine = new GuideMine(relay.url, 'old-ok', 'relay-pw');
  t.equal((await mine.login()).status, 200);
  const newTimes: string[] = [];
  for (let n = 0; n < 2; n++) newTimes.push(await send(t, mine, online(MINE)));
  await sim.setFaults({ down: false });

  await waitFor(() => timesFrom(sim, NATIONAL_USER).length === 5 && waiting(relay, 'old-ok').length === 0, DELIVERY_MS, "old-ok's old and new items upstream");
  t.strictSame(timesFrom(sim, NATIONAL_USER), [...oldTimes['old-ok']!, ...newTimes], 'old items first, then the new ones, in order');
  const stuck = waiting(relay, 'old-refused');
  t.equal(stuck.length, 2, "the refused account's old items wait, blocking nobody");
  t.strictSame(relay.ctx.queue.stats().pendingByLane, { [ONLINE.lane]: 2 }, 'the lane counts only what waits');
});
