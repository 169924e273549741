// The circuit breaker's half-open trial must end whatever the trial item's fate: an item whose
// account waits for its upstream login (no call, or a refused login) tells nothing about the link,
// and must hand the trial on, or forwarding stalls for every account after an outage.
import t from 'tap';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { NATIONAL_PW, NATIONAL_USER, forwardingSetup, waitFor } from '../helpers/forwarding.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE } from '../helpers/relay.ts';

const ONLINE = RECORD_ENDPOINTS.cameraOnline;

t.test("after an outage, a half-open trial taken by an account waiting for its login does not stall the others", async (t) => {
  const { sim, relay, mine: b } = await forwardingSetup(t, {
    sim: { accounts: [{ username: NATIONAL_USER, password: NATIONAL_PW }, { username: 'acctA', password: 'a-national-pw' }] },
  });
  const forwarder = relay.ctx.forwarder!;
  const a = new GuideMine(relay.url, 'acctA', 'a-national-pw');
  t.equal((await a.login()).status, 200);
  // A's national password changes and its token lapses: its items will wait for a login
  sim.addAccount({ username: 'acctA', password: 'changed-upstream' });
  sim.expireTokens();
  await sim.setFaults({ down: true });
  t.equal((await a.record(ONLINE, { mineId: MINE, cameraId: '10', alarm: 1, time: formatJsonTime(Date.now() - 5000) })).status, 200);
  // A's item, the only one queued, fails on the dead link until the breaker opens
  await waitFor(() => forwarder.status().upstream.state === 'open', 30_000, 'the breaker open');
  const attemptsWhileDown = () => relay.ctx.queue.range().find((i) => i.payload.account === 'acctA')!.attempts;
  await sim.setFaults({ down: false });
  // the probe lets one trial through: A's item, the only one ready; its login is refused (or it waits)
  const before = attemptsWhileDown();
  await waitFor(() => forwarder.status().upstream.state !== 'open' && attemptsWhileDown() > before, 30_000, "A's item tried after the link came back");
  // B's record must still go: the trial was handed on
  const time = formatJsonTime(Date.now() - 1000);
  t.equal((await b.record(ONLINE, { mineId: MINE, cameraId: '10', alarm: 1, time })).status, 200);
  await waitFor(() => sim.received({ account: NATIONAL_USER, endpoint: ONLINE.id }).length === 1, 20_000, "B's record at the platform");
  // the platform has the record before the relay has its answer: wait for the forwarder to take it
  await waitFor(() => forwarder.status().upstream.state === 'closed', 20_000, 'the breaker closed on B');
  t.equal(forwarder.status().upstream.state, 'closed', 'the breaker closed on B');
  t.ok(relay.ctx.queue.range().some((i) => i.payload.account === 'acctA' && i.state !== 'done'), "A's item still waits for its login");
});
