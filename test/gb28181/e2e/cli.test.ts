// The real `eseal gb28181` CLI, as a child process beside a running bridge: `devices --json` lists
// the sim device online with its channels (read from the bridge's store), `play` prints a URL whose
// page answers and whose stream ffmpeg decodes.
import t from 'tap';
import { EsealChild } from '../../../tools/esealChild.ts';
import { catalogCollected, decodedFrames, startGbBridge, startSimDevice, type GbBridge } from '../../helpers/gbBridge.ts';

const DEVICE = '34020000001320000201';

async function eseal(t: { teardown(fn: () => unknown): void }, bridge: GbBridge, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = EsealChild.spawn({
    args: ['gb28181', ...args],
    name: 'eseal gb28181',
    keepLines: 10_000,
    guard: (kill) => t.teardown(kill),
    env: {
      ...process.env,
      ESEAL_DATA_DIR: bridge.dataDir,
      ESEAL_ROLES: 'gb28181',
      ESEAL_LOG_LEVEL: 'silent',
      ESEAL_GB28181_HTTP_LISTEN: `127.0.0.1:${bridge.httpPort}`,
    },
  });
  const end = await child.exited;
  return { code: end.code, out: child.lines.join('\n') };
}

t.test('eseal gb28181 devices --json and play, beside a running bridge', async (t) => {
  const bridge = await startGbBridge(t);
  const d = await startSimDevice(t, bridge, DEVICE, { channelCount: 3 });
  await catalogCollected(bridge, DEVICE, 3);
  const [listed, played] = await Promise.all([eseal(t, bridge, ['devices', '--json']), eseal(t, bridge, ['play', DEVICE, d.channels[1]!.id])]);
  t.equal(listed.code, 0, 'devices exits 0');
  const devices = JSON.parse(listed.out) as { id: string; online: boolean; transport: string; address: string; channels: { id: string; name: string; status: string }[] }[];
  const me = devices.find((x) => x.id === DEVICE);
  t.ok(me, 'the sim device is listed');
  t.equal(me?.online, true, 'online');
  t.equal(me?.transport, 'UDP');
  t.equal(me?.address, `127.0.0.1:${d.local.port}`, 'its SIP address');
  t.same(me?.channels.map((c) => [c.id, c.name, c.status]), d.channels.map((c) => [c.id, c.name, 'ON']), 'its channels with their Chinese names');

  t.equal(played.code, 0, 'play exits 0');
  const url = new URL(played.out.trim());
  t.equal(url.host, `127.0.0.1:${bridge.httpPort}`, 'the URL names the viewer');
  const page = await fetch(url);
  t.equal(page.status, 200, 'the page answers');
  t.match(await page.text(), /MediaSource/);
  const live = new URL(url);
  live.pathname = url.pathname.replace(/^\/play\//, '/live/') + '.mp4';
  t.equal(await decodedFrames(live.toString(), 25), 25, 'its stream plays: ffmpeg decoded 25 frames');
});
