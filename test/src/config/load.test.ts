import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseListen } from '../../../src/config/load.ts';
import { DEFAULT_CONFIG, loadAppConfig as loadConfig } from '../../../app/config.ts';
import { refusal } from '../../helpers/refusal.ts';
import { tempDir } from '../../helpers/relay.ts';

t.test('embedded defaults: data in ./var, HTTPS (auto) on 0.0.0.0:8443, no upstream', async (t) => {
  const c = await loadConfig({ env: {} });
  t.same(c, DEFAULT_CONFIG);
  t.equal(c.dataDir, './var');
  t.equal(c.relay.listen, '0.0.0.0:8443');
  t.equal(c.relay.tls.mode, 'auto');
  t.equal(c.upstream.url, '');
});

t.test('environment overrides the file, which overrides the defaults', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'eseal.yaml');
  await writeFile(file, 'dataDir: /srv/eseal\nrelay:\n  listen: 127.0.0.1:9000\n  login:\n    maxFailures: 3\n');
  const c = await loadConfig({ file, env: { ESEAL_RELAY_LISTEN: '[::]:8443', ESEAL_LOG_LEVEL: 'debug', ESEAL_UPSTREAM_URL: 'https://nation.example:443' } });
  t.equal(c.dataDir, '/srv/eseal', 'from the file');
  t.equal(c.relay.listen, '[::]:8443', 'env beats the file');
  t.equal(c.relay.login.maxFailures, 3);
  t.equal(c.relay.login.lockSeconds, 900, 'untouched keys keep their defaults');
  t.equal(c.log.level, 'debug');
  t.equal(c.upstream.url, 'https://nation.example:443');
  const files = await loadConfig({ env: { ESEAL_RELAY_TLS_CERT: '/etc/c.pem', ESEAL_RELAY_TLS_KEY: '/etc/k.pem' } });
  t.equal(files.relay.tls.mode, 'files', 'certificate files given alone mean mode files');
  t.same(parseListen('[::]:8443'), { host: '::', port: 8443 });
  t.same(parseListen('0.0.0.0:8443'), { host: '0.0.0.0', port: 8443 });
});

t.test('every mistake is reported with its key', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'bad.yaml');
  await writeFile(file, 'relay:\n  limts:\n    videoMaxBytes: 5\n  tokenTtlSeconds: ten\n  login:\n    maxFailures: 0\n  publicKeyFormat: pem\nlog: debug\n');
  const err = await refusal(loadConfig({ file, env: { ESEAL_RELAY_TLS: 'maybe' } }));
  t.equal(err.code, 'ESEAL_ERR_CONFIG_INVALID');
  t.match(err.message, /has 6 problem\(s\)/);
  t.match(err.message, /relay\.limts: unknown key \(did you mean relay\.limits\?\)/);
  t.match(err.message, /relay\.tokenTtlSeconds: must be a whole number between 60 and 2592000, got "ten"/);
  t.match(err.message, /relay\.login\.maxFailures: must be between 1 and 100, got 0/);
  t.match(err.message, /relay\.publicKeyFormat: must be one of hex, spki, got "pem"/);
  t.match(err.message, /log: must be a mapping with keys level/);
  t.match(err.message, /relay\.tls\.mode: must be one of auto, off, files, got "maybe" \(from ESEAL_RELAY_TLS\)/);
  const tls = await refusal(loadConfig({ env: { ESEAL_RELAY_TLS: 'files' } }));
  t.match(tls.message, /relay\.tls: mode files needs both relay\.tls\.cert and relay\.tls\.key/);
  const yaml = join(dir, 'broken.yaml');
  await writeFile(yaml, 'relay: [\n');
  t.match((await refusal(loadConfig({ file: yaml, env: {} }))).message, /not valid YAML/);
  t.match((await refusal(loadConfig({ file: join(dir, 'missing.yaml'), env: {} }))).message, /cannot read it \(ENOENT\)/);
  const secret = join(dir, 'secret.yaml');
  await writeFile(secret, 'relay:\n  client:\n    secret: "has space"\n');
  const hidden = await refusal(loadConfig({ file: secret, env: {} }));
  t.notMatch(hidden.message, /has space/, 'a secret is never echoed');
});
