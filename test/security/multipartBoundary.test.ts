// Finding 7 of issue 9: an evidence upload declared multipart/form-data without a boundary made the
// multipart parser throw, answered 500. It is the mine's mistake: a 4xx envelope naming Content-Type.
import t from 'tap';
import { request } from 'undici';
import { EVIDENCE_ENDPOINTS, formatEvidenceFileName } from '../../src/contract/index.ts';
import { MINE, relayWithMine } from '../helpers/relay.ts';

t.test('multipart/form-data without a usable boundary is a 4xx naming Content-Type, for every upload endpoint', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const name = formatEvidenceFileName('count', { mineId: MINE, cameraId: '10', aiTypeCode: '01', count: '0001', time: Date.now() });
  const body = `--x\r\nContent-Disposition: form-data; name="personVideo"; filename="${name}"\r\nContent-Type: application/mp4\r\n\r\nabc\r\n--x--\r\n`;
  const types = [
    'multipart/form-data',
    'multipart/form-data;',
    'multipart/form-data; charset=utf-8',
    'multipart/form-data; boundary=',
    'multipart/form-data; boundary=""',
    'multipart/form-data; boundaryx=x',
    'Multipart/Form-Data',
  ];
  for (const endpoint of Object.values(EVIDENCE_ENDPOINTS)) {
    for (const type of types) {
      const res = await request(relay.url + endpoint.path, {
        method: 'POST',
        headers: { authorization: `Bearer ${mine.token}`, 'content-type': type },
        body,
      });
      const answer = (await res.body.json()) as { code: number; msg: string };
      const what = `${endpoint.id} with ${JSON.stringify(type)}`;
      t.ok(res.statusCode >= 400 && res.statusCode < 500, `${what}: ${res.statusCode}`);
      t.equal(answer.code, 1, `${what}: the envelope`);
      t.match(answer.msg, /^Content-Type: .*boundary/, `${what}: ${answer.msg}`);
    }
  }
  t.equal(relay.ctx.queue.range().length, 0, 'nothing was stored');
  const text = await relay.ctx.metrics.registry.metrics();
  t.notMatch(text, /ESEAL_ERR_RELAY_INTERNAL/, 'no internal error');
});
