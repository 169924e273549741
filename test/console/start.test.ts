// `eseal start` as `npm start` runs it: the relay and the console in one process, the relay on
// HTTPS with its self-signed certificate; the console finds it from relay.listen, trusts that
// certificate because it is on loopback, reads the admin token the relay made, and shows its status.
import t from 'tap';
import { main } from '../../app/main.ts';
import { EsealChild } from '../../tools/esealChild.ts';
import { freePort } from '../helpers/gbBridge.ts';
import { tempDir } from '../helpers/relay.ts';
import { ConsoleClient } from './fixture.ts';

t.test('eseal start runs relay and console; the console reads the HTTPS relay on loopback', async (t) => {
  const dataDir = await tempDir(t);
  const relayPort = await freePort();
  const child = EsealChild.spawn({
    args: ['start'],
    env: {
      ...process.env,
      ESEAL_DATA_DIR: dataDir,
      ESEAL_RELAY_LISTEN: `127.0.0.1:${relayPort}`,
      ESEAL_RELAY_TLS: 'auto',
      ESEAL_ADMIN_LISTEN: '127.0.0.1:0',
      ESEAL_LOG_LEVEL: 'info',
      ESEAL_ROLES: '',
    },
    keepLines: 200,
    guard: (kill) => t.teardown(kill),
  });
  const line = await child.waitForLine((l) => l.includes('"console listening"'), 30_000, 'the console');
  const { url, relayAdmin } = JSON.parse(line) as { url: string; relayAdmin: string };
  t.equal(relayAdmin, `https://127.0.0.1:${relayPort}`, 'derived from relay.listen, over HTTPS');
  await child.waitForLine((l) => l.includes('"console role running"'), 30_000, 'both roles');

  const x = { out: () => {}, err: () => {}, stdin: async () => 'viewer-password\n' };
  t.equal(await main(['console', 'users', 'add', 'watcher', '--role', 'viewer', '--password', '-'], x, { ESEAL_DATA_DIR: dataDir }), 0);
  const c = new ConsoleClient(url);
  t.equal((await c.login('watcher', 'viewer-password')).status, 200);
  const ov = await c.call('GET', '/api/overview');
  t.match(ov.json.data, { relay: { url: relayAdmin, reachable: true }, roles: ['relay', 'console'], status: { running: true } });

  child.child.kill('SIGTERM');
  t.equal((await child.exited).code, 0, 'both close on SIGTERM');
  t.notOk(child.lines.join('\n').includes('viewer-password'), 'no password in the log');
});
