// The gb28181 configuration through the real CLI: defaults, ESEAL_GB28181_* overrides, rules across
// keys, the password check when the role runs, and `eseal gb28181 devices` on a fresh data dir.
import t from 'tap';
import { main } from '../../app/main.ts';
import { loadAppConfig } from '../../app/config.ts';
import type { CommandIO } from '../../src/cli/command.ts';
import { role } from '../../gb28181/role.ts';
import { tempDir } from '../helpers/tempDir.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

function io(): CommandIO & { text(): string; errText(): string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (l) => out.push(l), err: (l) => err.push(l), stdin: async () => '', text: () => out.join('\n'), errText: () => err.join('\n') };
}

t.test('defaults and environment overrides', async (t) => {
  const cfg = await loadAppConfig({ env: {} });
  t.equal(cfg.gb28181.id, '34020000002000000001');
  t.equal(cfg.gb28181.domain, '3402000000');
  t.equal(cfg.gb28181.sip.listen, '0.0.0.0:5060');
  t.equal(cfg.gb28181.media.ports, '30000-30500', 'the key deploy/install.sh reads');
  t.equal(cfg.gb28181.media.noMediaSeconds, 15);
  t.equal(cfg.gb28181.http.listen, '127.0.0.1:9092');
  t.equal(cfg.gb28181.sip.keepaliveMisses, 3);
  t.equal(cfg.gb28181.sip.keepaliveSeconds, 60);
  const env = {
    ESEAL_GB28181_ID: '11010800002000000001',
    ESEAL_GB28181_DOMAIN: '1101080000',
    ESEAL_GB28181_PASSWORD: 'pw',
    ESEAL_GB28181_SIP_LISTEN: '10.0.0.1:15060',
    ESEAL_GB28181_HTTP_LISTEN: '0.0.0.0:9100',
  };
  const set = await loadAppConfig({ env });
  t.equal(set.gb28181.id, '11010800002000000001');
  t.equal(set.gb28181.domain, '1101080000');
  t.equal(set.gb28181.password, 'pw');
  t.equal(set.gb28181.sip.listen, '10.0.0.1:15060');
  t.equal(set.gb28181.http.listen, '0.0.0.0:9100');
  await t.rejects(loadAppConfig({ env: { ESEAL_GB28181_ID: '123' } }), /gb28181\.id/);
  await t.rejects(loadAppConfig({ env: {}, set: { 'gb28181.media.ports': '40000-30000' } }), /gb28181\.media\.ports/);
  await t.rejects(loadAppConfig({ env: {}, set: { 'gb28181.media.transport': 'sctp' } }), /gb28181\.media\.transport/);
});

t.test('running the role without any device password is a configuration problem', async (t) => {
  const cfg = await loadAppConfig({ env: { ESEAL_ROLES: 'gb28181' } });
  const problems = await role.checkConfig!(cfg as never);
  t.match(problems.join(), /gb28181\.password/);
  const ok = await loadAppConfig({ env: { ESEAL_ROLES: 'gb28181', ESEAL_GB28181_PASSWORD: 'x' } });
  t.same(await role.checkConfig!(ok as never), []);
});

t.test('eseal config check hides the password; eseal gb28181 devices on a fresh data dir', async (t) => {
  const dataDir = await tempDir(t);
  const x = io();
  t.equal(await main(['config', 'check'], x, { ESEAL_DATA_DIR: dataDir, ESEAL_GB28181_PASSWORD: 'very-secret' }), 0, x.errText());
  t.match(x.text(), /gb28181\.password = \(hidden\)/);
  t.notMatch(x.text(), /very-secret/);
  t.match(x.text(), /gb28181\.media\.ports = "30000-30500"/);
  const y = io();
  t.equal(await main(['gb28181', 'devices', '--json'], y, { ESEAL_DATA_DIR: dataDir }), 0, y.errText());
  t.same(JSON.parse(y.text()), []);
});

t.test('eseal config check hides the passwords of listed devices and upper platforms too', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'eseal.yaml');
  await writeFile(
    file,
    [
      `dataDir: ${dir}`,
      'gb28181:',
      '  devices:',
      '    - { id: "34020000001320000001", password: "device-only-secret", name: NVR }',
      '  cascade:',
      '    - { id: "10000000002000000001", domain: "1000000000", host: 127.0.0.1, port: 5060, transport: udp, password: "upper-secret", expires: 3600, keepaliveSeconds: 60 }',
      '',
    ].join('\n'),
  );
  const x = io();
  t.equal(await main(['config', 'check', '--config', file], x, {}), 0, x.errText());
  t.notMatch(x.text(), /device-only-secret|upper-secret/, 'no password printed');
  t.match(x.text(), /gb28181\.devices = \[\{"id":"34020000001320000001","password":"\(hidden\)","name":"NVR"/);
  t.match(x.text(), /gb28181\.cascade = \[\{.*"password":"\(hidden\)"/);
});
