// The console's configuration, its place among the roles, and its client of the relay's admin API
// (HTTPS with the relay's self-signed certificate, accepted on loopback only).
import t from 'tap';
import { loadAppConfig, DEFAULT_CONFIG } from '../../app/config.ts';
import { SERVICE_ROLES } from '../../app/roles.ts';
import { main } from '../../app/main.ts';
import { AdminClient, isLoopbackHost, relayAdminFrom, relayUrlFromListen } from '../../console/upstream/RelayAdmin.ts';
import { startTestRelay, tempDir } from '../helpers/relay.ts';
import { join } from 'node:path';

t.test('defaults, environment, and the default roles', async (t) => {
  t.same(DEFAULT_CONFIG.admin, { listen: '127.0.0.1:9090', sessionHours: 12, relay: { url: '', token: '' }, gb28181: { url: '', token: '' } });
  t.same(DEFAULT_CONFIG.roles, ['relay', 'console'], 'npm start runs the relay and its console');
  t.ok(SERVICE_ROLES.includes('console'));
  const c = await loadAppConfig({ env: { ESEAL_ADMIN_LISTEN: '0.0.0.0:9443' } });
  t.equal(c.admin.listen, '0.0.0.0:9443');
  await t.rejects(loadAppConfig({ env: { ESEAL_ADMIN_LISTEN: 'nowhere' } }), /admin\.listen: must be host:port/);
  await t.rejects(loadAppConfig({ set: { 'admin.relay.url': 'ftp://x' } }), /admin\.relay\.url: must be an http:\/\/ or https:\/\/ URL/);
  await t.rejects(loadAppConfig({ set: { 'admin.sessionHours': 0 } }), /admin\.sessionHours/);

  const out: string[] = [];
  const code = await main(['config', 'check'], { out: (l) => out.push(l), err: () => {}, stdin: async () => '' }, { ESEAL_DATA_DIR: await tempDir(t) });
  t.equal(code, 0);
  t.match(out.join('\n'), /admin\.relay\.token = \(hidden\)/, 'the token is a secret');
});

t.test('the relay URL follows relay.listen on this host', async (t) => {
  t.equal(relayUrlFromListen('0.0.0.0:8443', 'auto'), 'https://127.0.0.1:8443');
  t.equal(relayUrlFromListen('[::]:8443', 'files'), 'https://[::1]:8443');
  t.equal(relayUrlFromListen('10.1.2.3:8080', 'off'), 'http://10.1.2.3:8080');
  const c = await loadAppConfig({ env: {} });
  t.equal(relayAdminFrom(c).url, 'https://127.0.0.1:8443');
  t.equal(relayAdminFrom({ ...c, admin: { ...c.admin, relay: { url: 'https://relay.example:8443/', token: 'x' } } }).url, 'https://relay.example:8443');
  for (const h of ['127.0.0.1', '127.9.9.9', '::1', '[::1]', 'localhost']) t.ok(isLoopbackHost(h), `${h}: loopback`);
  for (const h of ['10.0.0.1', '0.0.0.0', 'relay.example', '128.0.0.1', '127.0.0.1.example']) t.notOk(isLoopbackHost(h), `${h}: not loopback`);
});

t.test("the relay's self-signed HTTPS listener, on loopback, with the admin token read from the data dir", async (t) => {
  const relay = await startTestRelay(t, { 'relay.tls.mode': 'auto' });
  t.match(relay.url, /^https:\/\/127\.0\.0\.1:/);
  const client = new AdminClient({ url: relay.url, token: '', tokenFile: join(relay.dataDir, 'admin.token') });
  t.teardown(() => client.close());
  const status = await client.get<{ running: boolean }>('/admin/status');
  t.equal(status.running, true);
  const wrong = new AdminClient({ url: relay.url, token: 'not-the-token', tokenFile: '' });
  t.teardown(() => wrong.close());
  t.equal((await wrong.call('GET', '/admin/status')).status, 401, 'a wrong token is refused by the relay');
});
