import t from 'tap';
import { request } from 'undici';
import { main } from '../../app/main.ts';
import type { CommandIO } from '../../src/cli/command.ts';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { forwardingSetup, waitFor } from '../helpers/forwarding.ts';
import { MINE } from '../helpers/relay.ts';

function io(): CommandIO & { text: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (l) => out.push(l), err: (l) => err.push(l), stdin: async () => '', text: () => out.join('\n'), errText: () => err.join('\n') };
}

t.test('eseal status and eseal queue on a relay whose upstream refuses and then fails', async (t) => {
  const { sim, relay, mine } = await forwardingSetup(t, {
    sim: { faults: { reject: { endpoint: 'infoReport/truck', status: 400, code: 400, msg: 'truck gate not registered' } } },
  });
  const env = { ESEAL_DATA_DIR: relay.dataDir, ESEAL_RELAY_LISTEN: new URL(relay.url).host, ESEAL_RELAY_TLS: 'off', ESEAL_UPSTREAM_URL: sim.url };
  const run = async (argv: string[]) => {
    const x = io();
    const code = await main(argv, x, env);
    return { code, out: x.text(), err: x.errText() };
  };
  const truck = { mineId: MINE, cameraId: '30', aiTypeCode: '02', outMineNumber: '0001', time: formatJsonTime() };
  t.equal((await mine.record(RECORD_ENDPOINTS.truck, truck)).status, 200);
  await waitFor(() => relay.ctx.queue.stats().byState.dead === 1, 10_000, 'a dead letter');

  const healthy = await run(['status']);
  t.equal(healthy.code, 0, healthy.err);
  t.match(healthy.out, /relay: {5}running, up/);
  t.match(healthy.out, new RegExp(`upstream:  ${sim.url.replace(/[.]/g, '\\.')}: up`));
  t.match(healthy.out, /^LANE\s+PENDING\s+IN FLIGHT\s+OLDEST\s+BUDGET/m);
  t.match(healthy.out, /queue: {5}0 pending, 1 dead/);
  t.match(healthy.out, /140421007866\s+\d{4}-\d{2}-\d{2}/, 'the mine, last seen');

  const dead = await run(['queue', 'ls', '--state', 'dead']);
  t.match(dead.out, /dead\s+record\s+infoReport\/truck\s+140421007866\s+30 .*HTTP 400 .*truck gate not registered/);
  const seq = /^(\d+)\s+dead/m.exec(dead.out)?.[1];
  t.ok(seq);
  const show = await run(['queue', 'show', seq!]);
  t.same(JSON.parse(show.out).payload.record, truck);

  // the same through the admin API
  const admin = (path: string, method = 'GET') =>
    request(relay.url + path, { method: method as 'GET', headers: { authorization: `Bearer ${relay.ctx.adminToken}` } }).then(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as any }));
  const listed = await admin('/admin/queue?state=dead');
  t.equal(listed.status, 200);
  t.same(listed.body.data.items.map((i: { seq: number }) => i.seq), [Number(seq)]);
  t.match(listed.body.data.items[0].deadReason, /truck gate not registered/);
  t.equal((await admin(`/admin/queue/${seq}`)).body.data.payload.endpoint, 'infoReport/truck');
  t.equal((await admin('/admin/queue/abc')).status, 400);
  t.equal((await admin('/admin/queue/999999')).status, 404);
  t.equal((await admin('/admin/queue?state=lost')).status, 400);
  const anon = await request(relay.url + '/admin/queue');
  t.equal(anon.statusCode, 401);
  await anon.body.dump();

  // the platform goes down: status says so
  await sim.setFaults({ down: true, reject: null });
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '10', alarm: 1, time: formatJsonTime() })).status, 200);
  await waitFor(() => relay.ctx.forwarder!.status().upstream.state === 'open' || (relay.ctx.queue.stats().byState.ready ?? 0) > 0, 10_000, 'a failed send');
  const replay = await run(['queue', 'replay', '--all-dead']);
  t.match(replay.out, /1 item\(s\) ready to be sent again/);
  await sim.setFaults({ down: false });
  await waitFor(() => sim.received({ endpoint: 'infoReport/truck' }).length === 1, 15_000, 'the replayed item delivered');
  await waitFor(() => relay.ctx.queue.stats().byState.done === 2, 10_000, 'both delivered');
  const purge = await run(['queue', 'purge', '--done-before', '0']);
  t.match(purge.out, /2 item\(s\) purged/);
  t.equal(relay.ctx.queue.stats().byState.done, 0);
  const refused = await run(['queue', 'purge', '99999']);
  t.equal(refused.code, 1);

  const json = JSON.parse((await run(['status', '--json'])).out);
  t.equal(json.running, true);
  t.equal(json.lanes.record.budgetSeconds, 30);
  await relay.close();
  const stopped = await run(['status']);
  t.equal(stopped.code, 3, 'not running: exit 3');
  t.match(stopped.out, /NOT RUNNING/);
});
