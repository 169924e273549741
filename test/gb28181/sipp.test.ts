// SIPp scenarios written from the standard (test/gb28181/sipp/*.xml) against the bridge over UDP:
// a device registers with digest and sends a keepalive; then it answers a catalog query. Skipped,
// with the reason, when SIPp (Debian package sip-tester) is not installed.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { queryCatalog } from '../../gb28181/commander/queries.ts';
import { DEVICE, DOMAIN, PASSWORD, gbConfig, startBridge } from './fixture.ts';
import { tempDir } from '../helpers/tempDir.ts';

const sipp = spawnSync('sipp', ['-v'], { encoding: 'utf8' });
const haveSipp = !sipp.error;
const dir = fileURLToPath(new URL('./sipp/', import.meta.url));

function runSipp(scenario: string, serverPort: number, localPort: number, extra: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const args = [
      `127.0.0.1:${serverPort}`,
      '-sf', `${dir}${scenario}`,
      '-i', '127.0.0.1', '-p', String(localPort), '-t', 'u1',
      '-s', DEVICE, '-key', 'server_id', '34020000002000000001', '-key', 'domain', DOMAIN,
      '-m', '1', '-timeout', '20s', '-timeout_error', '-bg', '-nostdin', '-trace_err',
      ...extra,
    ].filter((a) => a !== '-bg');
    const child = spawn('sipp', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out: out.slice(-2000) }));
  });
}

async function freeUdpPort(): Promise<number> {
  const dgram = await import('node:dgram');
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

t.test('SIPp: register with digest, keepalive, catalog response', { skip: haveSipp ? false : 'sipp is not installed (apt-get install sip-tester)' }, async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const cwd = await tempDir(t, 'eseal-sipp-');
  const port = bridge.context.endpoint.udpPort;
  const local = await freeUdpPort();
  const reg = await runSipp('register.xml', port, local, ['-au', DEVICE, '-ap', PASSWORD], cwd);
  t.equal(reg.code, 0, reg.out);
  const d = bridge.context.registry.get(DEVICE)!;
  t.equal(d.online, true);
  t.equal(d.port, local);
  t.ok(d.lastKeepaliveAt > 0);

  // the device (SIPp again, on the port it registered from) answers the bridge's catalog query
  const answering = runSipp('catalog.xml', port, local, [], cwd);
  // SIPp needs a moment to bind: the query is retransmitted over UDP until it answers
  const channels = await queryCatalog(bridge.context.commander, bridge.context.catalog, DEVICE, 15_000);
  t.same(channels.map((c) => c.name).sort(), ['SIPp camera 1', 'SIPp camera 2']);
  const done = await answering;
  t.equal(done.code, 0, done.out);
  t.equal(bridge.context.store.channel(DEVICE, '34020000001310000102')!.status, 'OFF');

  const wrong = await runSipp('register.xml', port, await freeUdpPort(), ['-au', DEVICE, '-ap', 'wrong-password'], cwd);
  t.not(wrong.code, 0, 'a wrong password fails the scenario (403 instead of 200)');
});
