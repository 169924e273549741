// REGISTER over real UDP and TCP on loopback: digest with and without qop, 401 / 403, unregister,
// NAT rebinding, the Date header, the keepalive watchdog, per-device passwords, the failure limit.
import t from 'tap';
import { parseSipTime } from '../../src/gb28181/sipTime.ts';
import { waitFor } from '../helpers/wait.ts';
import { DEVICE, PASSWORD, device, gbConfig, registered, startBridge } from './fixture.ts';

for (const protocol of ['UDP', 'TCP'] as const) {
  t.test(`${protocol}: no credentials → 401 with an MD5 challenge for the domain; right password → 200 with Beijing Date`, async (t) => {
    const bridge = await startBridge(t, await gbConfig(t));
    const ua = await device(t, bridge, protocol);
    for (const qop of [true, false]) {
      const [challenge, ok] = await ua.register(PASSWORD, { qop });
      t.equal(challenge!.status, 401);
      const www = JSON.stringify(challenge!.headers['www-authenticate']);
      t.match(www, /realm.*3402000000/);
      t.match(www, /algorithm.*MD5/);
      t.equal(ok!.status, 200, `qop ${qop}`);
      const date = String(ok!.headers['date']);
      t.match(date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/);
      t.ok(Math.abs(parseSipTime(date)! - Date.now()) < 5000, 'the Date is now, in Beijing time');
      t.equal(Number(ok!.headers.expires), 3600);
    }
    const d = bridge.context.registry.get(DEVICE)!;
    t.equal(d.online, true);
    t.equal(d.transport, protocol);
    t.equal(d.port, ua.localPort);
  });
}

t.test('wrong password → 403; unknown device without its own password → 403; failures per address are limited', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t, { 'gb28181.limits.authFailuresPerMinute': 3 }));
  const ua = await device(t, bridge);
  const [c, wrong] = await ua.register('not-the-password');
  t.equal(c!.status, 401);
  t.equal(wrong!.status, 403);
  t.equal(bridge.context.registry.get(DEVICE), undefined, 'nothing registered');
  await ua.register('nope');
  await ua.register('nope');
  // the limit reached: even the right password is refused from this address for the minute
  const answers = await ua.register(PASSWORD);
  t.equal(answers[0]!.status, 403);
});

t.test('an empty shared password lets only devices with their own password register', async (t) => {
  const other = '34020000001320000002';
  const cfg = await gbConfig(t, { 'gb28181.password': '' });
  cfg.gb28181.devices = [{ id: other, password: 'own-pass', name: 'pit NVR' }];
  const bridge = await startBridge(t, cfg);
  const a = await device(t, bridge, 'UDP', DEVICE);
  t.equal((await a.register(''))[1]!.status, 403, 'no password configured for it: refused even with an empty one');
  const b = await device(t, bridge, 'UDP', other);
  t.equal((await b.register('own-pass'))[1]!.status, 200);
  t.equal(bridge.context.registry.get(other)!.name, 'pit NVR');
});

t.test('Expires: 0 unregisters; the device goes offline', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const ua = await registered(t, bridge);
  const offline: string[] = [];
  bridge.context.registry.on('offline', (d, reason) => offline.push(`${d.id}:${reason}`));
  const [, ok] = await ua.register(PASSWORD, { expires: 0 });
  t.equal(ok!.status, 200);
  t.equal(bridge.context.registry.get(DEVICE)!.online, false);
  t.same(offline, [`${DEVICE}:unregistered`]);
  t.equal((await ua.keepalive()).status, 404, 'a keepalive after unregistering gets 404');
});

t.test('NAT rebinding: a keepalive from a new port moves the device there', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const first = await registered(t, bridge);
  const moved = await device(t, bridge);
  t.not(moved.localPort, first.localPort);
  t.equal((await moved.keepalive()).status, 200);
  t.equal(bridge.context.registry.get(DEVICE)!.port, moved.localPort);
  // and a REGISTER from yet another port
  const again = await registered(t, bridge);
  t.equal(bridge.context.registry.get(DEVICE)!.port, again.localPort);
});

t.test('keepalive timeout: offline after the configured misses', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t, { 'gb28181.sip.keepaliveSeconds': 1, 'gb28181.sip.keepaliveMisses': 2 }));
  const ua = await registered(t, bridge);
  t.equal((await ua.keepalive(1)).status, 200);
  const start = Date.now();
  const reasons: string[] = [];
  bridge.context.registry.on('offline', (_d, reason) => reasons.push(reason));
  await waitFor(() => reasons.length > 0, 10_000, 'the device going offline');
  t.same(reasons, ['keepalive']);
  t.ok(Date.now() - start >= 1500, 'not before two intervals');
  t.equal(bridge.context.registry.get(DEVICE)!.online, false);
});

t.test('a stale nonce is challenged again with stale=TRUE', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const ua = await device(t, bridge);
  const [challenge] = await ua.register(PASSWORD, { authenticate: false });
  // the same answer, computed on a nonce made 10 minutes ago
  const digest = bridge.context.digest;
  const old = digest.challenge(false, Date.now() - 600_000);
  const staleChallenge = { ...challenge!, headers: { ...challenge!.headers, 'www-authenticate': [{ scheme: 'Digest', realm: '"3402000000"', nonce: `"${/nonce="([^"]+)"/.exec(old)![1]}"`, qop: '"auth"' }] } };
  const rs = await ua.transact(ua.authorized(staleChallenge as never, PASSWORD, 3600, true));
  t.equal(rs.status, 401);
  t.match(JSON.stringify(rs.headers['www-authenticate']), /stale/i);
});

t.test('TCP: the device closing its connection takes it offline (it must connect and register again)', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const ua = await registered(t, bridge, 'TCP');
  const reasons: string[] = [];
  bridge.context.registry.on('offline', (_d, reason) => reasons.push(reason));
  await ua.close();
  await waitFor(() => reasons.length > 0, 5000, 'offline');
  t.same(reasons, ['connection']);
  const back = await registered(t, bridge, 'TCP');
  t.equal(bridge.context.registry.get(DEVICE)!.port, back.localPort);
  t.equal(bridge.context.registry.get(DEVICE)!.online, true);
});

t.test('a SIP port in use: ESEAL_ERR_SIP_LISTEN naming the key, no crash', async (t) => {
  const net = await import('node:net');
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const cfg = await gbConfig(t, { 'gb28181.sip.listen': `127.0.0.1:${port}` });
  const { GbService } = await import('../../gb28181/GbService.ts');
  const pino = (await import('pino')).default;
  const s = new GbService(cfg, pino({ level: 'silent' }));
  await t.rejects(s.start(), { code: 'ESEAL_ERR_SIP_LISTEN', field: 'gb28181.sip.listen' });
});
