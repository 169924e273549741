// `eseal start` as an operator runs it: HTTPS with a self-signed certificate made on first start,
// JSON logs that never carry a secret, a clean stop on SIGTERM.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'undici';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { rotateSm2KeyPair } from '../../src/crypto/keyFiles.ts';
import { openRelayStores } from '../../relay/RelayContext.ts';
import { encryptPassword } from '../helpers/mineClient.ts';
import { MINE, tempDir, testConfig } from '../helpers/relay.ts';
import { startRelayChild } from '../helpers/relayChild.ts';
import { waitFor } from '../helpers/wait.ts';

const PASSWORD = 'Very-Secret-Password-123';

t.test('HTTPS on first start, secrets never logged, SIGTERM stops cleanly', async (t) => {
  const dataDir = await tempDir(t);
  const stores = await openRelayStores(await testConfig(dataDir));
  await stores.accounts.add({ username: 'mine001', password: PASSWORD, mines: [MINE] });
  await stores.close();

  // TLS at its default (auto); debug logging, to see everything that could leak
  const { child, url, lines, exited: exit } = await startRelayChild(t, { dataDir, env: { ESEAL_RELAY_TLS: 'auto', ESEAL_LOG_LEVEL: 'debug' } });
  t.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const created = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'created a self-signed TLS certificate');
  t.ok(created, 'the certificate creation is logged');
  const pem = await readFile(join(dataDir, 'tls', 'relay.crt'), 'utf8');
  t.equal(created!['sha256'], new X509Certificate(pem).fingerprint256, 'with the fingerprint to pin');

  // A client that trusts exactly this certificate.
  const dispatcher = new Agent({ connect: { ca: pem } });
  t.teardown(() => dispatcher.close());
  const key = await (await request(url + '/sm2', { dispatcher })).body.text();
  t.match(key, /^04[0-9a-f]{128}$/);
  const cipher = encryptPassword(PASSWORD, key, 'hutool-base64');
  const basic = 'Basic ' + Buffer.from('pcfront:pcfront').toString('base64');
  const q = new URLSearchParams({ username: 'mine001', password: cipher, grant_type: 'password', scope: 'server', encrypt: 'SM2' });
  const login = await request(`${url}/auth/oauth/token?${q}`, { headers: { authorization: basic }, dispatcher });
  t.equal(login.statusCode, 200);
  const token = ((await login.body.json()) as { access_token: string }).access_token;
  const body = { mineId: MINE, cameraId: '10', alarm: 1, time: formatJsonTime() };
  const data = await request(url + RECORD_ENDPOINTS.cameraOnline.path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    dispatcher,
  });
  t.equal(data.statusCode, 200);
  await data.body.dump();
  const bad = await request(url + RECORD_ENDPOINTS.cameraOnline.path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    dispatcher,
  });
  t.equal(bad.statusCode, 424);
  await bad.body.dump();

  // `eseal keys rotate` beside the running relay: the new key is served, the old one still decrypts
  await rotateSm2KeyPair(dataDir);
  // served "within a second": wait for it rather than sleep a second and hope (a loaded machine)
  let newKey = key;
  await waitFor(async () => (newKey = await (await request(url + '/sm2', { dispatcher })).body.text()) !== key, 30_000, 'the rotated key to be served');
  t.not(newKey, key, 'the running relay serves the new key');
  const oldCipher = encryptPassword(PASSWORD, key, 'sm-crypto');
  const q2 = new URLSearchParams({ username: 'mine001', password: oldCipher, grant_type: 'password', scope: 'server', encrypt: 'SM2' });
  const again = await request(`${url}/auth/oauth/token?${q2}`, { headers: { authorization: basic }, dispatcher });
  t.equal(again.statusCode, 200, 'a device that cached the previous key still logs in');
  await again.body.dump();

  child.kill('SIGTERM');
  t.equal(await exit, 0, 'SIGTERM: clean exit');
  const log = lines.join('\n');
  t.ok(log.includes('"msg":"request"'), 'requests are logged');
  for (const secret of [PASSWORD, cipher, encodeURIComponent(cipher), token, oldCipher]) {
    t.notOk(log.includes(secret), `no secret in the log (${secret.slice(0, 8)}…)`);
  }
  t.match(log, /\/auth\/oauth\/token\?\[redacted\]/);
  t.match(log, /"msg":"stopped"/);
});
