// The upper platform plays our channels (two bridges and a mine device over real UDP): its INVITE
// makes the lower bridge INVITE the mine device, opens an outgoing leg to the upper's offer and is
// answered with our address and its SSRC; datagrams from the device reach the upper's receiving
// port; BYE both ways; the mine leg is shared with local viewers; 404 / 480 / 486 mapped.
import dgram from 'node:dgram';
import t, { type Test } from 'tap';
import { parseSdp } from '../../../src/gb28181/sdp.ts';
import { SipUa } from '../../helpers/sipUa.ts';
import { waitFor } from '../../helpers/wait.ts';
import { PASSWORD, channelId, registered } from '../fixture.ts';
import { LOWER_ID, UPPER_ID, actAsDevice, cascadeEntry, startLower, startUpper } from './fixture.ts';

const MINE = '34020000001180000001';
const CH = channelId(1);
const CH2 = channelId(2);

async function setup(t: Test, entry: Parameters<typeof cascadeEntry>[1] = {}, inviteStatus?: number) {
  const up = await startUpper(t);
  const low = await startLower(t, cascadeEntry(up.upper, entry));
  await waitFor(() => low.lower.cascade!.client(UPPER_ID)!.registered, 10_000, 'registered');
  const mine = await registered(t, low.lower, 'UDP', MINE);
  const device = actAsDevice(mine, [{ id: CH, name: '主井' }, { id: CH2, name: '副井' }], inviteStatus ? { inviteStatus } : {});
  await low.lower.queryCatalog(MINE);
  await up.upper.queryCatalog(LOWER_ID);
  return { ...up, ...low, mine, device };
}

/** The port the lower bridge receives the mine's media on (from its INVITE to the device). */
function lowerReceivePort(invite: { content?: string }): number {
  const p = parseSdp(invite.content ?? '');
  if (!p.ok) throw new Error(p.error);
  return p.sdp.media[0]!.port;
}

t.test('INVITE from the upper: the mine is INVITEd, the upper gets our SDP, media flows, its BYE ends both legs', async (t) => {
  const s = await setup(t);
  const lease = await s.upper.live.acquire(LOWER_ID, CH);
  t.equal(s.device.invites.length, 1, 'the mine device got an INVITE');
  const [leg] = s.lower.cascade!.legs.describe();
  t.match(leg, { platform: UPPER_ID, deviceId: MINE, channelId: CH, transport: 'udp' });
  // what the upper offered and what we answered
  const upperStream = s.upper.context.live.describe()[0]!;
  const out = [...s.lowerMedia.outgoing.values()][0]!;
  t.equal(out.spec.ssrc, upperStream.ssrc, "the outgoing leg carries the upper's SSRC");
  t.equal(out.spec.host, '127.0.0.1');
  const upperIn = s.upperMedia.incoming.get(lease.streamId)!;
  t.equal(out.spec.port, upperIn.socket!.address().port, "to the upper's receiving port");
  t.equal(upperIn.answer?.host, '127.0.0.1', 'the upper took our media address');
  t.equal(upperIn.answer?.port, out.socket!.address().port, 'and our sending port');
  t.notOk(upperIn.answer?.ssrc, 'our y= is its own SSRC (no mismatch reported)');
  t.equal(s.lower.cascade!.states()[0]!.streams, 1);

  // a datagram from the mine device reaches the upper platform through the lower bridge
  const sock = dgram.createSocket('udp4');
  t.teardown(() => sock.close());
  const port = lowerReceivePort(s.device.invites[0]!);
  const payload = Buffer.from('000001ba-ps-pack-as-rtp-payload');
  await waitFor(() => {
    sock.send(payload, port, '127.0.0.1');
    return s.upperMedia.receivedOn(lease.streamId).length > 0;
  }, 5000, 'media at the upper');
  t.same(s.upperMedia.receivedOn(lease.streamId)[0], payload);

  // the upper's BYE: the leg closes, the mine stream (nobody else watching) is BYEd
  const byes = () => s.mine.requests.filter((r) => r.method === 'BYE').length;
  lease.release();
  await waitFor(() => s.lower.cascade!.legs.describe().length === 0, 5000, 'the leg closed');
  await waitFor(() => byes() === 1, 5000, 'the mine device BYEd');
  t.equal(s.lowerMedia.outgoing.size, 0, 'the outgoing leg is closed');
  t.equal(s.lower.context.live.active, 0);
});

t.test("the mine leg is shared: the upper's BYE leaves it up while a local viewer watches", async (t) => {
  const s = await setup(t);
  const viewer = await s.lower.live.acquire(MINE, CH);
  const lease = await s.upper.live.acquire(LOWER_ID, CH);
  t.equal(s.device.invites.length, 1, 'one INVITE to the mine for both');
  lease.release();
  await waitFor(() => s.lower.cascade!.legs.describe().length === 0, 5000, 'the leg closed');
  t.equal(s.lower.context.live.active, 1, 'the mine stream stays for the viewer');
  t.equal(s.mine.requests.filter((r) => r.method === 'BYE').length, 0);
  viewer.release();
  await waitFor(() => s.mine.requests.some((r) => r.method === 'BYE'), 5000, 'the mine BYEd once nobody watches');
});

t.test("the mine ends (device BYE): the upper's leg gets our BYE", async (t) => {
  const s = await setup(t);
  await s.upper.live.acquire(LOWER_ID, CH);
  const invite = s.device.invites[0]!;
  // the device hangs up its side of the dialog
  const bye = s.mine.request('BYE', { callId: invite.headers['call-id'] });
  bye.headers.from = { uri: invite.headers.to.uri, params: { tag: 'devtag' } };
  bye.headers.to = invite.headers.from;
  t.equal((await s.mine.transact(bye)).status, 200);
  await waitFor(() => s.upper.context.live.active === 0, 5000, "the upper's session ended by our BYE");
  t.equal(s.upper.context.live.stats.byesReceived, 1);
  t.equal(s.lower.cascade!.legs.describe().length, 0);
  t.equal(s.lowerMedia.outgoing.size, 0);
});

t.test('the mine device unregisters: the upper leg is BYEd', async (t) => {
  const s = await setup(t);
  await s.upper.live.acquire(LOWER_ID, CH);
  await s.mine.register(PASSWORD, { expires: 0 });
  await waitFor(() => s.upper.context.live.active === 0, 5000, "the upper's session ended");
  t.equal(s.lower.cascade!.legs.describe().length, 0);
});

t.test('unknown channel 404, offline device 480, our stream limit 486, device refusal, no outgoing media', async (t) => {
  const s = await setup(t, { maxStreams: 1 });
  const status = async (channel: string) => {
    try {
      await s.upper.live.acquire(LOWER_ID, channel);
      return 200;
    } catch (err) {
      return Number((err as { detail?: { status?: number } }).detail?.status);
    }
  };
  // a channel the upper knows but no mine holds any more
  await s.upper.context.store.putChannels([{ ...s.upper.context.store.channel(LOWER_ID, CH)!, id: channelId(99) }]);
  t.equal(await status(channelId(99)), 404);
  const first = await s.upper.live.acquire(LOWER_ID, CH);
  t.equal(await status(CH2), 486, 'maxStreams 1 reached');
  first.release();
  await waitFor(() => s.lower.cascade!.legs.describe().length === 0, 5000, 'the leg closed');
  s.lowerMedia.failOutgoing = true;
  t.equal(await status(CH2), 500, 'the engine cannot open the leg');
  s.lowerMedia.failOutgoing = false;
  await waitFor(() => s.lower.context.live.active === 0, 5000, 'the mine stream released');
  await s.mine.register(PASSWORD, { expires: 0 });
  t.equal(await status(CH2), 480, 'the mine is offline');
});

t.test('the mine device refuses: the upper gets its 486', async (t) => {
  const s = await setup(t, {}, 486);
  try {
    await s.upper.live.acquire(LOWER_ID, CH);
    t.fail('should be refused');
  } catch (err) {
    t.equal((err as { detail?: { status?: number } }).detail?.status, 486);
  }
  t.equal(s.lower.cascade!.legs.describe().length, 0);
});

t.test('TCP offers: setup passive → we connect (tcp-active), setup active → we listen (tcp-passive)', async (t) => {
  const s = await setup(t);
  const ua = await SipUa.create({ protocol: 'UDP', server: { host: '127.0.0.1', port: s.lower.context.endpoint.udpPort }, deviceId: UPPER_ID, domain: '1100000000' });
  t.teardown(() => ua.close());
  for (const [setupAttr, mode, answered] of [['passive', 'tcp-active', 'active'], ['active', 'tcp-passive', 'passive']] as const) {
    const sdp = `v=0\r\no=${UPPER_ID} 0 0 IN IP4 127.0.0.1\r\ns=Play\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 30123 TCP/RTP/AVP 96\r\na=recvonly\r\na=rtpmap:96 PS/90000\r\na=setup:${setupAttr}\r\na=connection:new\r\ny=0110000042\r\n`;
    const rq = ua.request('INVITE', { content: sdp, contentType: 'APPLICATION/SDP' });
    rq.uri = `sip:${CH}@127.0.0.1`;
    rq.headers.to = { uri: `sip:${CH}@3402000000`, params: {} };
    const rs = await ua.transact(rq, 10_000);
    t.equal(rs.status, 200, `setup:${setupAttr}`);
    const answer = parseSdp(rs.content ?? '');
    t.ok(answer.ok);
    if (!answer.ok) return;
    t.equal(answer.sdp.media[0]!.proto, 'TCP/RTP/AVP');
    t.equal(answer.sdp.media[0]!.setup, answered);
    t.equal(answer.sdp.ssrc, '0110000042', "y= is the upper's SSRC");
    const legSpec = [...s.lowerMedia.outgoing.values()].find((o) => o.spec.transport === mode);
    t.match(legSpec?.spec, { transport: mode, host: '127.0.0.1', port: 30123, ssrc: '0110000042' });
    const ack = ua.request('ACK', { callId: rq.headers['call-id'] });
    ack.headers.cseq = { seq: rq.headers.cseq.seq, method: 'ACK' };
    ua.send(ack);
    await waitFor(() => s.lower.cascade!.legs.acked(rq.headers['call-id']), 5000, 'the ACK');
    const bye = ua.request('BYE', { callId: rq.headers['call-id'] });
    t.equal((await ua.transact(bye)).status, 200, 'its BYE');
  }
  t.equal(s.lower.cascade!.legs.describe().length, 0);
});
