// The cascade's pure parts: our digest answer (with and without qop) checked by the bridge's own
// registrar arithmetic, the challenge and offer readers (total: never throw), the SDP answer, the
// catalog tree and its paging.
import fc from 'fast-check';
import sip from 'sip';
import t from 'tap';
import { businessGroupId, catalogItems, catalogPages, mineNodeIds } from '../../../gb28181/cascade/catalogTree.ts';
import { buildPlayAnswer, readOffer } from '../../../gb28181/cascade/playAnswer.ts';
import { authorization, readChallenge } from '../../../gb28181/cascade/upperDigest.ts';
import type { ChannelRecord, DeviceRecord } from '../../../gb28181/registry/DeviceStore.ts';
import { DigestAuth } from '../../../gb28181/sip/digest.ts';
import { parseSdp } from '../../../src/gb28181/sdp.ts';

t.test('digest: our answer verifies at a GB/T 28181 registrar, with and without qop', async (t) => {
  const registrar = new DigestAuth('1100000000', 300);
  const user = '34020000002000000001';
  const uri = 'sip:11000000002000000001@10.0.0.1:5060';
  for (const offered of [registrar.challenge(), registrar.challenge().replace(', qop="auth"', '')]) {
    const c = readChallenge(offered)!;
    t.ok(c, offered);
    t.equal(c.qop, offered.includes('qop') ? 'auth' : '');
    const header = authorization(c, 'REGISTER', uri, user, 'pw');
    t.equal(header.includes('qop=auth'), offered.includes('qop'));
    const parsed = sip.parse(`REGISTER ${uri} SIP/2.0\r\nAuthorization: ${header}\r\n\r\n`)?.headers.authorization;
    t.equal(registrar.verify(parsed, 'REGISTER', user, 'pw'), 'ok');
    t.equal(registrar.verify(parsed, 'REGISTER', user, 'other'), 'wrong');
  }
  // parsed by the sip package (quoted values), and qop in a list
  const c = readChallenge([{ scheme: 'Digest', realm: '"r"', nonce: '"n1"', qop: '"auth,auth-int"', opaque: '"o"' }]);
  t.same(c, { realm: 'r', nonce: 'n1', opaque: 'o', qop: 'auth', stale: false });
  t.equal(readChallenge('Basic realm="x"'), undefined, 'not Digest');
  t.equal(readChallenge('Digest realm="x", nonce="n", algorithm=SHA-256'), undefined, 'not MD5');
  t.equal(readChallenge(undefined), undefined);
});

t.test('the challenge reader is total', async () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.array(fc.anything()), fc.anything()), (h) => {
      readChallenge(h);
    }),
    { numRuns: 2000 },
  );
});

t.test('offers: transport from proto and setup, errors as values, total on any text', async (t) => {
  const offer = (m: string, extra = '') => `v=0\r\no=x 0 0 IN IP4 10.1.1.1\r\ns=Play\r\nc=IN IP4 10.1.1.1\r\nt=0 0\r\n${m}\r\n${extra}y=0100000001\r\n`;
  t.match(readOffer(offer('m=video 6000 RTP/AVP 96')), { ok: true, offer: { host: '10.1.1.1', port: 6000, transport: 'udp', ssrc: '0100000001', session: 'Play' } });
  t.match(readOffer(offer('m=video 6000 TCP/RTP/AVP 96', 'a=setup:passive\r\n')), { ok: true, offer: { transport: 'tcp-active' } });
  t.match(readOffer(offer('m=video 6000 TCP/RTP/AVP 96', 'a=setup:active\r\n')), { ok: true, offer: { transport: 'tcp-passive' } });
  t.match(readOffer(offer('m=video 6000 TCP/RTP/AVP 96')), { ok: true, offer: { transport: 'tcp-active' } }, 'no setup: the platform listens');
  t.match(readOffer(offer('m=video 0 RTP/AVP 96')), { ok: false });
  t.match(readOffer(offer('m=audio 6000 RTP/AVP 8')), { ok: false });
  t.match(readOffer('v=0\r\nc=IN IP4 0.0.0.0\r\nm=video 1 RTP/AVP 96\r\n'), { ok: false });
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (s) => {
      const r = readOffer(s);
      return r.ok === true || typeof r.error === 'string';
    }),
    { numRuns: 2000 },
  );
});

t.test('our answer: sendonly PS/90000, the setup opposite to the offer, its SSRC; it parses back', async (t) => {
  for (const transport of ['udp', 'tcp-active', 'tcp-passive'] as const) {
    const p = parseSdp(buildPlayAnswer({ localId: '34020000002000000001', host: '10.2.2.2', port: 30002, transport, ssrc: '0100000007' }));
    t.ok(p.ok);
    if (!p.ok) continue;
    const m = p.sdp.media[0]!;
    t.match(p.sdp, { host: '10.2.2.2', ssrc: '0100000007' });
    t.match(m, { type: 'video', port: 30002, direction: 'sendonly', proto: transport === 'udp' ? 'RTP/AVP' : 'TCP/RTP/AVP', setup: { udp: '', 'tcp-active': 'active', 'tcp-passive': 'passive' }[transport] });
    t.equal(m.rtpmap[96], 'PS/90000');
  }
});

const device = (id: string, online = true): DeviceRecord => ({ id, name: '', manufacturer: 'M', model: 'X', firmware: '', transport: 'UDP', address: '', port: 0, online, registeredAt: 0, expiresAt: 0, lastKeepaliveAt: 0, keepaliveSeconds: 60, version: '', channelCount: 0, status: {} });
const channel = (deviceId: string, id: string, status = 'ON'): ChannelRecord => ({ deviceId, id, name: '', manufacturer: '', model: '', parentId: '', civilCode: '', address: '', status, extra: {}, updatedAt: 0 });

t.test('catalog tree: ids derived and stable, collisions bumped, status from the registry', async (t) => {
  const nodes = mineNodeIds(['34020000001320000001', '34020000001180000001']);
  t.equal(new Set(nodes.values()).size, 2, 'two devices of the same serial get two nodes');
  t.same(mineNodeIds(['34020000001180000001', '34020000001320000001']), nodes, 'the same whatever the order');
  const items = catalogItems(
    { devices: () => [device('34020000001180000002', false), device('34020000001180000001')], channels: (d) => [channel(d, `${d.slice(0, 13)}1000001`), channel(d, `${d.slice(0, 13)}1000002`, 'OFF')] },
    '34020000002000000001',
    'G',
  );
  t.equal(items.length, 1 + 2 + 4);
  t.same(items[0], { DeviceID: businessGroupId('34020000002000000001'), Name: 'G' });
  t.same(items.map((i) => i['Status'] ?? '-'), ['-', '-', 'ON', 'OFF', '-', 'OFF', 'OFF'], 'online+ON only is ON; mines sorted');
});

t.test('paging: every item once, SumNum on each page, Num the page length', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 50 }), (n, size) => {
      const items = Array.from({ length: n }, (_, i) => ({ DeviceID: String(i) }));
      const pages = catalogPages(items, 'me', 5, size);
      const seen = pages.flatMap((p) => (p['DeviceList'] as { Item: { DeviceID: string }[] }).Item.map((i) => i.DeviceID));
      if (seen.join() !== items.map((i) => i.DeviceID).join()) return false;
      if (pages.length !== Math.max(1, Math.ceil(n / size))) return false;
      return pages.every((p) => p['SumNum'] === n && (p['DeviceList'] as { '@Num': number; Item: unknown[] })['@Num'] === (p['DeviceList'] as { Item: unknown[] }).Item.length);
    }),
    { numRuns: 500 },
  );
});
