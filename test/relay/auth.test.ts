import t from 'tap';
import { createPublicKey } from 'node:crypto';
import { request } from 'undici';
import { GuideMine, encryptPassword } from '../helpers/mineClient.ts';
import { MINE, relayWithMine, startTestRelay } from '../helpers/relay.ts';
import { RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { parsePublicKey } from '../../src/crypto/sm2.ts';

const PW = 'S3cret+pass/word=';
const BASIC = 'Basic ' + Buffer.from('pcfront:pcfront').toString('base64');

async function rawLogin(url: string, query: string, authorization = BASIC) {
  const res = await request(`${url}/auth/oauth/token?${query}`, { headers: { authorization } });
  const text = await res.body.text();
  return { status: res.statusCode, body: JSON.parse(text), headers: res.headers };
}

t.test('GET /sm2 serves the public key as bare text, hex by default, SPKI by config', async (t) => {
  const relay = await startTestRelay(t);
  const res = await request(relay.url + '/sm2');
  const hex = await res.body.text();
  t.equal(res.statusCode, 200);
  t.match(hex, /^04[0-9a-f]{128}$/);
  const spkiRelay = await startTestRelay(t, { 'relay.publicKeyFormat': 'spki' });
  const spki = await (await request(spkiRelay.url + '/sm2')).body.text();
  t.match(spki, /^[A-Za-z0-9+/]+=*$/);
  const key = createPublicKey({ key: Buffer.from(spki, 'base64'), format: 'der', type: 'spki' });
  t.equal(key.type, 'public', 'a SubjectPublicKeyInfo Node can read');
  t.match(parsePublicKey(spki), /^04[0-9a-f]{128}$/);
});

t.test('a guide-following client logs in with every ciphertext style and method', async (t) => {
  const relay = await startTestRelay(t);
  await relay.ctx.accounts.add({ username: 'mine001', password: PW, mines: [MINE], org: 'XX煤矿' });
  const tokens = new Set<string>();
  for (const style of ['sm-crypto', 'hutool-base64', 'c1c2c3-hex'] as const) {
    for (const method of ['GET', 'POST'] as const) {
      const mine = new GuideMine(relay.url, 'mine001', PW, { style, method });
      const a = await mine.login();
      t.equal(a.status, 200, `${style} ${method}`);
      t.equal(a.body.token_type, 'bearer');
      t.equal(a.body.scope, 'server');
      t.equal(a.body.dept_name, 'XX煤矿');
      t.equal(a.body.org_name, 'XX煤矿');
      t.match(a.body.access_token, /^[0-9a-f-]{36}$/);
      t.ok(a.body.expires_in > 43000 && a.body.expires_in <= 43200, 'expires_in within the 12 h lifetime');
      tokens.add(a.body.access_token);
    }
  }
  t.equal(tokens.size, 1, 'logging in again while the token is valid returns the same token');
});

t.test('a raw + in an unencoded query (the platform framework turns it into a space) still decrypts', async (t) => {
  const relay = await startTestRelay(t);
  await relay.ctx.accounts.add({ username: 'mine001', password: PW, mines: [MINE] });
  const key = await (await request(relay.url + '/sm2')).body.text();
  let cipher = '';
  for (let i = 0; i < 50 && !cipher.includes('+'); i++) cipher = encryptPassword(PW, key, 'hutool-base64');
  t.ok(cipher.includes('+'), 'found a ciphertext with a +');
  const slashesEncoded = cipher.replace(/\//g, '%2F').replace(/=/g, '%3D'); // the + left raw
  const a = await rawLogin(relay.url, `username=mine001&password=${slashesEncoded}&grant_type=password&scope=server&encrypt=SM2`);
  t.equal(a.status, 200);
});

t.test('pig-style failures', async (t) => {
  const relay = await startTestRelay(t, { 'relay.login.maxFailures': 3, 'relay.login.lockSeconds': 60 });
  await relay.ctx.accounts.add({ username: 'mine001', password: PW, mines: [MINE] });
  const key = await (await request(relay.url + '/sm2')).body.text();
  const q = (user: string, pw: string, extra = '') =>
    new URLSearchParams({ username: user, password: encryptPassword(pw, key, 'sm-crypto'), grant_type: 'password', scope: 'server', encrypt: 'SM2' }).toString() + extra;

  const noClient = await rawLogin(relay.url, q('mine001', PW), '');
  t.equal(noClient.status, 401);
  t.equal(noClient.body.code, 1);
  t.match(noClient.body.msg, /Basic client credentials are required/);
  const badClient = await rawLogin(relay.url, q('mine001', PW), 'Basic ' + Buffer.from('pcfront:nope').toString('base64'));
  t.equal(badClient.status, 401);

  const unknownUser = await rawLogin(relay.url, q('nobody', PW));
  t.equal(unknownUser.status, 426);
  t.same(unknownUser.body, { code: 1, msg: 'Bad credentials', data: 'invalid_exception' });

  const undecryptable = await rawLogin(relay.url, 'username=mine001&password=abcdef&grant_type=password&scope=server&encrypt=SM2');
  t.equal(undecryptable.status, 426);
  t.match(undecryptable.body.msg, /cannot be decrypted with the relay's SM2 key/);

  const grant = await rawLogin(relay.url, q('mine001', PW).replace('grant_type=password', 'grant_type=client_credentials'));
  t.equal(grant.status, 400);
  t.match(grant.body.msg, /^grant_type: must be password/);
  const noPw = await rawLogin(relay.url, 'username=mine001&grant_type=password&scope=server');
  t.equal(noPw.status, 400);
  t.match(noPw.body.msg, /^password: required/);

  // three wrong passwords in a row lock the account; then even the right one is refused
  for (let i = 0; i < 3; i++) t.equal((await rawLogin(relay.url, q('mine001', 'wrong'))).status, 426);
  const locked = await rawLogin(relay.url, q('mine001', PW));
  t.equal(locked.status, 426);
  t.match(locked.body.msg, /locked after 3 failed logins until \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
  t.ok(relay.ctx.accounts.loginState('mine001').lockedUntil > Date.now());
});

t.test('a success resets the failure count', async (t) => {
  const relay = await startTestRelay(t, { 'relay.login.maxFailures': 3 });
  await relay.ctx.accounts.add({ username: 'mine001', password: PW, mines: [MINE] });
  const mine = new GuideMine(relay.url, 'mine001', PW);
  for (let round = 0; round < 3; round++) {
    t.equal((await mine.login('wrong')).status, 426);
    t.equal((await mine.login('wrong')).status, 426);
    t.equal((await mine.login()).status, 200, `round ${round}: two failures then success`);
  }
});

t.test('logins are rate-limited per source address', async (t) => {
  const relay = await startTestRelay(t, { 'relay.login.perAddressPerMinute': 3 });
  await relay.ctx.accounts.add({ username: 'mine001', password: PW, mines: [MINE] });
  const mine = new GuideMine(relay.url, 'mine001', PW);
  for (let i = 0; i < 3; i++) t.equal((await mine.login()).status, 200);
  const limited = await mine.login();
  t.equal(limited.status, 429);
  t.match(limited.body.msg, /too many login attempts from 127\.0\.0\.1/);
  t.ok(Number(limited.headers['retry-after']) >= 1);
});

t.test('data calls need a valid token: 424 token expire otherwise', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const body = { mineId: MINE, cameraId: '10', alarm: 1, time: formatJsonTime() };
  const good = await mine.record(RECORD_ENDPOINTS.cameraOnline, body);
  t.equal(good.status, 200);
  mine.token = 'c3629178-c6e9-49d9-a0cb-3aee27c27ebf';
  const bad = await mine.record(RECORD_ENDPOINTS.cameraOnline, body);
  t.equal(bad.status, 424);
  t.same(bad.body, { code: 1, msg: 'token expire', data: 'Invalid access token: c3629178-c6e9-49d9-a0cb-3aee27c27ebf' });
  mine.token = '';
  const none = await mine.record(RECORD_ENDPOINTS.cameraOnline, body);
  t.equal(none.status, 424);
  t.match(none.body.msg, /^token expire/);
  // Spring's access_token query parameter works as well
  const res = await request(`${relay.url}${RECORD_ENDPOINTS.cameraOnline.path}?access_token=${(await mine.login()).body.access_token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  t.equal(res.statusCode, 200);
  await res.body.dump();
});

t.test('tokens survive a restart; removing the account revokes its token', async (t) => {
  const first = await relayWithMine(t);
  const token = first.mine.token;
  const dataDir = first.relay.dataDir;
  await first.relay.close();
  const again = await startTestRelay(t, {}, dataDir);
  const mine = new GuideMine(again.url, 'mine001', PW);
  mine.token = token;
  const body = { mineId: MINE, cameraId: '10', alarm: 0, time: formatJsonTime() };
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraOnline, body)).status, 200, 'old token still valid');
  const relogin = await mine.login();
  t.equal(relogin.body.access_token, token, 'same token after restart');
  t.ok(relogin.body.expires_in < 43200);
  await again.ctx.accounts.remove('mine001');
  await again.ctx.tokens.revokeUser('mine001');
  t.equal((await mine.record(RECORD_ENDPOINTS.cameraOnline, body)).status, 424);
});

t.test('an expired token is refused and a new one issued', async (t) => {
  const relay = await startTestRelay(t, { 'relay.tokenTtlSeconds': 60 });
  await relay.ctx.accounts.add({ username: 'mine001', password: PW, mines: [MINE] });
  const issued = await relay.ctx.tokens.issue(relay.ctx.accounts.get('mine001')!, Date.now() - 61_000);
  t.equal(relay.ctx.tokens.verify(issued.token), undefined, 'expired');
  const mine = new GuideMine(relay.url, 'mine001', PW);
  const a = await mine.login();
  t.not(a.body.access_token, issued.token);
  t.equal(a.body.expires_in, 60);
  t.equal(await relay.ctx.tokens.sweep(), 0, 'the old token was replaced, nothing left to sweep');
});
