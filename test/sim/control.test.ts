// The simulator's control API round trip, and `eseal sim national` as an integrator runs it.
import t from 'tap';
import type { Test } from 'tap';
import { connect as tlsConnect } from 'node:tls';
import { request } from 'undici';
import { AUTH_PATHS, RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { NationalSimulator } from '../../sim/national/index.ts';
import { parseAccount, parseHostPort } from '../../sim/cli.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { EsealChild } from '../../tools/esealChild.ts';

const MINE = '140421007866';
const OTHER_MINE = '140421009999';

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await request(base + path, {
    method: method as 'GET',
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.statusCode, body: await res.body.json() };
}

const person = (mineId = MINE, n = '0001') => ({ mineId, cameraId: '10', aiTypeCode: '01', inWellNumber: n, time: formatJsonTime() });

t.test('control API: faults, accounts, mine status, received, stats, reset, expire-tokens', async (t) => {
  const sim = await NationalSimulator.start({ seed: 3 });
  t.teardown(() => sim.close());
  const control = sim.controlUrl;
  t.not(new URL(control).port, new URL(sim.url).port, 'a listener of its own');

  const info = await call(control, 'GET', '/_sim/info');
  t.match(info.body, { url: sim.url, controlUrl: control, publicKeyHex: sim.publicKeyHex, publicKey: sim.publicKeyHex, seed: 3, accounts: [] });

  // faults: partial PUT, GET reflects it; a bad one is refused with the knob named
  const put = await call(control, 'PUT', '/_sim/faults', { latencyMs: 20, reject: { mineId: OTHER_MINE, status: 400, code: 1, msg: 'mineId: 不存在' } });
  t.equal(put.status, 200);
  t.match(put.body, { down: false, latencyMs: 20, error5xxRate: 0, reject: { mineId: OTHER_MINE, status: 400 } });
  t.same((await call(control, 'GET', '/_sim/faults')).body, put.body);
  t.same(sim.faults, put.body, 'the class sees what the control API set');
  const bad = await call(control, 'PUT', '/_sim/faults', { code1Rate: 2 });
  t.equal(bad.status, 400);
  t.match(bad.body, { code: 'ESEAL_ERR_SIM_OPTIONS', field: 'faults.code1Rate', error: /must be between 0 and 1, got 2/ });
  t.equal((await call(control, 'PUT', '/_sim/faults', '{nope')).status, 400, 'not JSON');

  // accounts and mine status
  const added = await call(control, 'POST', '/_sim/accounts', { username: 'mine009', password: 'p@ss:word', org: '某煤矿' });
  t.equal(added.status, 201);
  t.match((await call(control, 'POST', '/_sim/accounts', { username: 'x' })).body, { field: 'account.password' });
  const setStatus = await call(control, 'PUT', '/_sim/mine-status', { mineId: MINE, status: '停产停工' });
  t.same(setStatus.body, { mineId: MINE, status: '停产停工' });
  t.equal((await call(control, 'PUT', '/_sim/mine-status', { mineId: '12', status: 'x' })).status, 400);

  const mine = new GuideMine(sim.url, 'mine009', 'p@ss:word');
  const login = await mine.login();
  t.equal(login.status, 200, 'the account added over the control API logs in');
  t.equal(login.body.org_name, '某煤矿');
  t.same((await mine.mineStatus(MINE)).body, { code: 0, msg: 'success', data: { status: '停产停工' } });

  // received with filters
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person())).status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person(OTHER_MINE))).status, 400, 'the reject rule set over the control API');
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person(MINE, '0002'))).status, 200);
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraOnline, { mineId: MINE, cameraId: '10', alarm: 0, time: formatJsonTime() })).status, 200);
  const all = await call(control, 'GET', '/_sim/received');
  t.equal(all.body.items.length, 3);
  t.equal(all.body.lastSeq, 3);
  t.same(all.body.items, JSON.parse(JSON.stringify(sim.received())), 'the same items as the class');
  const filtered = await call(control, 'GET', `/_sim/received?endpoint=infoReport/person&mineId=${MINE}&since=1`);
  t.same(filtered.body.items.map((i: { seq: number; record: { inWellNumber: string } }) => [i.seq, i.record.inWellNumber]), [[2, '0002']]);
  t.equal((await call(control, 'GET', '/_sim/received?since=x')).status, 400);

  const stats = await call(control, 'GET', '/_sim/stats');
  t.match(stats.body, { received: 3, logins: 1, rejectedByFault: 1, byFault: { reject: 1 }, mineStatusQueries: 1, byEndpoint: { 'infoReport/person': 2, 'camera/online-offine': 1 } });

  // expire-tokens: the mine's token stops working
  t.same((await call(control, 'POST', '/_sim/expire-tokens')).body, { expired: 1 });
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person())).status, 424);

  // reset: received items and counters are forgotten; accounts stay
  t.same((await call(control, 'POST', '/_sim/reset')).body, { reset: true });
  t.same((await call(control, 'GET', '/_sim/received')).body, { items: [], lastSeq: 0 });
  t.equal((await call(control, 'GET', '/_sim/stats')).body.received, 0);
  await mine.login();
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person())).status, 200);
  t.equal(sim.received()[0]!.seq, 1, 'seq starts again');

  // the control port keeps answering while the data port is down
  t.equal((await call(control, 'PUT', '/_sim/faults', { down: true })).status, 200);
  t.equal((await call(control, 'GET', '/_sim/stats')).status, 200);
  t.equal((await call(control, 'PUT', '/_sim/faults', { down: false })).status, 200);
  t.equal((await request(sim.url + AUTH_PATHS.publicKey)).statusCode, 200);

  t.equal((await call(control, 'GET', '/_sim/nothing')).status, 404);
  t.equal((await call(control, 'DELETE', '/_sim/faults')).status, 405);
});

t.test('command-line values', async (t) => {
  t.same(parseHostPort('listen', '127.0.0.1:9000', 'x'), { host: '127.0.0.1', port: 9000 });
  t.same(parseHostPort('listen', '[::1]:0', 'x'), { host: '::1', port: 0 });
  t.same(parseHostPort('listen', ':9100', 'h'), { host: 'h', port: 9100 });
  t.same(parseHostPort('listen', '9100', 'h'), { host: 'h', port: 9100 });
  t.throws(() => parseHostPort('listen', 'host:99999', 'h'), { code: 'ESEAL_ERR_SIM_OPTIONS', message: /^--listen: must be HOST:PORT/ });
  t.same(parseAccount('mine001:pw'), { username: 'mine001', password: 'pw' });
  t.same(parseAccount('mine001:pw:XX煤矿:二矿'), { username: 'mine001', password: 'pw', org: 'XX煤矿:二矿' });
  t.throws(() => parseAccount('mine001'), { message: /^--account: must be user:password/ });
});

interface Running {
  lines: string[];
  header: Record<string, string>;
  exit: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
  waitFor: (test: (line: string) => boolean) => Promise<string>;
}

async function runCli(t: Test, args: string[]): Promise<Running> {
  const sim = EsealChild.spawn({
    args: ['sim', 'national', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0', ...args],
    name: 'the simulator',
    keepLines: 10_000,
    guard: (kill) => t.teardown(kill),
  });
  const waitFor = (test: (line: string) => boolean) => sim.waitForLine(test, 20_000, 'print the line awaited');
  await waitFor((l) => l.startsWith('stop with'));
  const header: Record<string, string> = {};
  for (const l of sim.lines) {
    const m = /^ {2}([a-z0-9 ]+):\s+(\S+)/.exec(l);
    if (m) header[m[1]!.trim()] = m[2]!;
  }
  return { lines: sim.lines, header, exit: sim.exited.then((end) => end.code), kill: (s) => sim.child.kill(s), waitFor };
}

t.test('eseal sim national: prints its URLs and key, logs each call, stops on SIGTERM', async (t) => {
  const cli = await runCli(t, ['--account', 'mine001:S3cret:XX煤矿', '--mine-status', `${MINE}:生产矿井`, '--faults', '{"latencyMs":5}', '--seed', '9']);
  const { header } = cli;
  t.match(header['data'], /^http:\/\/127\.0\.0\.1:\d+$/);
  t.match(header['control'], /^http:\/\/127\.0\.0\.1:\d+$/);
  t.equal(header['seed'], '9');
  t.match(header['faults'], /"latencyMs":5/);
  const key = await (await request(header['data'] + AUTH_PATHS.publicKey)).body.text();
  t.equal(key, header['public key'], 'the printed key is the one /sm2 serves');

  const mine = new GuideMine(header['data']!, 'mine001', 'S3cret');
  const login = await mine.login();
  t.equal(login.status, 200);
  t.equal(login.body.org_name, 'XX煤矿');
  t.same((await mine.mineStatus(MINE)).body.data, { status: '生产矿井' });
  t.equal((await mine.record(RECORD_ENDPOINTS.person, person())).status, 200);
  const logged = JSON.parse(await cli.waitFor((l) => l.includes('"endpoint":"infoReport/person"'))) as Record<string, unknown>;
  t.match(logged, { msg: 'call', status: 200, endpoint: 'infoReport/person', account: 'mine001', mineId: MINE, seq: 1, duplicate: false });
  t.notMatch(cli.lines.join('\n'), new RegExp(`S3cret|${mine.token}`), 'no password or token in the output');
  const received = await call(header['control']!, 'GET', '/_sim/received');
  t.equal(received.body.items.length, 1);

  cli.kill('SIGTERM');
  t.equal(await cli.exit, 0);
  t.match(cli.lines.at(-1), /^stopped \(SIGTERM\)/);
});

t.test('eseal sim national --tls --public-key-format spki: HTTPS with the printed fingerprint', async (t) => {
  const cli = await runCli(t, ['--tls', '--public-key-format', 'spki']);
  const { header } = cli;
  t.match(header['data'], /^https:\/\/127\.0\.0\.1:\d+$/);
  t.match(header['tls sha256'], /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const url = new URL(header['data']!);
  const fingerprint = await new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
  t.equal(fingerprint, header['tls sha256'], 'the certificate served is the one printed');
  t.match(header['public key'], /^MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE/);
  cli.kill('SIGINT');
  t.equal(await cli.exit, 0);
});

t.test('eseal sim national: a bad option is named', async (t) => {
  const sim = EsealChild.spawn({ args: ['sim', 'national', '--faults', '{"error5xxRate":3}'], name: 'the simulator', guard: (kill) => t.teardown(kill) });
  const code = (await sim.exited).code;
  t.equal(code, 1);
  t.match(sim.tail(), /eseal sim national: faults\.error5xxRate: must be between 0 and 1, got 3/);
});
