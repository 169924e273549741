// Every reader of outside input in the device simulator is total (fast-check): the SIP parse, the
// MANSCDP reader, the SDP offer reader, the digest challenge, RTP; the XML round-trips its text.
import t from 'tap';
import fc from 'fast-check';
import { parseChallenge } from '../../../sim/device/digest.ts';
import { el, encodeBody, readManscdp, xmlDocument } from '../../../sim/device/manscdp.ts';
import { parseRtp } from '../../../sim/device/rtp.ts';
import { readOffer } from '../../../sim/device/sdp.ts';
import { parseSip } from '../../../sim/device/sipTransport.ts';

t.test('readers never throw', async (t) => {
  const sipish = fc.oneof(
    fc.string({ maxLength: 400 }),
    fc.array(fc.constantFrom('INVITE sip:a@b SIP/2.0', 'SIP/2.0 200 OK', 'Via: SIP/2.0/UDP x', 'CSeq: 1 MESSAGE', 'CSeq: x', 'Call-ID: c', 'Content-Length: 99', 'From: <sip:a@b>;tag=1', 'To: x', '', '\u0000'), { maxLength: 12 }).map((l) => l.join('\r\n')),
  );
  fc.assert(
    fc.property(sipish, fc.uint8Array({ maxLength: 300 }), (text, bytes) => {
      parseSip(text);
      parseSip(Buffer.from(bytes).toString('latin1'));
      readManscdp(Buffer.from(bytes));
      readManscdp(Buffer.from(text));
      readOffer(text);
      parseChallenge(text);
      parseRtp(Buffer.from(bytes));
      return true;
    }),
    { numRuns: 2000 },
  );
  t.pass('total');
});

t.test('MANSCDP text round-trips through GB2312 and UTF-8, escaped', async (t) => {
  const text = fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\u0020-\u007e\u4e00-\u4fff]/g, ''));
  fc.assert(
    fc.property(text, fc.constantFrom('GB2312' as const, 'UTF-8' as const), (s, cs) => {
      const q = readManscdp(encodeBody(xmlDocument('Query', [el('CmdType', 'Catalog'), el('SN', 7), el('DeviceID', s)], cs), cs));
      return q !== undefined && q.root === 'Query' && q.cmdType === 'Catalog' && q.sn === '7' && q.deviceId === s.trim();
    }),
    { numRuns: 500 },
  );
  t.pass('round-trips');
});

t.test('the SDP offer: transports, SSRC, refusals', async (t) => {
  const base = 'v=0\r\no=x 0 0 IN IP4 10.0.0.1\r\ns=Play\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n';
  t.match(readOffer(`${base}m=video 6000 RTP/AVP 96\r\ny=0100000001\r\n`), { address: '10.0.0.2', port: 6000, transport: 'udp', ssrc: '0100000001' });
  t.match(readOffer(`${base}m=video 6000 TCP/RTP/AVP 96\r\na=setup:passive\r\n`), { transport: 'tcp-active' });
  t.match(readOffer(`${base}m=video 6000 TCP/RTP/AVP 96\r\na=setup:active\r\n`), { transport: 'tcp-passive' });
  t.match(readOffer(`${base}m=video 6000 TCP/RTP/AVP 96\r\n`), { transport: 'tcp-active' }, 'no a=setup: the device connects');
  t.match(readOffer(`${base}m=video 6000 RTP/SAVP 96\r\n`), /neither RTP\/AVP nor TCP\/RTP\/AVP/);
  t.match(readOffer(`${base}m=video 6000 RTP/AVP 96\r\ny=abc\r\n`), /not a decimal SSRC/);
  t.match(readOffer('v=0\r\n'), /no c=/);
});
