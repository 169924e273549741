// `eseal sim device` as an integrator runs it: it registers, prints where it is, logs, answers a
// catalog query, and on SIGTERM unregisters and exits 0; a bad option is named.
import t from 'tap';
import { deviceOptions } from '../../../sim/device/command.ts';
import { EsealChild } from '../../../tools/esealChild.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DEVICE_ID, PASSWORD, Peer, SERVER_ID } from './peer.ts';

t.test('options: defaults, knobs, and errors that name the flag', async (t) => {
  const o = deviceOptions({ server: '10.0.0.1:5060', id: DEVICE_ID, password: 'pw', 'no-psm': true, 'catalog-order': 'reversed', 'bye-after': '5', h265: true });
  t.match(o, { server: { host: '10.0.0.1', port: 5060 }, serverId: SERVER_ID, domain: '3402000000', transport: 'udp', codec: 'h265', noPsm: true, catalogOrder: 'reversed', byeAfterSeconds: 5, charset: 'GB2312' });
  t.throws(() => deviceOptions({ id: DEVICE_ID, password: 'pw' }), { code: 'ESEAL_ERR_SIM_OPTIONS', message: /^--server: is required/ });
  t.throws(() => deviceOptions({ server: 'x', id: DEVICE_ID, password: 'pw' }), { message: /^--server: must be IPv4:PORT/ });
  t.throws(() => deviceOptions({ server: '1.2.3.4:5', id: DEVICE_ID, password: 'pw', transport: 'sctp' }), { message: /^--transport: must be one of udp, tcp/ });
});

t.test('eseal sim device: registers, answers, unregisters on SIGTERM', async (t) => {
  const peer = await Peer.start(t, { protocol: 'udp' });
  const child = EsealChild.spawn({
    args: ['sim', 'device', '--server', `127.0.0.1:${peer.port}`, '--id', DEVICE_ID, '--password', PASSWORD, '--channels', '3', '--keepalive', '3600'],
    name: 'the device simulator',
    keepLines: 10_000,
    guard: (kill) => t.teardown(kill),
  });
  await child.waitForLine((l) => l.startsWith('stop with'), 120_000, 'print its header');
  t.ok(peer.registered);
  t.ok(child.lines.some((l) => /^ {2}channels: .*主井口/.test(l)));
  await peer.query('Catalog', 2);
  await waitFor(() => peer.bodies('Catalog').length === 2, 10_000, 'two catalog pages');
  await child.waitForLine((l) => l.includes('"msg":"query"') && l.includes('Catalog'), 10_000, 'log the query');
  t.notMatch(child.lines.join('\n'), PASSWORD, 'the password is not printed');
  child.child.kill('SIGTERM');
  t.equal((await child.exited).code, 0);
  t.ok(peer.unregistered, 'REGISTER Expires: 0 on the way out');
  // stdout and the log (stderr) interleave as the pipes deliver them: the line is there, not always last
  t.ok(child.lines.some((l) => /^stopped \(SIGTERM\)/.test(l)), "says it stopped on SIGTERM");
});

t.test('eseal sim device: a missing clip is named, nothing registers, the exit is non-zero', async (t) => {
  const peer = await Peer.start(t, { protocol: 'udp' });
  const child = EsealChild.spawn({
    args: ['sim', 'device', '--server', `127.0.0.1:${peer.port}`, '--id', DEVICE_ID, '--password', PASSWORD, '--media', '/nonexistent.h264'],
    name: 'the device simulator',
    keepLines: 1000,
    stderr: 'pipe',
    guard: (kill) => t.teardown(kill),
  });
  const end = await child.exited;
  t.not(end.code, 0);
  t.match(child.lines.join('\n'), /cannot read the clip \/nonexistent\.h264/, 'a missing clip is named before registering');
  t.equal(peer.registers.length, 0, 'nothing was registered');
});
