// Finding 2 of issue 9: wrong passwords sent at once must not get past the lockout. Each attempt is
// counted when it starts and a lock, once set, is never cleared by an attempt still in flight.
import t from 'tap';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, MINE_PASSWORD, startTestRelay } from '../helpers/relay.ts';
import type { Test } from 'tap';

/** A relay with account mine001 and a lockout after `maxFailures`; no per-address limit in the way. */
async function lockingRelay(t: Test, maxFailures: number) {
  const relay = await startTestRelay(t, {
    'relay.login.maxFailures': maxFailures,
    'relay.login.lockSeconds': 900,
    'relay.login.perAddressPerMinute': 1000,
  });
  await relay.ctx.accounts.add({ username: 'mine001', password: MINE_PASSWORD, mines: [MINE] });
  return { relay, mine: new GuideMine(relay.url, 'mine001', MINE_PASSWORD) };
}

t.test('12 concurrent wrong passwords lock the account; the right one is then refused', async (t) => {
  const { relay, mine } = await lockingRelay(t, 5);

  const wrong = await Promise.all(Array.from({ length: 12 }, (_, i) => mine.login(`wrong-${i}`)));
  t.same(
    wrong.map((a) => a.status),
    Array(12).fill(426),
    'every wrong attempt is refused',
  );
  t.ok(relay.ctx.accounts.loginState('mine001').lockedUntil > Date.now(), 'the account is locked');

  const right = await mine.login();
  t.equal(right.status, 426, 'the right password gets no token while the lock holds');
  t.notOk(right.body.access_token, 'no token');
  t.match(right.body, { code: 1, msg: 'Bad credentials' });
});

t.test('the right password sent beside wrong ones never clears a lock they set', async (t) => {
  const { relay, mine } = await lockingRelay(t, 3);
  // the wrong ones first, so that the lock is certain; then the right one joins while they run
  const wrong = Array.from({ length: 8 }, (_, i) => mine.login(`wrong-${i}`));
  const mixed = await Promise.all([...wrong, mine.login()]);
  t.ok(
    mixed.slice(0, 8).every((a) => a.status === 426),
    'wrong passwords are refused',
  );
  t.ok(relay.ctx.accounts.loginState('mine001').lockedUntil > Date.now(), 'still locked after all of them ended');
  t.equal((await mine.login()).status, 426, 'the right password afterwards is refused while locked');
});

t.test('right passwords sent at once are never locked out: those beyond maxFailures wait their turn', async (t) => {
  const { relay, mine } = await lockingRelay(t, 3);
  const answers = await Promise.all(Array.from({ length: 12 }, () => mine.login()));
  t.same(
    answers.map((a) => a.status),
    Array(12).fill(200),
    'every one gets a token',
  );
  t.equal(new Set(answers.map((a) => a.body.access_token)).size, 1, 'the same token');
  t.equal(relay.ctx.accounts.loginState('mine001').lockedUntil, 0, 'not locked');
});
