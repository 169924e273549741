// Finding 7 of issue 9: the 401 of /metrics (and of the admin API) named the data directory's
// absolute path to whoever asked over the network. The answer now says where the token is in
// words the operator knows (admin.token in the data directory), without the path.
import t from 'tap';
import { request } from 'undici';
import { relayWithMine } from '../helpers/relay.ts';

t.test('the admin-token refusals do not name the data directory', async (t) => {
  const { relay } = await relayWithMine(t);
  const cases: [string, Record<string, string>][] = [
    ['/metrics', {}],
    ['/metrics', { authorization: 'Bearer wrong' }],
    ['/metrics', { authorization: 'Basic cGNmcm9udDpwY2Zyb250' }],
    ['/admin/status', {}],
    ['/admin/queue', { authorization: 'Bearer wrong' }],
  ];
  for (const [path, headers] of cases) {
    const res = await request(relay.url + path, { headers });
    const text = await res.body.text();
    const what = `${path} ${JSON.stringify(headers)}`;
    t.equal(res.statusCode, 401, what);
    const body = JSON.parse(text) as { code: number; msg: string };
    t.equal(body.code, 1, what);
    t.equal(body.msg, 'Authorization: the admin token (admin.token in the data directory) is required as a Bearer token', what);
    t.notOk(text.includes(relay.dataDir), `${what}: no data-dir path`);
    t.notMatch(text, /\/tmp|\/var|\/home|\/etc/, `${what}: no absolute path at all`);
  }
  const ok = await request(relay.url + '/metrics', { headers: { authorization: `Bearer ${relay.ctx.adminToken}` } });
  t.equal(ok.statusCode, 200, 'the right token still opens /metrics');
  await ok.body.dump();
});
