// Cascade end to end with real engines: two bridges over loopback, the UPPER one standing for the
// national platform. A sim mine device registers to the LOWER bridge; the lower registers to the
// upper; the upper collects the lower's catalog (215 group, 216 per mine, the channels); a viewer on
// the UPPER's viewer plays the mine channel (upper INVITE → lower → mine INVITE → PS relayed over
// the lower's outgoing leg → the upper demuxes); the upper's viewer leaving BYEs the lower, which
// BYEs the mine unless a local viewer still watches. Over UDP, then with the upper offering TCP.
import t from 'tap';
import type { SimDevice } from '../../../sim/device/SimDevice.ts';
import { catalogCollected, decodedFrames, GB_ID, httpStream, startGbBridge, startSimDevice, type GbBridge } from '../../helpers/gbBridge.ts';
import { waitFor } from '../../helpers/wait.ts';

const UPPER_ID = '11000000002000000001';
const UPPER_DOMAIN = '1100000000';
const UPPER_PASSWORD = 'national-pass-1';
const LOWER_ID = GB_ID;
const MINE = '34020000001320000501';

const byeFromServer = (d: SimDevice): Promise<void> => new Promise((resolve) => d.on('bye', (e) => e.by === 'server' && resolve()));

t.test('cascade: a mine channel plays on the upper platform through the lower bridge', async (t) => {
  const upper: GbBridge = await startGbBridge(
    t,
    { 'gb28181.id': UPPER_ID, 'gb28181.domain': UPPER_DOMAIN, 'gb28181.password': UPPER_PASSWORD },
    (c) => {
      c.gb28181.devices = [{ id: LOWER_ID, password: UPPER_PASSWORD, name: '', transport: 'udp' }];
    },
  );
  const lower = await startGbBridge(t, {}, (c) => {
    c.gb28181.cascade = [
      { id: UPPER_ID, domain: UPPER_DOMAIN, host: '127.0.0.1', port: upper.sipPort, transport: 'udp', password: UPPER_PASSWORD, localId: '', expires: 3600, keepaliveSeconds: 60, catalogPageSize: 20, maxStreams: 8, groupName: '某省煤矿视频' },
    ];
  });
  const mine = await startSimDevice(t, lower, MINE, { channelCount: 2 });
  await catalogCollected(lower, MINE, 2);
  await mine.prepareMedia();
  await waitFor(() => upper.service.context.registry.get(LOWER_ID)?.online === true, 20_000, 'the lower bridge registered to the upper');
  // the lower registered before the mine did: the upper asks again (as an operator would)
  const catalogAt = Date.now();
  const items = await upper.service.queryCatalog(LOWER_ID);
  const catalogMs = Date.now() - catalogAt;
  const ids = items.map((c) => c.id);
  t.ok(ids.some((id) => id.slice(10, 13) === '215'), 'a business group (215)');
  t.ok(ids.some((id) => id.slice(10, 13) === '216'), 'a virtual organisation (216) for the mine');
  for (const c of mine.channels) t.ok(ids.includes(c.id), `the mine channel ${c.id} (${c.name}) is in the upper's catalog`);
  t.equal(items.find((c) => c.id === mine.channels[0]!.id)?.name, mine.channels[0]!.name, 'its GB2312 name intact after two hops');
  const ch = mine.channels[0]!.id;
  const figures: Record<string, unknown> = { upperCatalogMs: catalogMs };

  for (const transport of ['udp', 'tcp-passive'] as const) {
    await t.test(`the upper offering ${transport}`, async (t) => {
      upper.config.gb28181.devices[0]!.transport = transport;
      const invitesBefore = mine.counters.invites;
      const requestAt = Date.now();
      const v = httpStream(upper.url(LOWER_ID, ch));
      t.equal(await v.status, 200, "the upper's viewer answers");
      figures[`${transport}RequestToFirstFragmentMs`] = (await v.firstFragmentAt) - requestAt;
      t.equal(await decodedFrames(upper.url(LOWER_ID, ch), 25), 25, "ffmpeg decoded 25 frames from the upper's HTTP fMP4");
      t.equal(mine.counters.invites - invitesBefore, 1, 'the mine saw one INVITE');
      t.equal(lower.service.cascade?.legs.describe().length, 1, 'one outgoing leg on the lower');
      const mineBye = byeFromServer(mine);
      v.close();
      await waitFor(() => lower.service.cascade?.legs.describe().length === 0, 10_000, "the upper's BYE ended the lower's leg");
      await mineBye;
      t.pass('the lower BYEd the mine');
      await waitFor(() => lower.service.context.live.active === 0 && upper.service.context.live.active === 0, 10_000, 'no session left');
    });
  }

  await t.test('a local viewer on the lower keeps the mine stream when the upper leaves', async (t) => {
    upper.config.gb28181.devices[0]!.transport = 'udp';
    const invitesBefore = mine.counters.invites;
    const local = httpStream(lower.url(MINE, ch));
    await local.firstFragmentAt;
    const v = httpStream(upper.url(LOWER_ID, ch));
    await v.firstFragmentAt;
    t.equal(mine.counters.invites - invitesBefore, 1, 'the local viewer and the upper share one mine INVITE');
    let mineByes = 0;
    mine.on('bye', () => mineByes++);
    v.close();
    await waitFor(() => lower.service.cascade?.legs.describe().length === 0, 10_000, "the upper's BYE ended the lower's leg");
    const bytes = local.bytes();
    await waitFor(() => local.bytes() > bytes + 5000, 10_000, 'the local viewer still gets media');
    t.equal(mineByes, 0, 'no BYE to the mine while its local viewer watches');
    t.equal(mine.streams.length, 1, 'the mine still streams');
    const bye = byeFromServer(mine);
    local.close();
    await bye;
    t.pass('the local viewer left: the mine is BYEd');
  });
  t.comment(`figures: ${JSON.stringify(figures)}`);
});
