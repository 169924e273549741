// The endpoint's server side of an INVITE over UDP, against a raw UDP user agent: 100 Trying comes
// at once, before the 200 that a slow handler (the cascade acquiring the mine's stream) gives later;
// an INVITE re-sent meanwhile gets the 100 again and does not reach the handler a second time; the
// 200 is re-sent until the ACK (and given up after 64·T1 without one); an INVITE re-sent after the
// 200 gets the same 200; a handler can send its own provisional answer.
import { createSocket, type Socket } from 'node:dgram';
import pino from 'pino';
import t, { type Test } from 'tap';
import { makeResponse, type Request } from '../../../gb28181/sip/SipMessage.ts';
import { SipEndpoint } from '../../../gb28181/sip/SipEndpoint.ts';
import { waitFor } from '../../helpers/wait.ts';

const T1 = 40;

interface Ua {
  socket: Socket;
  port: number;
  /** every answer, in order: status line and To tag */
  got: { status: number; toTag: string; text: string }[];
  send(text: string): void;
}

async function rawUa(t: Test, endpointPort: number): Promise<Ua> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  t.teardown(() => socket.close());
  const ua: Ua = {
    socket,
    port: socket.address().port,
    got: [],
    send: (text) => socket.send(Buffer.from(text, 'latin1'), endpointPort, '127.0.0.1'),
  };
  socket.on('message', (b) => {
    const text = b.toString('latin1');
    const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0);
    const toTag = /\r\nTo:[^\r]*;tag=([^;\r]+)/i.exec(text)?.[1] ?? '';
    ua.got.push({ status, toTag, text });
  });
  return ua;
}

function invite(ua: Ua, callId: string, branch: string): string {
  const body = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=Play\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 30000 RTP/AVP 96\r\na=rtpmap:96 PS/90000\r\ny=0100000001\r\n';
  return [
    'INVITE sip:34020000001310000001@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};rport;branch=${branch}`,
    'From: <sip:11000000002000000001@1100000000>;tag=up1',
    'To: <sip:34020000001310000001@3402000000>',
    `Call-ID: ${callId}`,
    'CSeq: 20 INVITE',
    `Contact: <sip:11000000002000000001@127.0.0.1:${ua.port}>`,
    'Max-Forwards: 70',
    'Content-Type: APPLICATION/SDP',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

function ack(ua: Ua, callId: string, toTag: string): string {
  return [
    'ACK sip:34020000001310000001@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};rport;branch=z9hG4bKack${callId}`,
    'From: <sip:11000000002000000001@1100000000>;tag=up1',
    `To: <sip:34020000001310000001@3402000000>;tag=${toTag}`,
    `Call-ID: ${callId}`,
    'CSeq: 20 ACK',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function endpoint(t: Test): Promise<SipEndpoint> {
  const ep = new SipEndpoint({ host: '127.0.0.1', port: 0, publicHost: '127.0.0.1', transactionSeconds: 5, requestsPerSecond: 1000, maxConnections: 10, log: pino({ level: 'silent' }), t1Ms: T1 });
  await ep.start();
  t.teardown(() => ep.close());
  return ep;
}

t.test('100 at once, the 200 later, re-sent until the ACK; a re-sent INVITE starts nothing new', async (t) => {
  const ep = await endpoint(t);
  let handled = 0;
  let answer!: () => void;
  const answered = new Promise<void>((r) => (answer = r));
  ep.onRequest(async (rq: Request) => {
    if (rq.method !== 'INVITE') return undefined;
    handled++;
    await answered; // the cascade plays the mine's stream first
    return makeResponse(rq, 200, 'OK', { toTag: 'ours1', content: 'v=0\r\n', headers: { 'content-type': 'APPLICATION/SDP' } });
  });
  const ua = await rawUa(t, ep.udpPort);
  ua.send(invite(ua, 'call-a', 'z9hG4bKa1'));
  await waitFor(() => ua.got.length >= 1, 5000, 'the 100');
  t.equal(ua.got[0]!.status, 100, '100 Trying first');
  t.equal(ua.got[0]!.toTag, '', 'a 100 has no To tag');
  t.match(ua.got[0]!.text, /\r\nCSeq: 20 INVITE\r\n/i);
  // the platform re-sends its INVITE (timer A) while we wait for the mine
  ua.send(invite(ua, 'call-a', 'z9hG4bKa1'));
  await waitFor(() => ua.got.length >= 2, 5000, 'the second 100');
  t.equal(ua.got[1]!.status, 100, 'a re-sent INVITE gets the 100 again');
  t.equal(handled, 1, 'and does not reach the handler again');
  answer();
  await waitFor(() => ua.got.filter((g) => g.status === 200).length >= 3, 10_000, 'the 200, re-sent');
  const oks = ua.got.filter((g) => g.status === 200);
  t.ok(oks.every((g) => g.toTag === 'ours1' && g.text === oks[0]!.text), 'every copy is the same 200');
  t.equal(ep.awaitingAck, 1, 'waiting for the ACK');
  // an INVITE re-sent after the 200: the same 200, no second leg
  ua.send(invite(ua, 'call-a', 'z9hG4bKa1'));
  const before = ua.got.length;
  await waitFor(() => ua.got.length > before, 5000, 'an answer to the late retransmission');
  t.equal(ua.got.at(-1)!.status, 200);
  t.equal(ua.got.at(-1)!.toTag, 'ours1', 'the same answer');
  t.equal(handled, 1, 'still one INVITE handled');
  ua.send(ack(ua, 'call-a', 'ours1'));
  await waitFor(() => ep.awaitingAck === 0, 5000, 'the ACK stops the retransmissions');
  t.ok(ep.stats.answersResent >= 2, `the 200 was re-sent ${ep.stats.answersResent} times before the ACK`);
  t.equal(ep.stats.ackTimeouts, 0);
});

t.test('no ACK: re-sent at T1, 2·T1 … T2, given up after 64·T1', async (t) => {
  const ep = await endpoint(t);
  ep.onRequest((rq) => (rq.method === 'INVITE' ? makeResponse(rq, 200, 'OK', { toTag: 'ours2' }) : undefined));
  const ua = await rawUa(t, ep.udpPort);
  const t0 = Date.now();
  ua.send(invite(ua, 'call-b', 'z9hG4bKb1'));
  await waitFor(() => ep.stats.ackTimeouts === 1, 20_000, 'the endpoint gives up');
  const elapsed = Date.now() - t0;
  t.ok(elapsed >= 64 * T1 - 5, `gave up after ${elapsed} ms (64·T1 = ${64 * T1})`);
  t.equal(ep.awaitingAck, 0);
  const oks = ua.got.filter((g) => g.status === 200).length;
  // T1 doubling to T2 = 8·T1 over 64·T1: 1, 2, 4, 8, 8, 8, 8, 8, 8, 8 → about 10 re-sends, plus the first
  t.ok(oks >= 8 && oks <= 13, `${oks} copies of the 200 (bounded, not one per T1)`);
  t.equal(ua.got[0]!.status, 100, 'the 100 came first');
});

t.test('a handler sends its own provisional answer; non-INVITE requests get no 100', async (t) => {
  const ep = await endpoint(t);
  let answer!: () => void;
  const answered = new Promise<void>((r) => (answer = r));
  ep.onRequest(async (rq, remote) => {
    if (rq.method === 'OPTIONS') return makeResponse(rq, 200, 'OK');
    if (rq.method !== 'INVITE') return undefined;
    t.ok(ep.provisional(rq, remote, 183, 'Session Progress'), 'provisional() sends while the request is pending');
    await answered;
    return makeResponse(rq, 486, 'Busy Here', { toTag: 'busy' });
  });
  const ua = await rawUa(t, ep.udpPort);
  ua.send(invite(ua, 'call-c', 'z9hG4bKc1'));
  await waitFor(() => ua.got.length >= 2, 5000, '100 and 183');
  t.same(ua.got.map((g) => g.status), [100, 183]);
  answer();
  await waitFor(() => ua.got.some((g) => g.status === 486), 5000, 'the 486');
  // a non-2xx final answer to an INVITE is re-sent until its ACK too (RFC 3261 §17.2.1)
  await waitFor(() => ua.got.filter((g) => g.status === 486).length >= 2, 5000, 'the 486 re-sent');
  ua.send(ack(ua, 'call-c', 'busy'));
  await waitFor(() => ep.awaitingAck === 0, 5000, 'ACKed');
  const optionsText = invite(ua, 'call-d', 'z9hG4bKd1').replace(/^INVITE/, 'OPTIONS').replace('CSeq: 20 INVITE', 'CSeq: 20 OPTIONS');
  const n = ua.got.length;
  ua.send(optionsText);
  await waitFor(() => ua.got.length > n, 5000, 'the OPTIONS answer');
  t.equal(ua.got[n]!.status, 200, 'OPTIONS: straight to 200, no 100');
  t.equal(ep.awaitingAck, 0, 'nothing waits for an ACK after a non-INVITE');
});
