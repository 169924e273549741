// End to end with a misbehaving sim device (its knobs), through the real bridge and viewer: an
// ignored SSRC still plays; no media → BYE after noMediaSeconds and a clean 503 to the viewer; the
// device's BYE mid-stream and its unregistering end the viewer's stream; PS variants (no PSM,
// 0xBD private stream + G.711 audio, PES split across RTP packets) decode; an H.265 device's .mp4
// answers 415 and its .mjpeg gives JPEGs. One bridge for all; one device id per case.
import t, { type Test } from 'tap';
import type { SimDevice } from '../../../sim/device/SimDevice.ts';
import type { SimDeviceOptions } from '../../../sim/device/SimDeviceTypes.ts';
import { catalogCollected, decodedFrames, httpStream, startGbBridge, startSimDevice, type GbBridge } from '../../helpers/gbBridge.ts';
import { waitFor } from '../../helpers/wait.ts';

let n = 20;
const nextId = (): string => `340200000013200001${String(++n).padStart(2, '0')}`;

async function device(t: Test, bridge: GbBridge, o: Partial<SimDeviceOptions> = {}): Promise<{ d: SimDevice; id: string; ch: string }> {
  const id = nextId();
  const d = await startSimDevice(t, bridge, id, { channelCount: 1, ...o });
  await catalogCollected(bridge, id, 1);
  await d.prepareMedia();
  return { d, id, ch: d.channels[0]!.id };
}

const byeFromServer = (d: SimDevice): Promise<string> => new Promise((resolve) => d.on('bye', (e) => e.by === 'server' && resolve(e.by)));

t.test('sim device knobs through the whole chain', async (t) => {
  const bridge = await startGbBridge(t, { 'gb28181.media.noMediaSeconds': 3 });
  const live = bridge.service.context.live;

  await t.test('the device ignores our SSRC: still plays', async (t) => {
    const { d, id, ch } = await device(t, bridge, { ignoreSsrc: true });
    let offered = '';
    let used = '';
    d.once('invite', (e) => {
      offered = e.offer.ssrc ?? '';
      used = e.ssrc;
    });
    t.equal(await decodedFrames(bridge.url(id, ch), 25), 25, 'ffmpeg decoded 25 frames');
    t.not(used, offered, `the device streamed under ${used}, not the offered ${offered}`);
  });

  await t.test('no media: BYE after noMediaSeconds, the viewer gets a clean 503', async (t) => {
    const { d, id, ch } = await device(t, bridge, { noMedia: true });
    const bye = byeFromServer(d);
    const started = Date.now();
    const v = httpStream(bridge.url(id, ch));
    t.equal(await bye, 'server', 'the bridge hung up');
    const waited = Date.now() - started;
    t.ok(waited >= 2500 && waited < 15_000, `after about noMediaSeconds (3 s): ${waited} ms`);
    t.equal(await v.status, 503, 'the waiting viewer is answered 503');
    await v.ended;
    t.match(JSON.parse(v.body().toString()), { code: 'ESEAL_ERR_GBVIEW_UNAVAILABLE' });
    await waitFor(() => live.active === 0, 5000, 'no live session left');
  });

  await t.test('the device hangs up mid-stream: the viewer stream ends, a new viewer pulls anew', async (t) => {
    const { d, id, ch } = await device(t, bridge, { byeAfterSeconds: 1 });
    const v = httpStream(bridge.url(id, ch));
    t.equal(await v.status, 200);
    await v.firstFragmentAt;
    const how = await v.ended;
    t.ok(v.bytes() > 1000, `the viewer had media (${v.bytes()} bytes), then its response ended (${how})`);
    t.equal(live.stats.byesReceived >= 1, true, 'the bridge took the device BYE');
    await waitFor(() => live.active === 0 && bridge.viewer.viewers(id, ch) === 0, 5000, 'session and viewers gone');
    const again = httpStream(bridge.url(id, ch));
    t.equal(await again.status, 200, 'a new viewer is served');
    await again.firstFragmentAt;
    t.equal(d.counters.invites, 2, 'with a new INVITE');
    again.close();
  });

  await t.test('the device unregisters: its stream is BYEd and the viewer ends', async (t) => {
    const { d, id, ch } = await device(t, bridge);
    const v = httpStream(bridge.url(id, ch));
    await v.firstFragmentAt;
    const bye = byeFromServer(d);
    t.equal(await d.unregister(), 200, 'unregistered');
    t.equal(await bye, 'server', 'the bridge BYEd the stream');
    t.ok(await v.ended, 'the viewer stream ended');
    await waitFor(() => live.active === 0, 5000, 'no live session left');
  });

  for (const [name, knobs] of [
    ['PS without PSM', { noPsm: true }],
    ['PS with a 0xBD private stream and G.711 audio', { privateStream: true, audio: true }],
    ['PES split across RTP packets', { pesSplit: true }],
  ] as const) {
    await t.test(name, async (t) => {
      const { d, id, ch } = await device(t, bridge, knobs);
      t.equal(await decodedFrames(bridge.url(id, ch), 25), 25, 'ffmpeg decoded 25 frames');
      t.equal(d.counters.invites, 1);
      const stats = bridge.media.stats(live.describe()[0]?.streamId ?? '');
      if (stats) t.equal(stats.codec, 'h264', `the worker demuxed H.264 (${stats.frames} frames, ${stats.lost} lost)`);
      await waitFor(() => live.active === 0, 5000, 'released');
    });
  }

  await t.test('an H.265 device: .mp4 answers 415, .mjpeg gives JPEGs', async (t) => {
    const { id, ch } = await device(t, bridge, { codec: 'h265', version: '2022' });
    const mp4 = httpStream(bridge.url(id, ch));
    t.equal(await mp4.status, 415, '.mp4 is refused for H.265');
    await mp4.ended;
    t.match(JSON.parse(mp4.body().toString()), { code: 'ESEAL_ERR_GBVIEW_CODEC' });
    const mjpeg = httpStream(bridge.url(id, ch, 'mjpeg'));
    t.equal(await mjpeg.status, 200);
    const jpegs = (): number => {
      const b = mjpeg.body();
      let c = 0;
      for (let i = b.indexOf('image/jpeg'); i >= 0; i = b.indexOf('image/jpeg', i + 1)) if (b.indexOf(Buffer.from([0xff, 0xd8, 0xff]), i) > 0) c++;
      return c;
    };
    await waitFor(() => jpegs() >= 3, 30_000, 'three JPEGs');
    t.ok(jpegs() >= 3, `${jpegs()} JPEG parts`);
    mjpeg.close();
    await waitFor(() => live.active === 0, 5000, 'released');
  });
});
