import t from 'tap';
import fc from 'fast-check';
import { backoffMs, DEFAULT_RETRY_LISTS, outcomeAfterRelogin, outcomeOfAnswer, outcomeOfError } from '../../../relay/forward/outcome.ts';
import { CircuitBreaker } from '../../../relay/forward/CircuitBreaker.ts';

const lists = DEFAULT_RETRY_LISTS;
const answer = (status: number, body: unknown) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  let env;
  try {
    const j = JSON.parse(text);
    env = typeof j?.code === 'number' || typeof j?.code === 'string' ? { code: Number(j.code), msg: j.msg ?? j.message ?? '', data: j.data ?? null } : undefined;
  } catch {
    env = undefined;
  }
  return { status, envelope: env, text };
};

t.test('what each answer means', async (t) => {
  t.equal(outcomeOfAnswer(answer(200, { code: 0, msg: 'success', data: true }), lists).kind, 'delivered');
  t.equal(outcomeOfAnswer(answer(200, { code: '0', message: 'success' }), lists).kind, 'delivered', 'table 5-21: string code and message');
  t.equal(outcomeOfAnswer(answer(424, { code: 1, msg: 'token expire' }), lists).kind, 'auth');
  t.equal(outcomeOfAnswer(answer(200, { code: 1, msg: 'token expire' }), lists).kind, 'auth', 'code 1 on a 200 too');
  t.equal(outcomeOfAnswer(answer(401, 'Unauthorized'), lists).kind, 'auth');
  t.equal(outcomeOfAnswer(answer(400, { code: 1, msg: 'mineId: …' }), lists).kind, 'auth', 'any code 1 first means: log in again once');
  t.equal(outcomeAfterRelogin(answer(400, { code: 1, msg: 'mineId: …' }), lists).kind, 'reject', '…and a 4xx again after that is definite');
  t.equal(outcomeAfterRelogin(answer(424, { code: 1, msg: 'token expire' }), lists).kind, 'retry', 'still refused after a fresh login: retry later');
  const busy = outcomeOfAnswer(answer(503, '<html>busy</html>'), lists);
  t.same([busy.kind, busy.kind === 'retry' && busy.transport], ['retry', true]);
  t.equal(outcomeOfAnswer(answer(429, ''), lists).kind, 'retry');
  t.equal(outcomeOfAnswer(answer(413, { code: 500, msg: 'too big' }), lists).kind, 'reject');
  const r = outcomeOfAnswer(answer(200, { code: 500, msg: 'mine not registered' }), lists);
  t.same([r.kind, r.kind === 'reject' && /mine not registered/.test(r.reason)], ['reject', true], 'HTTP 200 with another code and a reason is definite');
  t.equal(outcomeOfAnswer(answer(200, '<html>proxy login page</html>'), lists).kind, 'retry', 'not an envelope: nothing definite said');
  t.equal(outcomeOfAnswer(answer(599, ''), lists).kind, 'retry');
});

t.test('errors: the network’s are transport failures, others are ours', async (t) => {
  const net = outcomeOfError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), lists);
  t.same([net.kind, net.kind === 'retry' && net.transport], ['retry', true]);
  const undici = outcomeOfError(Object.assign(new Error('fetch failed'), { cause: { code: 'UND_ERR_SOCKET' } }), lists);
  t.same([undici.kind, undici.kind === 'retry' && undici.transport], ['retry', true], 'the code may sit in the cause');
  const ours = outcomeOfError(new TypeError('x is undefined'), lists);
  t.same([ours.kind, ours.kind === 'retry' && ours.transport], ['retry', false], 'retried, but does not open the circuit');
});

t.test('back-off doubles with jitter and stays under the cap', async (t) => {
  t.equal(backoffMs(1, 1, 300, () => 1), 1000);
  t.equal(backoffMs(1, 1, 300, () => 0), 500);
  t.equal(backoffMs(4, 1, 300, () => 1), 8000);
  t.equal(backoffMs(30, 1, 300, () => 1), 300_000);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 10, max: 600 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, base, max, r) => {
      const ms = backoffMs(n, base, max, () => r);
      return ms >= 0 && ms <= max * 1000 && ms >= Math.min(max * 1000, base * 1000 * 2 ** Math.max(0, n - 1)) / 2 - 1;
    }),
  );
});

t.test('the circuit opens after N failures, probes, lets one through, closes on success', async (t) => {
  const b = new CircuitBreaker(3);
  t.ok(b.allow());
  b.failure('x');
  b.failure('x');
  t.equal(b.state, 'closed');
  b.success();
  b.failure('x');
  b.failure('x');
  t.equal(b.state, 'closed', 'a success resets the count');
  b.failure('ECONNREFUSED');
  t.equal(b.state, 'open');
  t.notOk(b.allow());
  b.probeSucceeded();
  t.equal(b.state, 'halfOpen');
  t.ok(b.allow(), 'one trial');
  t.notOk(b.allow(), 'only one');
  b.failure('still down');
  t.equal(b.state, 'open', 'a failed trial opens it again');
  b.probeSucceeded();
  t.ok(b.allow());
  b.success();
  t.equal(b.state, 'closed');
  t.equal(b.lastError, 'still down');
});
