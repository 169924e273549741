// The upstream session against real servers on 127.0.0.1: the national-platform simulator (pig's
// login: same token again with what is left of its life, 426/401 refusals, 424 refused tokens)
// and, for answers the simulator never gives, a small stub token endpoint written here.
import t, { type Test } from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NationalClient, type ApiAnswer } from '../../../src/client/NationalClient.ts';
import { UpstreamHttpError, UpstreamLoginRefused, UpstreamNoCredentials } from '../../../src/client/errors.ts';
import { refusesLogin } from '../../../src/client/outcome.ts';
import { TOKEN_MARGIN_MS, UpstreamSession } from '../../../src/client/UpstreamSession.ts';
import type { UpstreamCredentials } from '../../../src/client/UpstreamSessionTypes.ts';
import { readEnvelope } from '../../../src/contract/index.ts';
import { generateSm2KeyPair } from '../../../src/crypto/sm2.ts';
import { NationalSimulator, type SimOptions } from '../../../sim/national/index.ts';

const MINE = '140421007866';
const USER = 'mine001';
const PASSWORD = 'National+Pass/1';
const OTHER = 'mine002';

/** A client that counts how often the public key is forgotten (a refused login must forget it). */
class CountingClient extends NationalClient {
  forgotten = 0;
  override forgetPublicKey(): void {
    this.forgotten++;
    super.forgetPublicKey();
  }
}

async function startSim(t: Test, options: SimOptions = {}): Promise<NationalSimulator> {
  const sim = await NationalSimulator.start({
    accounts: [
      { username: USER, password: PASSWORD },
      { username: OTHER, password: 'Other+Pass/2' },
    ],
    mineStatuses: { [MINE]: '生产矿井' },
    seed: 7,
    ...options,
  });
  t.teardown(() => sim.close());
  return sim;
}

function sessionFor(
  t: Test,
  url: string,
  credentials: (account: string) => UpstreamCredentials | undefined = (a) => (a === USER ? { username: USER, password: PASSWORD } : a === OTHER ? { username: OTHER, password: 'Other+Pass/2' } : undefined),
): { client: CountingClient; session: UpstreamSession } {
  const client = new CountingClient({ url });
  t.teardown(() => client.close());
  return { client, session: new UpstreamSession({ client, credentials, noCredentialsHint: 'add them', refusedHint: 'fix them' }) };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** A token endpoint that answers `status` and `body` to every login (GET /sm2 gives a real key). */
async function stubTokenEndpoint(t: Test, status: number, body: unknown): Promise<string> {
  const { publicKeyHex } = generateSm2KeyPair();
  const server = createServer((req, res) => {
    if (req.url === '/sm2') {
      res.end(publicKeyHex);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

t.test('many concurrent token() calls of one account cause one login; another account has its own', async (t) => {
  const sim = await startSim(t);
  const { session } = sessionFor(t, sim.url);
  const tokens = await Promise.all([...Array.from({ length: 50 }, () => session.token(USER)), session.token(OTHER), session.token(OTHER)]);
  t.equal(sim.stats().logins, 2, 'one login per account');
  t.equal(session.logins, 2);
  t.equal(new Set(tokens.slice(0, 50)).size, 1, 'every caller of one account got the same token');
  t.not(tokens[50], tokens[0], 'the other account has another token');
  t.equal(await session.token(USER), tokens[0], 'later calls reuse it');
  t.equal(sim.stats().logins, 2);
  t.type(session.state(USER).lastLoginAt, 'number');
  t.notOk(session.state(USER).lastError);
});

t.test('a refused token: one fresh login, the call again, never more than twice', async (t) => {
  const sim = await startSim(t);
  const { session, client } = sessionFor(t, sim.url);
  const first = await session.token(USER);
  t.equal(sim.expireTokens(), 1);
  const { answer, relogged } = await session.withToken(USER, (token) => client.mineStatus(MINE, token));
  t.ok(relogged);
  t.equal(answer.status, 200);
  t.equal(answer.envelope?.code, 0);
  t.not(await session.token(USER), first, 'the refused token is forgotten');
  t.equal(sim.stats().logins, 2);

  // an upstream that refuses every token: the call runs twice, the second answer is the caller's
  let calls = 0;
  const refused: ApiAnswer = { status: 424, envelope: readEnvelope({ code: 1, msg: 'token expire' }), text: '{"code":1}' };
  const again = await session.withToken(USER, async () => {
    calls++;
    return refused;
  });
  t.equal(calls, 2);
  t.ok(again.relogged);
  t.equal(again.answer, refused);
  t.equal(sim.stats().logins, 3);

  // an answer that does not refuse the token is handed back as it is
  const plain = await session.withToken(USER, (token) => client.mineStatus(MINE, token));
  t.notOk(plain.relogged);
});

t.test('wrong credentials (426) and a wrong client (401): ESEAL_ERR_UPSTREAM_LOGIN, the public key is fetched again', async (t) => {
  const sim = await startSim(t);
  const { session, client } = sessionFor(t, sim.url, () => ({ username: USER, password: 'Wrong+Pass/9' }));
  const err = await rejection(session.token(USER));
  t.ok(UpstreamLoginRefused.is(err), String(err));
  t.equal((err as { detail?: Record<string, unknown> }).detail?.['status'], 426);
  t.match((err as Error).message, /refused the login of mine001: HTTP 426.*\(fix them\)/);
  t.notMatch((err as Error).message, 'Wrong+Pass/9');
  t.equal(client.forgotten, 1);
  t.match(session.state(USER).lastError, /HTTP 426/);
  t.type(session.state(USER).lastErrorAt, 'number');

  const otherClient = await startSim(t, { client: { id: 'province', secret: 'elsewhere' } });
  const wrongClient = sessionFor(t, otherClient.url);
  const err401 = await rejection(wrongClient.session.token(USER));
  t.ok(UpstreamLoginRefused.is(err401), String(err401));
  t.equal((err401 as { detail?: Record<string, unknown> }).detail?.['status'], 401);
  t.equal(wrongClient.client.forgotten, 1);
});

t.test('a login answered 5xx: ESEAL_ERR_UPSTREAM_HTTP with the status, the key is kept', async (t) => {
  const sim = await startSim(t);
  const { session, client } = sessionFor(t, sim.url);
  await client.publicKey();
  await sim.setFaults({ error5xxRate: 1 });
  const err = await rejection(session.token(USER));
  t.ok(UpstreamHttpError.is(err), String(err));
  const status = (err as { detail?: Record<string, unknown> }).detail?.['status'];
  t.ok(typeof status === 'number' && status >= 500, `status ${String(status)}`);
  t.equal(client.forgotten, 0);
  t.match(session.state(USER).lastError, /answered HTTP 5\d\d/);

  // GET /sm2 answered 5xx is the same typed error
  client.forgetPublicKey();
  const keyErr = await rejection(client.publicKey());
  t.ok(UpstreamHttpError.is(keyErr), String(keyErr));

  await sim.setFaults({ error5xxRate: 0 });
  t.ok(await session.token(USER), 'logs in once the platform is well again');
  t.notOk(session.state(USER).lastError, 'a login clears the error the status shows');
});

t.test('an account without credentials: ESEAL_ERR_UPSTREAM_NO_CREDENTIALS, nothing is asked upstream', async (t) => {
  const sim = await startSim(t);
  const { session } = sessionFor(t, sim.url);
  const err = await rejection(session.token('mine404'));
  t.ok(UpstreamNoCredentials.is(err), String(err));
  t.match((err as Error).message, /mine404.*add them/);
  t.equal(sim.stats().logins + sim.stats().loginFailures, 0);
  t.match(session.state('mine404').lastError, /no credentials/);
});

t.test('what a login answer without a token means: 400 is refused only as OAuth2 invalid_grant', async (t) => {
  const answer = (status: number, body: unknown): ApiAnswer => ({ status, envelope: readEnvelope(body), text: JSON.stringify(body) });
  t.ok(refusesLogin(answer(426, { code: 1, msg: 'Bad credentials', data: 'invalid_exception' })));
  t.ok(refusesLogin(answer(401, { code: 1, msg: 'bad client' })));
  t.ok(refusesLogin(answer(200, { code: 1, msg: 'Bad credentials' })), 'a gateway answering 200 with code 1');
  t.ok(refusesLogin(answer(400, { error: 'invalid_grant', error_description: 'Bad credentials' })), 'RFC 6749 5.2');
  t.notOk(refusesLogin(answer(400, { code: 1, msg: 'grant_type: must be password, got ""' })), 'a broken rule is not refused credentials');
  t.notOk(refusesLogin(answer(400, { error: 'invalid_request' })));
  t.notOk(refusesLogin(answer(500, { code: 1, msg: 'failed' })), "pig's code 1 on a server fault");
  t.notOk(refusesLogin(answer(403, { code: 1, msg: 'forbidden' })));
  t.notOk(refusesLogin(answer(200, { access_token: '' })));

  for (const [status, body, refused] of [
    [200, { code: 1, msg: 'Bad credentials' }, true],
    [400, { error: 'invalid_grant', error_description: 'Bad credentials' }, true],
    [400, { code: 1, msg: 'grant_type: must be password' }, false],
  ] as const) {
    const url = await stubTokenEndpoint(t, status, body);
    const { session, client } = sessionFor(t, url);
    const err = await rejection(session.token(USER));
    t.ok(refused ? UpstreamLoginRefused.is(err) : UpstreamHttpError.is(err), `${status} ${JSON.stringify(body)}: ${String(err)}`);
    t.equal((err as { detail?: Record<string, unknown> }).detail?.['status'], status);
    t.equal(client.forgotten, refused ? 1 : 0);
  }
});

t.test('the same token handed back with little life left is used until it lapses, then a fresh one', async (t) => {
  let simNow = Date.now();
  const sim = await startSim(t, { tokenTtlSeconds: 90, now: () => simNow });
  const { session } = sessionFor(t, sim.url);
  const start = Date.now();
  const first = await session.token(USER, start);
  t.equal(await session.token(USER, start + 90_000 - TOKEN_MARGIN_MS - 1000), first, 'handed out until the margin');
  t.equal(sim.stats().logins, 1);

  // 40 s on: under the margin, so a login; pig hands back the same token with 50 s left
  simNow += 40_000;
  t.equal(await session.token(USER, Date.now() + 40_000), first);
  t.equal(sim.stats().logins, 2);
  t.equal(await session.token(USER, Date.now() + 45_000), first, 'used while it lasts: no login for every call');
  t.equal(sim.stats().logins, 2);

  // lapsed: the next login yields a fresh token
  simNow += 51_000;
  const fresh = await session.token(USER, Date.now() + 91_000);
  t.not(fresh, first);
  t.equal(sim.stats().logins, 3);
});

t.test('a token another path obtained (passthrough) is remembered; refused, it is forgotten once', async (t) => {
  const sim = await startSim(t);
  const { session, client } = sessionFor(t, sim.url);
  const login = await client.login(USER, PASSWORD);
  session.remember(USER, login.token!, login.expiresIn);
  t.equal(await session.token(USER), login.token);
  t.equal(session.logins, 0, 'no login of its own');
  t.notOk(session.invalidate(USER, 'another-token'), 'another token leaves the cached one');
  t.ok(session.invalidate(USER, login.token!));
  t.notOk(session.invalidate(USER, login.token!));
});
