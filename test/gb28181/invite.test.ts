// Live INVITE over real sockets: the device (test UA) answers the offer and sends RTP over UDP,
// TCP passive (it connects to us) and TCP active (we connect to it); a real RTP receiver stands in
// for the media engine and must see the packets. Then sharing, releases, BYE both ways, noMedia,
// unregistering, refusals and timeouts.
import dgram from 'node:dgram';
import net from 'node:net';
import t, { type Test } from 'tap';
import { GbOffline, GbRefused, GbUnknownChannel, GbUnknownDevice, SipTimeout } from '../../gb28181/errors.ts';
import type { GbService } from '../../gb28181/GbService.ts';
import type { Request } from 'sip';
import type { SipUa } from '../helpers/sipUa.ts';
import { waitFor } from '../helpers/wait.ts';
import { CHANNEL, DEVICE, PASSWORD, catalogPage, gbConfig, registered, startBridge } from './fixture.ts';
import { RtpReceiver } from './rtpReceiver.ts';

function rtp(seq: number, ssrc: number): Buffer {
  const b = Buffer.alloc(12 + 20);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(seq * 3600, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}
const framed = (p: Buffer) => Buffer.concat([Buffer.from([p.length >> 8, p.length & 0xff]), p]);

interface DeviceBehaviour {
  /** answer status (200 by default) */
  status?: number;
  /** never answer */
  silent?: boolean;
  /** answer this SSRC instead of the offered one */
  ssrc?: string;
  packets?: number;
}

/** Makes the UA answer INVITEs like a camera and stream RTP the way the offer asks. */
function actAsCamera(t: Test, ua: SipUa, behaviour: DeviceBehaviour = {}): { invites: Request[] } {
  const invites: Request[] = [];
  ua.onRequest((rq) => {
    if (rq.method === 'MESSAGE' || rq.method === 'BYE') return ua.respond(rq, 200, 'OK');
    if (rq.method !== 'INVITE') return;
    invites.push(rq);
    if (behaviour.silent) return;
    if (behaviour.status && behaviour.status >= 300) return ua.respond(rq, behaviour.status, 'Busy Here');
    const offer = Buffer.from(rq.content ?? '', 'latin1').toString();
    const port = Number(/m=video (\d+)/.exec(offer)![1]);
    const offered = /y=(\d+)/.exec(offer)![1]!;
    const ssrc = behaviour.ssrc ?? offered;
    const setup = /a=setup:(\w+)/.exec(offer)?.[1];
    const n = behaviour.packets ?? 5;
    const send = async () => {
      if (!setup) {
        const s = dgram.createSocket('udp4');
        for (let i = 0; i < n; i++) await new Promise<void>((r) => s.send(rtp(i, Number(ssrc)), port, '127.0.0.1', () => r()));
        s.close();
        return 0;
      }
      if (setup === 'passive') {
        const c = net.connect(port, '127.0.0.1');
        c.on('error', () => {});
        c.once('connect', () => {
          for (let i = 0; i < n; i++) c.write(framed(rtp(i, Number(ssrc))));
        });
        t.teardown(() => c.destroy());
        return 0;
      }
      // we offered setup:active: the device listens and the bridge's receiver connects
      const server = net.createServer((c) => {
        c.on('error', () => {});
        for (let i = 0; i < n; i++) c.write(framed(rtp(i, Number(ssrc))));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      t.teardown(() => server.close());
      return (server.address() as net.AddressInfo).port;
    };
    void (async () => {
      const listenPort = setup === 'active' ? await send() : 40000;
      const proto = setup ? 'TCP/RTP/AVP' : 'RTP/AVP';
      const answer = ['v=0', `o=${CHANNEL} 0 0 IN IP4 127.0.0.1`, 's=Play', 'c=IN IP4 127.0.0.1', 't=0 0', `m=video ${listenPort} ${proto} 96`, 'a=sendonly', 'a=rtpmap:96 PS/90000', ...(setup ? [`a=setup:${setup === 'active' ? 'passive' : 'active'}`] : []), `y=${ssrc}`, 'f=', ''].join('\r\n');
      ua.respond(rq, 200, 'OK', { content: answer, contentType: 'APPLICATION/SDP', toTag: 'cam1' });
      await ua.nextRequest((r) => r.method === 'ACK' && r.headers['call-id'] === rq.headers['call-id']);
      if (setup !== 'active') await send();
    })().catch(() => {}); // a test that ended early closes the UA first
  });
  return { invites };
}

async function bridgeWithChannel(t: Test, set: Record<string, string | number | boolean> = {}, protocol: 'UDP' | 'TCP' = 'UDP', gbVersion?: string) {
  const media = new RtpReceiver();
  t.teardown(() => media.closeAll());
  const bridge: GbService = await startBridge(t, await gbConfig(t, set), { media });
  const ua = await registered(t, bridge, protocol, DEVICE, gbVersion);
  await ua.transact(ua.manscdp(catalogPage(DEVICE, 1, 1, [{ id: CHANNEL, name: '主井' }])));
  return { bridge, ua, media };
}

for (const transport of ['udp', 'tcp-passive', 'tcp-active'] as const) {
  t.test(`INVITE over ${transport}: the offer, ACK, and RTP seen by the receiver`, async (t) => {
    const { bridge, ua, media } = await bridgeWithChannel(t, { 'gb28181.media.transport': transport });
    const cam = actAsCamera(t, ua);
    const handle = await bridge.live.acquire(DEVICE, CHANNEL);
    const offer = Buffer.from(cam.invites[0]!.content!, 'latin1').toString();
    t.match(offer, /^v=0\r\n/);
    t.match(offer, /\r\ns=Play\r\n/);
    t.match(offer, /\r\ny=0200000001\r\n/, 'SSRC: 0 for live, the domain\'s 4th–8th digits, a sequence');
    t.match(offer, /a=rtpmap:96 PS\/90000/);
    t.match(offer, /a=recvonly/);
    if (transport === 'udp') t.match(offer, /m=video \d+ RTP\/AVP 96 98 97/);
    else {
      t.match(offer, /m=video \d+ TCP\/RTP\/AVP 96 98 97/);
      t.match(offer, new RegExp(`a=setup:${transport === 'tcp-passive' ? 'passive' : 'active'}`));
      t.match(offer, /a=connection:new/);
    }
    t.equal(String(cam.invites[0]!.headers['subject']), `${CHANNEL}:0200000001,34020000002000000001:0`);
    const s = media.streams.get(handle.streamId)!;
    await waitFor(() => s.packets >= 5, 5000, 'RTP packets at the receiver');
    t.same([...s.ssrcs], [200000001]);
    t.equal(s.spec.transport, transport);
    t.equal(s.answer!.host, '127.0.0.1');
    handle.release();
    await ua.nextRequest((r) => r.method === 'BYE');
    await waitFor(() => s.closed, 5000, 'the stream closed');
    t.equal(bridge.context.live.active, 0);
  });
}

t.test('a 2022 device (X-GB-Ver 3.0) gets TCP passive and H.265 in the offer', async (t) => {
  const { bridge, ua } = await bridgeWithChannel(t, {}, 'TCP', '3.0');
  const cam = actAsCamera(t, ua);
  const h = await bridge.live.acquire(DEVICE, CHANNEL);
  const offer = Buffer.from(cam.invites[0]!.content!, 'latin1').toString();
  t.match(offer, /TCP\/RTP\/AVP 96 98 97 99/);
  t.match(offer, /a=rtpmap:99 H265\/90000/);
  t.match(String(cam.invites[0]!.uri), /transport=tcp/);
  await ua.nextRequest((r) => r.method === 'ACK');
  h.release();
});

t.test('one INVITE per channel however many viewers; BYE after the last leaves', async (t) => {
  const { bridge, ua, media } = await bridgeWithChannel(t);
  const cam = actAsCamera(t, ua);
  const [a, b] = await Promise.all([bridge.live.acquire(DEVICE, CHANNEL), bridge.live.acquire(DEVICE, CHANNEL)]);
  const c = await bridge.live.acquire(DEVICE, CHANNEL);
  t.equal(cam.invites.length, 1);
  t.equal(a.streamId, b.streamId);
  t.equal(a.streamId, c.streamId);
  a.release();
  a.release(); // twice: counted once
  b.release();
  t.equal(bridge.context.live.describe()[0]!.refs, 1);
  t.notOk(ua.requests.some((r) => r.method === 'BYE'));
  c.release();
  const bye = await ua.nextRequest((r) => r.method === 'BYE');
  t.equal(bye.headers['call-id'], cam.invites[0]!.headers['call-id']);
  t.equal(bye.headers.to.params['tag'], 'cam1', 'BYE in the dialog: the device\'s tag');
  await waitFor(() => media.closedIds.includes(a.streamId), 5000, 'closeStream');
});

t.test('the device hangs up: its BYE gets 200 and the media closes; an unknown BYE gets 481', async (t) => {
  const { bridge, ua, media } = await bridgeWithChannel(t);
  const cam = actAsCamera(t, ua);
  const h = await bridge.live.acquire(DEVICE, CHANNEL);
  const invite = cam.invites[0]!;
  const bye = ua.request('BYE', { callId: invite.headers['call-id'] });
  bye.headers.from = { uri: invite.headers.to.uri, params: { tag: 'cam1' } };
  bye.headers.to = invite.headers.from;
  t.equal((await ua.transact(bye)).status, 200);
  await waitFor(() => media.closedIds.includes(h.streamId), 5000, 'closeStream');
  t.equal(bridge.context.live.active, 0);
  t.equal((await ua.transact(ua.request('BYE'))).status, 481);
  h.release();
  t.notOk(ua.requests.some((r) => r.method === 'BYE'), 'no BYE from us after the device ended it');
});

t.test('noMedia from the engine → BYE; Expires: 0 → BYE of every stream of the device', async (t) => {
  const { bridge, ua, media } = await bridgeWithChannel(t);
  actAsCamera(t, ua, { packets: 0 });
  const h = await bridge.live.acquire(DEVICE, CHANNEL);
  media.reportNoMedia(h.streamId);
  await ua.nextRequest((r) => r.method === 'BYE');
  await waitFor(() => media.closedIds.includes(h.streamId), 5000, 'closeStream');
  h.release();

  const before = ua.requests.length;
  const h2 = await bridge.live.acquire(DEVICE, CHANNEL);
  t.not(h2.streamId, h.streamId, 'a new stream for a new INVITE');
  await ua.register(PASSWORD, { expires: 0 });
  await ua.nextRequest((r) => r.method === 'BYE', 5000, before);
  await waitFor(() => media.closedIds.includes(h2.streamId), 5000, 'closeStream');
  await t.rejects(bridge.live.acquire(DEVICE, CHANNEL), { code: GbOffline.code });
});

t.test('a device that answers another SSRC: the engine is told', async (t) => {
  const { bridge, ua, media } = await bridgeWithChannel(t);
  actAsCamera(t, ua, { ssrc: '0200009999' });
  const h = await bridge.live.acquire(DEVICE, CHANNEL);
  t.equal(media.streams.get(h.streamId)!.answer!.ssrc, '0200009999');
  await waitFor(() => media.streams.get(h.streamId)!.ssrcs.has(200009999), 5000, 'packets of the answered SSRC');
  h.release();
});

t.test('refusals and timeouts are coded errors; the receiver is closed again', async (t) => {
  const { bridge, ua, media } = await bridgeWithChannel(t, { 'gb28181.sip.transactionSeconds': 1 });
  const busy = actAsCamera(t, ua, { status: 486 });
  await t.rejects(bridge.live.acquire(DEVICE, CHANNEL), { code: GbRefused.code, detail: { status: 486 } });
  await ua.nextRequest((r) => r.method === 'ACK' && r.headers['call-id'] === busy.invites[0]!.headers['call-id']);
  t.equal(media.closedIds.length, 1, 'the port opened for it is closed');
  await t.rejects(bridge.live.acquire('34020000001320000077', CHANNEL), { code: GbUnknownDevice.code });
  await t.rejects(bridge.live.acquire(DEVICE, '34020000001310000077'), { code: GbUnknownChannel.code });
});

t.test('a device that never answers the INVITE: ESEAL_ERR_SIP_TIMEOUT', async (t) => {
  const { bridge, ua, media } = await bridgeWithChannel(t, { 'gb28181.sip.transactionSeconds': 1 });
  actAsCamera(t, ua, { silent: true });
  const start = Date.now();
  await t.rejects(bridge.live.acquire(DEVICE, CHANNEL), { code: SipTimeout.code });
  t.ok(Date.now() - start < 4000);
  t.ok(ua.requests.filter((r) => r.method === 'INVITE').length >= 2, 'UDP: the INVITE was retransmitted');
  t.equal(media.closedIds.length, 1);
  t.equal(bridge.context.live.active, 0);
});
