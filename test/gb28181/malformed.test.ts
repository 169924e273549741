// Malformed SIP and MANSCDP: a valid message cut anywhere, bytes flipped, random junk, broken XML,
// over UDP and TCP. Properties: the bridge stays up (it still registers a device afterwards), every
// request-looking input gets an answer that is 400 (or a proper answer when the cut left a valid
// message), and nothing that looks like a response is answered.
import fc from 'fast-check';
import t from 'tap';
import { SipUa, xmlDoc } from '../helpers/sipUa.ts';
import { waitFor } from '../helpers/wait.ts';
import { DEVICE, PASSWORD, device, gbConfig, registered, startBridge } from './fixture.ts';
import sip from 'sip';

const RUNS = Number(process.env['ESEAL_FUZZ_RUNS'] ?? 150);

t.test('hand-picked broken requests get 400', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const ua = await device(t, bridge);
  const cases = [
    'REGISTER sip:x SIP/2.0\r\n\r\n', // no Via, no Call-ID
    'REGISTER sip:34020000002000000001@3402000000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK1\r\nCall-ID: a\r\nCSeq: x REGISTER\r\nFrom: <sip:1@x>;tag=1\r\nTo: <sip:1@x>\r\n\r\n',
    'MESSAGE sip:34020000002000000001@3402000000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK2\r\nCall-ID: b\r\nCSeq: 1 REGISTER\r\nFrom: <sip:1@x>;tag=1\r\nTo: <sip:1@x>\r\n\r\n', // CSeq method differs
    'INVITE not-a-uri SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK3\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nFrom: <sip:1@x>;tag=1\r\nTo: <sip:1@x>\r\n\r\n',
  ];
  const before = ua.responses.length;
  for (const c of cases) ua.sendBytes(c);
  await waitFor(() => ua.responses.length >= before + cases.length, 5000, 'four answers');
  t.same(ua.responses.slice(before).map((r) => r.status), [400, 400, 400, 400]);
  ua.sendBytes('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1\r\n\r\n'); // a stray response: never answered
  // a broken MANSCDP body from a registered device: 400
  const reg = await registered(t, bridge, 'UDP', '34020000001320000005');
  for (const body of ['<Notify><CmdType>Keepalive</CmdType></Query>', '<Notify>&#0;</Notify>', 'not xml at all', '<a><b><c><d><e><f><g><h><i><j><k><l><m><n><o><p><q>x</q></p></o></n></m></l></k></j></i></h></g></f></e></d></c></b></a>']) {
    t.equal((await reg.transact(reg.manscdp(body))).status, 400, body.slice(0, 30));
  }
  t.equal((await reg.keepalive()).status, 200, 'still serving');
});

function validRegister(ua: SipUa): string {
  return sip.stringify(ua.request('REGISTER', { headers: { expires: 3600 } }));
}
function validMessage(ua: SipUa): string {
  return sip.stringify(ua.manscdp(xmlDoc('Notify', { CmdType: 'Keepalive', SN: 1, DeviceID: DEVICE, Status: 'OK' })));
}

for (const protocol of ['UDP', 'TCP'] as const) {
  t.test(`${protocol}: random cuts, flips and junk never crash the bridge; requests are answered`, async (t) => {
    const bridge = await startBridge(t, await gbConfig(t, { 'gb28181.limits.requestsPerSecond': 100_000 }));
    const base = await registered(t, bridge, protocol);
    const templates = [validRegister(base), validMessage(base)];
    const input = fc.oneof(
      // a valid message cut at a random point
      fc.tuple(fc.constantFrom(...templates), fc.nat()).map(([m, n]) => m.slice(0, n % (m.length + 1))),
      // a valid message with some bytes replaced
      fc.tuple(fc.constantFrom(...templates), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })).map(([m, flips]) => {
        const b = Buffer.from(m, 'latin1');
        for (const [at, v] of flips) b[at % b.length] = v;
        return b.toString('latin1');
      }),
      // junk after a request line
      fc.tuple(fc.constantFrom('REGISTER', 'MESSAGE', 'INVITE', 'BYE', 'FOO'), fc.string({ maxLength: 300 })).map(([m, rest]) => `${m} sip:x@y SIP/2.0\r\n${rest}\r\n\r\n`),
      fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(input, async (text) => {
        if (!text.length) return;
        if (protocol === 'TCP') {
          // each case on a connection of its own: a broken frame closes it
          const ua = await SipUa.create({ ...base.options });
          ua.sendBytes(text + '\r\n\r\n');
          await new Promise((r) => setTimeout(r, 2));
          await ua.close();
        } else base.sendBytes(text);
        sent++;
      }),
      { numRuns: RUNS },
    );
    t.equal(sent > 0, true);
    // the bridge is alive and serves a new device properly
    const after = await device(t, bridge, protocol, '34020000001320000042');
    const answers = await after.register(PASSWORD);
    t.same(answers.map((a) => a.status), [401, 200]);
    t.ok(bridge.context.endpoint.stats.malformed > 0, `${bridge.context.endpoint.stats.malformed} malformed inputs seen`);
    t.equal(bridge.context.endpoint.stats.failures, 0, 'no handler threw');
  });
}

t.test('UDP: every cut of a request that is still a request gets exactly one answer, 4xx or 2xx', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t, { 'gb28181.limits.requestsPerSecond': 100_000 }));
  const ua = await device(t, bridge);
  const msg = validRegister(ua);
  const head = msg.indexOf('\r\n') + 2;
  let expected = 0;
  // cuts that keep the request line: the bridge must answer each (a 400 or the 401 challenge)
  for (let n = head; n <= msg.length; n += 7) {
    ua.sendBytes(msg.slice(0, n).replace(/Call-ID: [^\r]+/, `Call-ID: cut${n}`).replace(/branch=[^;\r]+/, `branch=z9hG4bKcut${n}`));
    expected++;
  }
  await waitFor(() => ua.responses.length >= expected, 10_000, `${expected} answers`);
  t.ok(ua.responses.every((r) => r.status === 400 || r.status === 401), ua.responses.map((r) => r.status).join(','));
});
