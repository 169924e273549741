// The cascade seen from a bare SIP UA in the upper platform's name (its id, from its address): the
// raw catalog pages, and every malformed or unexpected request answered, nothing crashing.
import t, { type Test } from 'tap';
import type { Request } from '../../../gb28181/sip/SipMessage.ts';
import { SipUa, xmlDoc } from '../../helpers/sipUa.ts';
import { waitFor } from '../../helpers/wait.ts';
import { DOMAIN, channelId, gbConfig, registered, startBridge } from '../fixture.ts';
import { actAsDevice, cascadeEntry, LOWER_ID, UPPER_DOMAIN, UPPER_ID } from './fixture.ts';
import { FakeMedia } from './fakeMedia.ts';
import type { GbService } from '../../../gb28181/GbService.ts';

async function upperUa(t: Test, pageSize: number): Promise<{ ua: SipUa; lower: GbService; pages: Request[] }> {
  const ua = await SipUa.create({ protocol: 'UDP', server: { host: '127.0.0.1', port: 9 }, deviceId: UPPER_ID, domain: UPPER_DOMAIN });
  t.teardown(() => ua.close());
  const cfg = await gbConfig(t);
  cfg.gb28181.cascade = [cascadeEntry({ context: { endpoint: { udpPort: ua.localPort } } } as never, { catalogPageSize: pageSize })];
  const media = new FakeMedia();
  const lower = await startBridge(t, cfg, { media });
  t.teardown(() => media.close());
  (ua.options.server as { port: number }).port = lower.context.endpoint.udpPort;
  const pages: Request[] = [];
  ua.onRequest((rq) => {
    if (rq.method === 'REGISTER') ua.respond(rq, 200, 'OK');
    else if (rq.method === 'MESSAGE') {
      if (/<CmdType>Catalog<\/CmdType>/.test(SipUa.bodyOf(rq))) pages.push(rq);
      ua.respond(rq, 200, 'OK');
    } else ua.respond(rq, 200, 'OK');
  });
  await waitFor(() => lower.cascade!.client(UPPER_ID)!.registered, 10_000, 'registered with the bare UA');
  return { ua, lower, pages };
}

t.test('catalog pages: one MESSAGE per page, DeviceList Num per page, SumNum the whole, GB2312 bytes', async (t) => {
  const { ua, lower, pages } = await upperUa(t, 2);
  const mine = await registered(t, lower, 'UDP', '34020000001180000009');
  actAsDevice(mine, [1, 2, 3].map((n) => ({ id: channelId(n), name: `综采面${n}` })));
  await lower.queryCatalog('34020000001180000009');
  const rs = await ua.transact(ua.manscdp(xmlDoc('Query', { CmdType: 'Catalog', SN: 77, DeviceID: LOWER_ID })));
  t.equal(rs.status, 200, 'the query is answered 200 first');
  // 1 group + 1 mine + 3 channels = 5 items in pages of 2
  await waitFor(() => pages.length >= 3, 10_000, 'three pages');
  const bodies = pages.map((p) => SipUa.bodyOf(p));
  for (const b of bodies) {
    t.match(b, /encoding="GB2312"/);
    t.match(b, /<SN>77<\/SN>/);
    t.match(b, /<SumNum>5<\/SumNum>/);
  }
  t.same(bodies.map((b) => Number(/<DeviceList Num="(\d+)">/.exec(b)?.[1])), [2, 2, 1]);
  const raw = Buffer.from(pages[2]!.content ?? '', 'latin1');
  t.ok(raw.includes(Buffer.from([0xd7, 0xdb])), '综 in GB2312 bytes (D7 DB), not UTF-8');
});

t.test('malformed and unexpected requests from the upper platform are answered, never crash', async (t) => {
  const { ua, lower } = await upperUa(t, 20);
  const send = (rq: Request) => ua.transact(rq);
  t.equal((await send(ua.request('MESSAGE', { content: '<Query><CmdType>Catalog', contentType: 'Application/MANSCDP+xml' }))).status, 400, 'bad XML');
  t.equal((await send(ua.request('MESSAGE', { content: '', contentType: 'Application/MANSCDP+xml' }))).status, 400, 'empty body');
  t.equal((await send(ua.manscdp(xmlDoc('Query', { SN: 1 })))).status, 400, 'no CmdType');
  t.equal((await send(ua.manscdp(xmlDoc('Notify', { CmdType: 'Keepalive', SN: 2, DeviceID: UPPER_ID, Status: 'OK' })))).status, 200, 'its keepalive');
  t.equal((await send(ua.manscdp(xmlDoc('Control', { CmdType: 'DeviceControl', SN: 3, DeviceID: channelId(1), PTZCmd: 'A50F01' })))).status, 200, 'not relayed, answered');
  const invite = (content: string, to = channelId(1)) => {
    const rq = ua.request('INVITE', { content, contentType: 'APPLICATION/SDP' });
    rq.uri = `sip:${to}@127.0.0.1`;
    rq.headers.to = { uri: `sip:${to}@${DOMAIN}`, params: {} };
    return rq;
  };
  t.equal((await send(invite('garbage'))).status, 488, 'an SDP without v=');
  t.equal((await send(invite('v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 5000 RTP/AVP 8\r\n'))).status, 488, 'no video');
  const offer = 'v=0\r\no=x 0 0 IN IP4 127.0.0.1\r\ns=Play\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\na=recvonly\r\na=rtpmap:96 PS/90000\r\ny=0110000001\r\n';
  t.equal((await send(invite(offer.replace('s=Play', 's=Playback')))).status, 488, 'playback is not relayed');
  t.equal((await send(invite(offer, '123'))).status, 400, 'not a channel id');
  t.equal((await send(invite(offer))).status, 404, 'a channel nobody has');
  t.equal((await send(ua.request('BYE'))).status, 481, 'BYE of no call');
  t.equal((await send(ua.request('CANCEL'))).status, 481, 'CANCEL of no call');
  t.equal((await send(ua.request('SUBSCRIBE'))).status, 405);
  t.equal((await send(ua.request('OPTIONS'))).status, 200);
  t.equal(lower.context.endpoint.stats.failures, 0, 'no handler failed');
});
