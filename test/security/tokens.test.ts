// Finding 3 of issue 9: removed tokens must not come back. One token per account, even when logins
// arrive at once; `accounts remove` revokes every token of the account, so `accounts add` again
// revives none of them. Data written by the old token format still opens and is revoked as well.
import t from 'tap';
import { request } from 'undici';
import { main } from '../../app/main.ts';
import type { CommandIO } from '../../src/cli/command.ts';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { sealSecret } from '../../src/crypto/sm4.ts';
import { loadOrCreateSecretKey } from '../../src/crypto/keyFiles.ts';
import { openRelayStores } from '../../relay/RelayContext.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, MINE_PASSWORD, startTestRelay, testConfig, tempDir, type TestRelay } from '../helpers/relay.ts';

const quiet: CommandIO = { out: () => {}, err: () => {}, stdin: async () => MINE_PASSWORD + '\n' };

async function cli(dataDir: string, argv: string[]): Promise<number> {
  return main(argv, quiet, { ESEAL_DATA_DIR: dataDir });
}

/** The status of a data call made with this token (200 valid, 424 refused). */
async function useToken(relay: TestRelay, token: string): Promise<number> {
  const res = await request(relay.url + RECORD_ENDPOINTS.cameraOnline.path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mineId: MINE, cameraId: '10', alarm: 1, time: formatJsonTime() }),
  });
  await res.body.dump();
  return res.statusCode;
}

async function concurrentLogins(relay: TestRelay, n: number): Promise<Set<string>> {
  const answers = await Promise.all(Array.from({ length: n }, () => new GuideMine(relay.url, 'mine001', MINE_PASSWORD).login()));
  if (answers.some((a) => a.status !== 200)) throw new Error(`a login failed: ${JSON.stringify(answers.map((a) => a.body))}`);
  return new Set(answers.map((a) => a.body.access_token as string));
}

async function validOnes(relay: TestRelay, tokens: Iterable<string>): Promise<string[]> {
  const valid = [];
  for (const token of tokens) if ((await useToken(relay, token)) === 200) valid.push(token);
  return valid;
}

for (const ttl of [43200, 60]) {
  // 60 s: every login replaces the token (less than a minute left), so each of them races to
  t.test(`tokens valid ${ttl} s: concurrent logins leave one valid token; remove revokes it; add again revives none`, async (t) => {
    const relay = await startTestRelay(t, { 'relay.login.perAddressPerMinute': 1000, 'relay.tokenTtlSeconds': ttl });
    t.equal(await cli(relay.dataDir, ['accounts', 'add', 'mine001', '--password', '-', '--mine', MINE]), 0);

    const seen = await concurrentLogins(relay, 10);
    for (const token of await concurrentLogins(relay, 10)) seen.add(token);
    t.equal((await validOnes(relay, seen)).length, 1, `exactly one of the ${seen.size} tokens handed out is valid`);
    if (ttl > 60) t.equal(seen.size, 1, 'while it is valid, every login hands out the same token');

    t.equal(await cli(relay.dataDir, ['accounts', 'remove', 'mine001']), 0);
    t.same(await validOnes(relay, seen), [], 'none valid after remove');
    t.equal(await cli(relay.dataDir, ['accounts', 'add', 'mine001', '--password', '-', '--mine', MINE]), 0);
    t.same(await validOnes(relay, seen), [], 'none valid after the account is added again');
    const fresh = await new GuideMine(relay.url, 'mine001', MINE_PASSWORD).login();
    t.equal(fresh.status, 200);
    t.notOk(seen.has(fresh.body.access_token), 'the account added again gets a new token');
    t.equal(await useToken(relay, fresh.body.access_token), 200);
  });
}

t.test('tokens in the old format (several per account, no index) still open and are all revoked', async (t) => {
  const dataDir = await tempDir(t);
  const config = await testConfig(dataDir);
  const secret = await loadOrCreateSecretKey(dataDir);
  const old = ['1b4e28ba-2fa1-11d2-883f-0016d3cca427', '6fa459ea-ee8a-3ca4-894e-db77e160355e', '16fd2706-8baf-433b-82eb-8c7fada847da'];
  {
    const stores = await openRelayStores(config);
    await stores.accounts.add({ username: 'mine001', password: MINE_PASSWORD, mines: [MINE] }, Date.now() - 60_000);
    // what the old TokenStore wrote after concurrent logins: one record per token, the last one current
    const byHash = stores.root.openDB<{ username: string; issuedAt: number; expiresAt: number }, string>({ name: 'tokens' });
    const byUser = stores.root.openDB<{ sealed: string; hash: string; expiresAt: number }, string>({ name: 'tokens-by-user' });
    const expiresAt = Date.now() + 3600_000;
    for (const token of old) await byHash.put(sm3Hex(token), { username: 'mine001', issuedAt: Date.now() - 1000, expiresAt });
    await byUser.put('mine001', { sealed: sealSecret(secret, old[2]!), hash: sm3Hex(old[2]!), expiresAt });
    await stores.close();
  }
  const relay = await startTestRelay(t, {}, dataDir);
  t.equal(await useToken(relay, old[2]!), 200, 'the current old-format token still works');
  const again = await new GuideMine(relay.url, 'mine001', MINE_PASSWORD).login();
  t.equal(again.status, 200);
  t.equal(again.body.access_token, old[2], 'logging in again hands out the current token');
  t.equal(await cli(dataDir, ['accounts', 'remove', 'mine001']), 0);
  t.equal(await cli(dataDir, ['accounts', 'add', 'mine001', '--password', '-', '--mine', MINE]), 0);
  for (const token of old) t.equal(await useToken(relay, token), 424, 'every old-format token is revoked');
});
