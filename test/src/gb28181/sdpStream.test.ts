// Stream selection in the live INVITE's SDP: what we offer for main and sub, how answers and
// offers are read (a=streamnumber over a=streamprofile over a=streamMode, whatever their order),
// and the ?stream= / --stream selector.
import fc from 'fast-check';
import t from 'tap';
import { buildPlayOffer, parseSdp, parseStreamSelector, readStreamAttribute, streamName, videoMedia } from '../../../src/gb28181/sdp.ts';
import { readOffer as simReadOffer } from '../../../sim/device/sdp.ts';

const base = { serverId: '34020000002000000001', host: '10.0.0.5', port: 30002, transport: 'udp' as const, ssrc: '0200000042', channelId: '34020000001310000001' };

t.test('the offer asks for the stream in all three dialects', async (t) => {
  const main = buildPlayOffer(base);
  t.match(main, /\r\na=streamnumber:0\r\na=streamprofile:0\r\na=streamMode:main\r\ny=/, 'main by default');
  const sub = buildPlayOffer({ ...base, stream: 1 });
  t.match(sub, /\r\na=streamnumber:1\r\na=streamprofile:1\r\na=streamMode:sub\r\n/);
  const third = buildPlayOffer({ ...base, stream: 2 });
  t.match(third, /a=streamnumber:2\r\na=streamprofile:2\r\ny=/);
  t.notMatch(third, /streamMode/, 'streamMode has no name for a third stream');
  for (const stream of [0, 1, 2, 3] as const) {
    const r = parseSdp(buildPlayOffer({ ...base, stream }));
    t.ok(r.ok);
    if (r.ok) t.equal(videoMedia(r.sdp)!.stream, stream, `stream ${stream} parses back`);
    const sim = simReadOffer(buildPlayOffer({ ...base, stream, transport: 'tcp-passive' }));
    t.equal(typeof sim === 'string' ? sim : sim.stream, stream, `the sim device reads stream ${stream}`);
  }
});

t.test('answers and offers of other platforms', async (t) => {
  const sdp = (attrs: string[]) => ['v=0', 'c=IN IP4 1.2.3.4', 'm=video 9 RTP/AVP 96', ...attrs.map((a) => `a=${a}`), 'y=0100000001'].join('\r\n');
  const stream = (attrs: string[]) => {
    const r = parseSdp(sdp(attrs));
    return r.ok ? videoMedia(r.sdp)!.stream : 'error';
  };
  t.equal(stream([]), undefined, 'none: undefined (the device says nothing)');
  t.equal(stream(['streamprofile:1']), 1, 'Hikvision / WVP');
  t.equal(stream(['streamMode:SUB']), 1, 'TP-LINK, any case');
  t.equal(stream(['streamMode:main']), 0);
  t.equal(stream(['streamMode:sub', 'streamprofile:0']), 0, 'streamprofile over streamMode');
  t.equal(stream(['streamnumber:1', 'streamprofile:0', 'streamMode:main']), 1, 'streamnumber over the others, first');
  t.equal(stream(['streamprofile:0', 'streamnumber:1']), 1, 'streamnumber over the others, last');
  t.equal(stream(['streamnumber:7', 'streamprofile:1']), 1, 'an out-of-range streamnumber is ignored');
  t.equal(stream(['streamnumber:', 'streamMode:third']), undefined, 'values that mean nothing are ignored');
  t.equal(readStreamAttribute('recvonly'), undefined);
  t.same(readStreamAttribute('StreamNumber: 3 '), { n: 3, rank: 3 });
  const sim = simReadOffer(sdp(['streamMode:sub']));
  t.equal(typeof sim === 'string' ? sim : sim.stream, 1, 'the sim device reads streamMode');
  const simNone = simReadOffer(sdp([]));
  t.equal(typeof simNone === 'string' ? simNone : simNone.stream, 0, 'the sim device: none is main');
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (v) => {
      const r = readStreamAttribute(v);
      return r === undefined || (r.n >= 0 && r.n <= 3 && r.rank >= 1 && r.rank <= 3);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(fc.constantFrom('streamnumber:', 'streamprofile:', 'streamMode:', 'StreamMode:', 'x'), { maxLength: 5 }), fc.array(fc.string({ maxLength: 6 }), { minLength: 5, maxLength: 5 }), (names, values) => {
      const r = parseSdp(sdp(names.map((n, i) => n + values[i])));
      return r.ok && [undefined, 0, 1, 2, 3].includes(videoMedia(r.sdp)!.stream);
    }),
    { numRuns: 1000 },
  );
});

t.test('the ?stream= / --stream selector', async (t) => {
  for (const [text, n] of [[undefined, 0], [null, 0], ['', 0], ['main', 0], ['MAIN', 0], ['sub', 1], [' Sub ', 1], ['0', 0], ['1', 1], ['2', 2], ['3', 3]] as const) t.equal(parseStreamSelector(text), n, JSON.stringify(text));
  for (const bad of ['4', '01', '-1', 'third', 'main,sub', '1.0']) t.equal(parseStreamSelector(bad), undefined, bad);
  t.same([0, 1, 2, 3].map((n) => streamName(n as 0 | 1 | 2 | 3)), ['main', 'sub', '2', '3']);
  fc.assert(fc.property(fc.string({ maxLength: 20 }), (s) => [undefined, 0, 1, 2, 3].includes(parseStreamSelector(s))), { numRuns: 2000 });
  for (const n of [0, 1, 2, 3] as const) t.equal(parseStreamSelector(streamName(n)), n, `${streamName(n)} round-trips`);
});
