// SDP of a live INVITE: the offer we write, answers devices send (UDP, TCP, odd spacing), errors.
import fc from 'fast-check';
import t from 'tap';
import { buildPlayOffer, parseSdp, videoMedia } from '../../../src/gb28181/sdp.ts';
import { makeSsrc, ssrcNumber, isGbId, typeCode } from '../../../src/gb28181/ids.ts';
import { formatSipTime, parseSipTime } from '../../../src/gb28181/sipTime.ts';

t.test('our offer parses back', async (t) => {
  for (const transport of ['udp', 'tcp-passive', 'tcp-active'] as const) {
    const text = buildPlayOffer({ serverId: '34020000002000000001', host: '10.0.0.5', port: 30002, transport, ssrc: '0200000042', channelId: '34020000001310000001' });
    const r = parseSdp(text);
    t.ok(r.ok);
    if (!r.ok) continue;
    const v = videoMedia(r.sdp)!;
    t.equal(r.sdp.session, 'Play');
    t.equal(r.sdp.host, '10.0.0.5');
    t.equal(v.port, 30002);
    t.same(v.payloads, [96, 98, 97]);
    t.equal(v.rtpmap[96], 'PS/90000');
    t.equal(v.proto, transport === 'udp' ? 'RTP/AVP' : 'TCP/RTP/AVP');
    t.equal(v.setup, transport === 'udp' ? '' : transport === 'tcp-passive' ? 'passive' : 'active');
    t.equal(r.sdp.ssrc, '0200000042');
    t.match(text, /\r\nf=\r\n$/);
  }
});

t.test('device answers', async (t) => {
  const hik = 'v=0\r\no=34020000001320000001 0 0 IN IP4 192.168.1.64\r\ns=Play\r\nc=IN IP4 192.168.1.64\r\nt=0 0\r\nm=video 15060 RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\ny=0100000001\r\nf=\r\n';
  const r = parseSdp(hik);
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.sdp.host, '192.168.1.64');
    t.equal(videoMedia(r.sdp)!.port, 15060);
    t.equal(videoMedia(r.sdp)!.direction, 'sendonly');
    t.equal(r.sdp.ssrc, '0100000001');
  }
  const tcp = parseSdp('v=0\nc=IN IP4 10.1.1.1\nm=audio 0 RTP/AVP 8\nm=video 9 TCP/RTP/AVP 96\na=setup:passive\nc=IN IP4 10.1.1.2\n');
  t.ok(tcp.ok);
  if (tcp.ok) {
    t.equal(videoMedia(tcp.sdp)!.setup, 'passive');
    t.equal(tcp.sdp.host, '10.1.1.2', 'a media-level c= for video wins');
  }
  for (const bad of ['', 'm=video 1 RTP/AVP 96', 'v=0\r\nc=IN IP4\r\n', 'v=0\r\nm=video 70000 RTP/AVP 96', 'v=0\r\ny=abc', 'v=0\r\nnot sdp']) t.notOk(parseSdp(bad).ok, JSON.stringify(bad));
  fc.assert(fc.property(fc.string({ maxLength: 500 }), (s) => typeof parseSdp(s).ok === 'boolean'), { numRuns: 2000 });
});

t.test('ids, SSRC, Beijing time', async (t) => {
  t.equal(makeSsrc('3402000000', 1), '0200000001');
  t.equal(makeSsrc('1101080000', 12345, false), '1108002345', '1 for playback, 10800 (the domain\'s 4th–8th digits), 2345');
  t.equal(ssrcNumber('0200000001'), 200000001);
  t.equal(ssrcNumber('9999999999'), undefined, 'above 2^32');
  t.ok(isGbId('34020000001320000001'));
  t.notOk(isGbId('3402000000132000000'));
  t.equal(typeCode('34020000001320000001'), 132);
  t.equal(formatSipTime(Date.UTC(2024, 0, 1, 0, 0, 0, 5)), '2024-01-01T08:00:00.005');
  t.equal(parseSipTime('2024-01-01T08:00:00.005'), Date.UTC(2024, 0, 1, 0, 0, 0, 5));
  t.equal(parseSipTime('2024-13-01T08:00:00'), undefined);
});
