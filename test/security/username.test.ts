// Finding 7 of issue 9 (usernames): a username past the rule (1 to 64 characters) is a clear 400
// naming the field, at the token endpoint and in `eseal accounts`, never a 500 from the database's
// key limit; and logins for invented usernames leave nothing in the database, while each address
// stays rate-limited.
import t from 'tap';
import { main } from '../../app/main.ts';
import type { CommandIO } from '../../src/cli/command.ts';
import { MINE, MINE_PASSWORD, startTestRelay, tempDir } from '../helpers/relay.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { AccountStore } from '../../relay/auth/AccountStore.ts';

const LONG = 'x'.repeat(3000);

t.test('a 3,000-character username at the token endpoint: 400 naming the field and the rule', async (t) => {
  const relay = await startTestRelay(t);
  for (const method of ['GET', 'POST'] as const) {
    const a = await new GuideMine(relay.url, LONG, MINE_PASSWORD, { method }).login();
    t.equal(a.status, 400, method);
    t.match(a.body, { code: 1, msg: /^username: 1 to 64 characters/ }, 'names the field and the rule');
    t.ok(a.body.msg.length < 300, 'does not echo the whole value');
  }
  const spaced = await new GuideMine(relay.url, 'mine 001', MINE_PASSWORD).login();
  t.equal(spaced.status, 400, 'a username against the rule in another way');
  t.match(spaced.body.msg, /^username: /);
});

t.test('eseal accounts add / remove with a 3,000-character username: a clear refusal', async (t) => {
  const dataDir = await tempDir(t);
  const errors: string[] = [];
  const io: CommandIO = { out: () => {}, err: (l) => errors.push(l), stdin: async () => '' };
  const env = { ESEAL_DATA_DIR: dataDir };
  t.equal(await main(['accounts', 'add', LONG, '--password', 'pw', '--mine', MINE], io, env), 1);
  t.match(errors.join('\n'), /username: 1 to 64 characters/);
  t.ok(errors.join('\n').length < 500, 'does not echo the whole value');
  errors.length = 0;
  t.equal(await main(['accounts', 'remove', LONG], io, env), 1);
  t.match(errors.join('\n'), /username: 1 to 64 characters/);
});

t.test('failed logins for invented usernames leave no records; the address is still rate-limited', async (t) => {
  const relay = await startTestRelay(t, { 'relay.login.perAddressPerMinute': 1000, 'relay.login.maxFailures': 3 });
  await relay.ctx.accounts.add({ username: 'mine001', password: MINE_PASSWORD, mines: [MINE] });
  const loginState = relay.ctx.root.openDB({ name: 'login-state' });
  for (let i = 0; i < 19; i++) {
    const a = await new GuideMine(relay.url, `invented-${i}`, 'guess').login();
    t.equal(a.status, 426, `invented-${i}: bad credentials`);
  }
  t.equal(loginState.getKeysCount(), 0, 'no record for any invented username');
  const last = await new GuideMine(relay.url, 'mine001', 'wrong').login();
  t.equal(last.status, 426);
  t.equal(loginState.getKeysCount(), 1, "a real account's failure is recorded (its lockout survives restarts)");

  // one attempt each 30 s refill: the third at once is over the limit
  const limitedRelay = await startTestRelay(t, { 'relay.login.perAddressPerMinute': 2 });
  for (const name of ['invented-a', 'invented-b']) t.equal((await new GuideMine(limitedRelay.url, name, 'guess').login()).status, 426);
  const limited = await new GuideMine(limitedRelay.url, 'invented-c', 'guess').login();
  t.equal(limited.status, 429, 'invented usernames are rate-limited per address all the same');
});

t.test('records an older relay wrote for invented usernames are dropped when the store opens', async (t) => {
  const relay = await startTestRelay(t);
  await relay.ctx.accounts.add({ username: 'mine001', password: MINE_PASSWORD, mines: [MINE] });
  const loginState = relay.ctx.root.openDB<{ failures: number; lockedUntil: number }, string>({ name: 'login-state' });
  for (let i = 0; i < 50; i++) await loginState.put(`invented-${i}`, { failures: 1, lockedUntil: 0 });
  await loginState.put('mine001', { failures: 2, lockedUntil: 0 });
  const reopened = new AccountStore(relay.ctx.root, Buffer.alloc(16));
  t.same([...loginState.getKeys({})], ['mine001'], "only the real account's record is left");
  t.equal(reopened.loginState('mine001').failures, 2);
});

t.test('the failures of invented usernames are kept in bounded memory', async (t) => {
  const { UnknownLogins, decideFinish } = await import('../../relay/auth/loginLock.ts');
  const policy = { maxFailures: 2, lockMs: 60_000 };
  const table = new UnknownLogins(100);
  const now = Date.now();
  for (let i = 0; i < 1000; i++) table.set(`invented-${i}`, decideFinish(table.get(`invented-${i}`, policy, now), 'failed', policy, now).next, now);
  t.equal(table.size, 100, 'no more than its bound');
  t.equal(table.get('invented-999', policy, now)?.failures, 1, 'the most recent are kept');
  t.equal(table.get('invented-0', policy, now), undefined, 'the oldest forgotten');
  t.equal(table.get('invented-999', policy, now + 61_000), undefined, 'a state older than a lock lasts is dropped');
});
