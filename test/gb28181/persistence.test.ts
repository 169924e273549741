// Devices, channels and state survive a restart: they come back offline, a keepalive within the
// registration brings a device back (it does not register again before its expiry), an expired one
// gets 404; `eseal gb28181 devices` reads the store beside a running bridge; `play` prints the URL.
import t from 'tap';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { commands, deviceViews } from '../../gb28181/cli.ts';
import type { GbRoleConfig } from '../../gb28181/config.ts';
import { DeviceStore } from '../../gb28181/registry/DeviceStore.ts';
import { tempDir } from '../helpers/tempDir.ts';
import { CHANNEL, DEVICE, catalogPage, channelId, device, gbConfig, registered, startBridge } from './fixture.ts';

async function runCli(name: string, cfg: GbRoleConfig, positionals: string[] = [], values: Record<string, unknown> = {}): Promise<string[]> {
  const out: string[] = [];
  const cmd = commands.find((c) => c.name === name)!;
  await cmd.run({ positionals, values, config: async () => cfg, io: { out: (l) => out.push(l), err: (l) => out.push(l), stdin: async () => '' } });
  return out;
}

t.test('a restart keeps devices and channels; they come back offline; keepalive within expiry brings one back', async (t) => {
  const dir = await tempDir(t, 'eseal-gb-');
  const cfg = await gbConfig(t, {}, dir);
  const first = await startBridge(t, cfg);
  const ua = await registered(t, first, 'UDP');
  await ua.transact(ua.manscdp(catalogPage(DEVICE, 3, 2, [{ id: CHANNEL, name: '主井' }, { id: channelId(2), name: '副井' }])));
  // the CLI reads the store while the bridge runs
  const listed = JSON.parse((await runCli('devices', cfg, [], { json: true })).join('\n')) as ReturnType<typeof deviceViews>;
  t.equal(listed.length, 1);
  t.equal(listed[0]!.online, true);
  t.equal(listed[0]!.transport, 'UDP');
  t.equal(listed[0]!.address, `127.0.0.1:${ua.localPort}`);
  t.same(listed[0]!.channels.map((c) => c.name).sort(), ['主井', '副井']);
  const table = await runCli('devices', cfg);
  t.match(table.join('\n'), /34020000001320000001.*online.*UDP/);
  t.match(table.join('\n'), /主井/);
  await first.close();

  const second = await startBridge(t, cfg);
  const d = second.context.registry.get(DEVICE)!;
  t.ok(d, 'the device is known after the restart');
  t.equal(d.online, false, 'offline until it registers or keepalives');
  t.equal(second.context.store.channels(DEVICE).length, 2);
  const again = await device(t, second);
  t.equal((await again.keepalive()).status, 200, 'its registration has not run out: its keepalive is taken');
  t.equal(second.context.registry.get(DEVICE)!.online, true);
  t.equal(second.context.registry.get(DEVICE)!.port, again.localPort);
  await second.close();

  // once its registration ran out, a keepalive gets 404 (the device registers again)
  const store = DeviceStore.open(join(dir, 'gb28181'));
  const rec = store.device(DEVICE)!;
  await store.putDevice({ ...rec, online: false, expiresAt: Date.now() - 1000 });
  await store.close();
  const third = await startBridge(t, cfg);
  const late = await device(t, third);
  t.equal((await late.keepalive()).status, 404);
});

t.test('eseal gb28181 play prints the viewer URL with the token made once (0600)', async (t) => {
  const cfg = await gbConfig(t, { 'gb28181.http.listen': '0.0.0.0:9092' });
  const bridge = await startBridge(t, cfg);
  const ua = await registered(t, bridge);
  await ua.transact(ua.manscdp(catalogPage(DEVICE, 3, 1, [{ id: CHANNEL, name: '主井' }])));
  const [url] = await runCli('play', cfg, [DEVICE, CHANNEL]);
  t.match(url, new RegExp(`^http://127\\.0\\.0\\.1:9092/play/${DEVICE}/${CHANNEL}\\?token=[A-Za-z0-9_-]{20,}$`));
  const [again] = await runCli('play', cfg, [DEVICE, CHANNEL]);
  t.equal(again, url, 'the same token every time');
  t.equal((await stat(join(cfg.dataDir, 'gb28181', 'view.token'))).mode & 0o777, 0o600);
  await t.rejects(runCli('play', cfg, [DEVICE, channelId(9)]), { code: 'ESEAL_ERR_GB28181_UNKNOWN_CHANNEL' });
  await t.rejects(runCli('play', cfg, ['34020000001320000099', CHANNEL]), { code: 'ESEAL_ERR_GB28181_UNKNOWN_DEVICE' });
});

t.test('devices on an empty data directory', async (t) => {
  const cfg = await gbConfig(t);
  t.same(await runCli('devices', cfg), ['no device has registered yet']);
  t.same(await runCli('devices', cfg, [], { json: true }), ['[]']);
});
