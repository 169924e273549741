// Finding 7 of issue 9: camera/live accepted `liveUrl: "javascript:…"` and forwarded it to the
// national platform, which shows it to people. Only http(s) addresses of the marked stream pass,
// plus the guide's own bare `ip:port` form (accepted, flagged liveUrl.notHttp, as decided in
// NATIONAL-API.md); other schemes and junk are refused naming the field.
import t from 'tap';
import { RECORD_ENDPOINTS, checkRecord, formatJsonTime } from '../../src/contract/index.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { refused } from '../helpers/refusal.ts';
import { MINE, relayWithMine } from '../helpers/relay.ts';

const REFUSED = [
  'javascript:alert(1)',
  'JavaScript:alert(document.domain)//http://x',
  'javascript:1/alert(1)',
  'javascript://%0aalert(1)',
  'vbscript:msgbox(1)',
  'data:text/html,<script>alert(1)</script>',
  'file:///etc/passwd',
  'rtsp://10.1.2.3:554/Streaming/Channels/101',
  'ftp://10.1.2.3/live',
  'mailto:a@b.c',
  '//evil.example/live',
  'http://',
  'http:///live',
  'http:/10.1.2.3:8080/',
  'http:\\\\10.1.2.3\\live',
  'https://:8080/',
  'http://10.1.2.3:99999/',
  '10.1.2.3:99999',
  '999.1.2.3:8080',
  'localhost:abc',
  '<img/src=x/onerror=alert(1)>',
  '%6Aavascript:alert(1)',
  'stream',
];

const ACCEPTED: [string, boolean][] = [
  ['http://10.1.2.3:8080/?action=stream', false],
  ['https://cam.mine.example/live/10', false],
  ['HTTP://10.1.2.3:8080/', false],
  ['127.0.0.1:33390', true],
  ['10.1.2.3:8080/?action=stream', true],
  ['cam-10.mine.local:8090', true],
  ['localhost:8090', true],
  ['[fd00::10]:8090', true],
];

const ctx = { now: Date.now(), maxSkewMs: 300_000 };
const record = (liveUrl: string) => ({ mineId: MINE, cameraId: '10', liveUrl, time: formatJsonTime(ctx.now) });

t.test('the contract refuses other schemes and junk naming liveUrl, and keeps the guide’s bare ip:port flagged', async (t) => {
  for (const url of REFUSED) {
    const err = refused(() => checkRecord(RECORD_ENDPOINTS.cameraLive, record(url), ctx));
    t.equal(err.field, 'liveUrl', url);
    t.equal(err.statusCode, 400, url);
    t.match(err.message, /^liveUrl: must be an http:\/\/ or https:\/\/ address/, url);
  }
  for (const [url, flagged] of ACCEPTED) {
    const r = checkRecord(RECORD_ENDPOINTS.cameraLive, record(url), ctx);
    t.equal(r.value['liveUrl'], url, `${url}: forwarded as sent`);
    t.same(r.flags, flagged ? ['liveUrl.notHttp'] : [], url);
  }
});

t.test('through the relay: javascript: is a 400 envelope and nothing is queued to forward', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  for (const url of ['javascript:alert(1)', 'data:text/html,x', 'javascript:1/alert(1)']) {
    const a = await mine.record(RECORD_ENDPOINTS.cameraLive, record(url));
    t.equal(a.status, 400, url);
    t.equal(a.body.code, 1);
    t.match(a.body.msg, /^liveUrl: must be an http:\/\/ or https:\/\/ address/);
  }
  t.equal(relay.ctx.queue.range().length, 0, 'nothing to forward');
  const bare = await mine.record(RECORD_ENDPOINTS.cameraLive, record('127.0.0.1:33390'));
  t.equal(bare.status, 200, 'the guide’s example is accepted');
  const items = relay.ctx.queue.range();
  t.equal(items.length, 1);
  t.same((items[0]!.payload as RelayItem).flags, ['liveUrl.notHttp']);
});
