// The bridge registering to an upper platform (a second bridge) over real UDP: digest, keepalives,
// re-registration before expiry, after the platform restarts (it forgets us: 404) and after it was
// gone (timeouts: backoff, then back); the state file and `eseal gb28181 cascade`.
import t, { type Test } from 'tap';
import { cascadeCommand, cascadeViews } from '../../../gb28181/cascade/cli.ts';
import { waitFor } from '../../helpers/wait.ts';
import { LOWER_ID, UPPER_ID, cascadeEntry, startLower, startUpper } from './fixture.ts';

t.test('registers with digest (the upper offers qop), keepalives arrive, the CLI shows the state', async (t) => {
  const { upper } = await startUpper(t);
  const { lower } = await startLower(t, cascadeEntry(upper, { keepaliveSeconds: 1 }));
  const client = lower.cascade!.client(UPPER_ID)!;
  await waitFor(() => client.registered, 10_000, 'the cascade registering');
  const seen = upper.context.registry.get(LOWER_ID)!;
  t.equal(seen.online, true, 'the upper platform has us online');
  t.equal(seen.port, lower.context.endpoint.udpPort, 'from our SIP port');
  const firstKeepalive = seen.lastKeepaliveAt;
  await waitFor(() => client.state.lastKeepaliveOk && upper.context.registry.get(LOWER_ID)!.lastKeepaliveAt > firstKeepalive, 10_000, 'a keepalive accepted');
  t.equal(client.state.keepaliveFailures, 0);
  t.equal(client.state.registrations, 1);

  await waitFor(() => cascadeViews(lower.config).some((v) => v.registered), 5000, 'the state file');
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: () => {}, stdin: async () => '' };
  await cascadeCommand.run({ positionals: [], values: { json: true }, config: async () => lower.config, io });
  const views = JSON.parse(lines.join('\n')) as { id: string; registered: boolean; lastKeepaliveOk: boolean; stale: boolean; localId: string }[];
  t.equal(views.length, 1);
  t.match(views[0], { id: UPPER_ID, registered: true, stale: false, localId: LOWER_ID });
  lines.length = 0;
  await cascadeCommand.run({ positionals: [], values: {}, config: async () => lower.config, io });
  t.match(lines.join('\n'), new RegExp(`${UPPER_ID}.*registered`));
});

t.test('re-registers before the granted expiry runs out', async (t) => {
  const { upper } = await startUpper(t);
  // the upper grants what we ask down to 1 s; we ask 2 s and must come back before it lapses
  const { lower } = await startLower(t, cascadeEntry(upper, { expires: 2, keepaliveSeconds: 60 }));
  const client = lower.cascade!.client(UPPER_ID)!;
  await waitFor(() => client.state.registrations >= 3, 10_000, 'three registrations');
  t.equal(upper.context.registry.get(LOWER_ID)!.online, true, 'never lapsed at the upper');
});

t.test('a wrong password: refused, retried with backoff, never registered', async (t) => {
  const { upper } = await startUpper(t);
  const { lower } = await startLower(t, cascadeEntry(upper, { password: 'wrong', keepaliveSeconds: 1 }));
  const client = lower.cascade!.client(UPPER_ID)!;
  await waitFor(() => client.state.lastErrorCode !== '', 10_000, 'a registration error');
  t.equal(client.state.lastErrorCode, 'ESEAL_ERR_CASCADE_REFUSED', '403 from the upper');
  t.equal(client.registered, false);
  t.equal(upper.context.registry.get(LOWER_ID), undefined);
});

/** Registered with keepalives every second, then the upper platform closes; its port is free for the next. */
async function registeredThenUpperGone(t: Test) {
  const first = await startUpper(t);
  const port = first.upper.context.endpoint.udpPort;
  const { lower } = await startLower(t, cascadeEntry(first.upper, { keepaliveSeconds: 1 }));
  const client = lower.cascade!.client(UPPER_ID)!;
  await waitFor(() => client.registered, 10_000, 'registered');
  await first.upper.close();
  return { port, client };
}

t.test('the upper platform restarts and forgets us: the keepalive gets 404 and we register again', async (t) => {
  const { port, client } = await registeredThenUpperGone(t);
  // a new platform on the same port with an empty store
  const second = await startUpper(t, port);
  await waitFor(() => second.upper.context.registry.get(LOWER_ID)?.online === true, 15_000, 'registered with the restarted platform');
  t.ok(client.state.registrations >= 2);
  t.equal(client.registered, true);
});

t.test('the upper platform is gone: keepalives time out, we retry, and register when it is back', async (t) => {
  const { port, client } = await registeredThenUpperGone(t);
  await waitFor(() => !client.registered, 20_000, 'noticing the platform is gone');
  t.equal(client.state.lastErrorCode, 'ESEAL_ERR_CASCADE_UNREACHABLE');
  const before = client.state.registrations;
  const second = await startUpper(t, port);
  await waitFor(() => client.registered && client.state.registrations > before, 20_000, 'back');
  t.equal(second.upper.context.registry.get(LOWER_ID)?.online, true);
});

t.test('closing the bridge unregisters from the upper platform', async (t) => {
  const { upper } = await startUpper(t);
  const { lower } = await startLower(t, cascadeEntry(upper));
  await waitFor(() => lower.cascade!.client(UPPER_ID)!.registered, 10_000, 'registered');
  await lower.close();
  t.equal(upper.context.registry.get(LOWER_ID)!.online, false, 'Expires: 0 took us offline');
});

t.test('over TCP: one connection to the platform carries REGISTER, keepalives, its catalog query and our pages', async (t) => {
  const { upper } = await startUpper(t);
  const { lower } = await startLower(t, cascadeEntry(upper, { transport: 'tcp', port: upper.context.endpoint.tcpPort, keepaliveSeconds: 1 }));
  const client = lower.cascade!.client(UPPER_ID)!;
  await waitFor(() => client.registered, 10_000, 'registered over TCP');
  t.equal(upper.context.registry.get(LOWER_ID)!.transport, 'TCP');
  await waitFor(() => client.state.lastKeepaliveOk, 10_000, 'a keepalive over TCP');
  const items = await upper.queryCatalog(LOWER_ID);
  t.equal(items.length, 1, 'the business group alone (no mine yet), over the same connection');
});
