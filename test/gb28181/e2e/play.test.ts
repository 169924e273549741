// End to end over loopback, every piece real: a sim device (sim/device) registers to the bridge
// (GbService + MediaEngine worker + ViewerServer, assembled as gb28181/role.ts does) with digest,
// its GB2312 catalog is collected, the HTTP fMP4 URL starts one INVITE, ffmpeg decodes frames from
// it, viewers share that one INVITE, and the device gets a BYE once the last viewer left — for each
// media transport (udp, tcp-passive, tcp-active, set per device in gb28181.devices[].transport).
import t from 'tap';
import type { SimDevice } from '../../../sim/device/SimDevice.ts';
import { catalogCollected, decodedFrames, startGbBridge, startSimDevice, httpStream } from '../../helpers/gbBridge.ts';
import { waitFor } from '../../helpers/wait.ts';

const TRANSPORTS = ['udp', 'tcp-passive', 'tcp-active'] as const;
/** the device's side of each of our transports: our tcp-passive (we listen) is its tcp-active (it connects) */
const DEVICE_SIDE = { udp: 'udp', 'tcp-passive': 'tcp-active', 'tcp-active': 'tcp-passive' } as const;
const deviceOf = (i: number): string => `340200000013200001${String(i).padStart(2, '0')}`;

t.test('sim device → bridge → viewer, per media transport', async (t) => {
  const bridge = await startGbBridge(t, {}, (c) => {
    c.gb28181.devices = TRANSPORTS.map((transport, i) => ({ id: deviceOf(i + 1), password: '', name: '', transport }));
  });
  const figures: Record<string, unknown> = {};
  for (const [i, transport] of TRANSPORTS.entries()) {
    await t.test(transport, async (t) => {
      const id = deviceOf(i + 1);
      const registerAt = Date.now();
      const d: SimDevice = await startSimDevice(t, bridge, id);
      await catalogCollected(bridge, id, d.channels.length);
      const catalogMs = Date.now() - registerAt; // REGISTER (401, digest, 200) → every catalog page stored
      await d.prepareMedia(); // the clip is made by ffmpeg once; not part of the INVITE's time
      const stored = bridge.service.context.store.channels(id);
      t.same(stored.map((c) => c.name).sort(), d.channels.map((c) => c.name).sort(), 'the GB2312 catalog names arrived intact (主井口, 副井口)');
      t.ok(bridge.service.context.registry.get(id)?.online, 'the device is online');
      const ch = d.channels[0]!.id;
      let invitedAt = 0;
      let offeredTransport = '';
      d.once('invite', (e) => {
        invitedAt = Date.now();
        offeredTransport = e.transport;
      });
      const requestAt = Date.now();
      const first = httpStream(bridge.url(id, ch));
      t.equal(await first.status, 200, 'the fMP4 URL answers 200');
      const fragmentAt = await first.firstFragmentAt;
      t.equal(offeredTransport, DEVICE_SIDE[transport], `the INVITE offered ${transport} (the device is ${DEVICE_SIDE[transport]})`);
      // two more viewers at once, decoded by ffmpeg, on the same upstream
      const [a, b] = await Promise.all([decodedFrames(bridge.url(id, ch), 25), decodedFrames(bridge.url(id, ch), 25)]);
      t.equal(a, 25, 'ffmpeg decoded 25 frames (viewer 2)');
      t.equal(b, 25, 'ffmpeg decoded 25 frames (viewer 3)');
      t.equal(d.counters.invites, 1, 'the device saw exactly one INVITE for all viewers');
      t.equal(bridge.service.context.live.describe().length, 1, 'one live session');
      const bye = new Promise<string>((resolve) => d.once('bye', (e) => resolve(e.by)));
      first.close();
      t.equal(await bye, 'server', 'the last viewer left: the bridge sent BYE');
      await waitFor(() => d.streams.length === 0 && bridge.service.context.live.active === 0, 10_000, 'the session gone on both sides');
      figures[transport] = { requestToFirstFragmentMs: fragmentAt - requestAt, inviteToFirstFragmentMs: fragmentAt - invitedAt, catalogMs };
      t.ok(fragmentAt - invitedAt < 5000, `INVITE → first fMP4 fragment ${fragmentAt - invitedAt} ms (target < 1 s on an idle machine)`);
    });
  }
  t.comment(`figures: ${JSON.stringify(figures)}`);
});
