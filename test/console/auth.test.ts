// Who may do what on the console: logins (and their limits), sessions (expiry, logout, a removed
// user), the cookie's flags, CSRF and Origin on changing requests, roles, 401 for the anonymous.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestRelay } from '../helpers/relay.ts';
import { ConsoleClient, startTestConsole } from './fixture.ts';
import { SessionStore } from '../../console/auth/SessionStore.ts';
import { LoginLimiter } from '../../console/auth/LoginLimiter.ts';

const PW = 'correct-horse-1';

t.test('users: names, roles and passwords follow their rules', async (t) => {
  const relay = await startTestRelay(t);
  const c = await startTestConsole(t, relay);
  const users = c.ctx.store.users;
  await users.add({ name: 'ops.zhang_1', role: 'operator', password: PW });
  await t.rejects(users.add({ name: 'ops.zhang_1', role: 'viewer', password: PW }), { code: 'ESEAL_ERR_CONSOLE_USER_EXISTS', message: /name: a console user "ops.zhang_1" exists already/ });
  await t.rejects(users.add({ name: 'bad name', role: 'viewer', password: PW }), { message: /^name: 1 to 32 characters/ });
  await t.rejects(users.add({ name: 'x'.repeat(33), role: 'viewer', password: PW }), { message: /^name:/ });
  await t.rejects(users.add({ name: 'short', role: 'viewer', password: '123456789' }), { message: /^password: 10 to 256 characters/ });
  await t.rejects(users.add({ name: 'boss', role: 'root', password: PW }), { message: /^role: one of viewer, operator, admin/ });
  const stored = users.get('ops.zhang_1')!;
  t.match(stored.passwordHash, /^scrypt\$32768\$8\$1\$/, 'scrypt, never the password');
  t.notOk(JSON.stringify(stored).includes(PW));
});

t.test('login, the cookie, /api/me, logout; anonymous 401, pages redirect', async (t) => {
  const relay = await startTestRelay(t);
  const c = await startTestConsole(t, relay);
  await c.ctx.store.users.add({ name: 'viewer1', role: 'viewer', password: PW });
  const anon = new ConsoleClient(c.url);
  for (const path of ['/api/me', '/api/overview', '/api/items', '/api/audit']) {
    const a = await anon.call('GET', path);
    t.equal(a.status, 401, `anonymous ${path}: 401`);
    t.same(Object.keys(a.json), ['code', 'msg']);
    t.equal(a.json.code, 'ESEAL_ERR_CONSOLE_LOGIN_REQUIRED');
  }
  const page = await anon.call('GET', '/items?state=dead');
  t.equal(page.status, 302);
  t.equal(page.headers.location, '/login?next=%2Fitems%3Fstate%3Ddead');
  t.equal((await anon.call('GET', '/login')).status, 200);
  t.equal((await anon.call('GET', '/assets/console.css')).status, 200, 'assets need no login');
  t.equal((await anon.call('GET', '/assets/echarts.min.js')).status, 200, 'ECharts served from node_modules');

  const wrong = await anon.login('viewer1', 'not-the-password');
  t.equal(wrong.status, 401);
  t.equal(wrong.json.code, 'ESEAL_ERR_CONSOLE_BAD_CREDENTIALS');
  t.equal((await anon.login('nobody', PW)).status, 401, 'an unknown user reads the same');

  const v = new ConsoleClient(c.url);
  const ok = await v.login('viewer1', PW);
  t.equal(ok.status, 200);
  const cookie = ([] as string[]).concat(ok.headers['set-cookie'] as string[]).find((l) => l.startsWith('eseal_session='))!;
  t.match(cookie, /; HttpOnly/);
  t.match(cookie, /; SameSite=Strict/);
  t.match(cookie, /; Max-Age=43200/, 'admin.sessionHours: 12');
  t.notMatch(cookie, /Secure/, 'plain HTTP: no Secure flag (it would never be sent back)');
  const me = await v.call('GET', '/api/me');
  t.same({ name: me.json.data.name, role: me.json.data.role }, { name: 'viewer1', role: 'viewer' });
  t.equal(me.json.data.csrf, v.csrf);

  // the stored session is the id's hash, never the id
  const id = v.cookies.get('eseal_session')!;
  const file = await readFile(join(relay.dataDir, 'console', 'data.mdb'));
  t.ok(file.includes(Buffer.from(createHash('sha256').update(id).digest('hex'))), 'its hash is stored');
  t.notOk(file.includes(Buffer.from(id)), 'the id itself is not');

  // a changing request without the token, or from elsewhere
  const noToken = await v.call('POST', '/api/logout');
  t.equal(noToken.status, 403);
  t.match(noToken.json.msg, /^x-csrf-token:/);
  const otherOrigin = await v.call('POST', '/api/logout', { headers: { 'x-csrf-token': v.csrf, origin: 'http://evil.example' } });
  t.equal(otherOrigin.status, 403);
  t.match(otherOrigin.json.msg, /^Origin:/);
  const formToken = await v.call('POST', '/logout', { form: { _csrf: v.csrf } });
  t.equal(formToken.status, 303, 'the _csrf form field counts as well');
  t.equal((await v.call('GET', '/api/me')).status, 401, 'logged out: the session is gone');
  const reused = new ConsoleClient(c.url);
  reused.cookies.set('eseal_session', id);
  t.equal((await reused.call('GET', '/api/me')).status, 401, 'the old cookie does not work either');

  const entries = c.ctx.store.audit.list({ limit: 10 }).map((e) => `${e.action} ${e.user} ${e.result}`);
  t.same(entries, ['logout viewer1 ok', 'login viewer1 ok', 'login nobody failed: wrong name or password', 'login viewer1 failed: wrong name or password']);
});

t.test('roles: a viewer reads, may not act or read the audit log', async (t) => {
  const relay = await startTestRelay(t);
  const c = await startTestConsole(t, relay);
  await c.ctx.store.users.add({ name: 'viewer1', role: 'viewer', password: PW });
  await c.ctx.store.users.add({ name: 'op1', role: 'operator', password: PW });
  const v = new ConsoleClient(c.url);
  await v.login('viewer1', PW);
  t.equal((await v.call('GET', '/api/overview')).status, 200);
  const replay = await v.act('POST', '/api/items/1/replay');
  t.equal(replay.status, 403);
  t.equal(replay.json.code, 'ESEAL_ERR_CONSOLE_FORBIDDEN');
  t.match(replay.json.msg, /^role: this needs the operator role; viewer1 is viewer/);
  t.equal((await v.act('DELETE', '/api/items/1')).status, 403);
  t.equal((await v.call('GET', '/api/audit')).status, 403);
  const page = await v.call('GET', '/audit');
  t.equal(page.status, 403);
  t.match(page.text, /当前角色无权执行此操作/);
  const op = new ConsoleClient(c.url);
  await op.login('op1', PW);
  t.equal((await op.call('GET', '/api/audit')).status, 403, 'the audit log is for admins');
  t.equal((await op.act('POST', '/api/items/abc/replay')).status, 400, 'a bad seq is named');
  t.match((await op.act('POST', '/api/items/abc/replay')).json.msg, /^seq: /);
});

t.test('failed logins are limited per user and per address', async (t) => {
  const relay = await startTestRelay(t);
  const c = await startTestConsole(t, relay, { logins: { perUser: 3, perAddress: 5 } });
  await c.ctx.store.users.add({ name: 'op1', role: 'operator', password: PW });
  await c.ctx.store.users.add({ name: 'op2', role: 'operator', password: PW });
  const x = new ConsoleClient(c.url);
  for (let i = 0; i < 3; i++) t.equal((await x.login('op1', 'wrong-password')).status, 401);
  const limited = await x.login('op1', PW);
  t.equal(limited.status, 429, 'the right password no longer helps for a while');
  t.match(limited.json.msg, /^name: too many failed logins for this user/);
  t.equal((await x.login('op2', PW)).status, 200, 'another user from the same address still logs in');
  for (let i = 0; i < 2; i++) t.equal((await x.login('op2', 'wrong-password')).status, 401);
  const byAddress = await x.login('op2', PW);
  t.equal(byAddress.status, 429);
  t.match(byAddress.json.msg, /for this address/);
  t.match(c.ctx.store.audit.list({ limit: 1 })[0], { action: 'login', user: 'op2', result: /^refused: too many failures for this address/ });

  const form = await new ConsoleClient(c.url).call('POST', '/login', { form: { name: 'op1', password: PW } });
  t.equal(form.status, 429, 'the login page says so too');
  t.match(form.text, /登录失败次数过多/);
});

t.test('sessions expire; the limiter forgets after its window; bounded keys', async (t) => {
  const relay = await startTestRelay(t);
  const c = await startTestConsole(t, relay);
  const sessions: SessionStore = c.ctx.store.sessions;
  const { id } = await sessions.create('op1', 1000, '127.0.0.1', 1_000_000);
  t.ok(sessions.get(id, 1_000_500));
  t.notOk(sessions.get(id, 1_001_000), 'expired at expiresAt');
  t.notOk(sessions.get('not-an-id'));
  const l = new LoginLimiter({ perUser: 2, perAddress: 100, windowMs: 1000, maxKeys: 10 });
  l.failed('a', 'u', 0);
  l.failed('a', 'u', 10);
  t.equal(l.blocked('a', 'u', 20), 'user');
  t.equal(l.blocked('a', 'u', 1011), undefined, 'the window passed');
  for (let i = 0; i < 100; i++) l.failed(`addr${i}`, `user${i}`, 2000);
  t.equal(l.blocked('addr99', 'user99', 2000), undefined);
});
