// `eseal gb28181 catalog <device>` and `play --stream`: the command (run in process, its config the
// running bridge's) reaches the running bridge through the viewer listener's operators' API, which
// asks the device for its catalog again; the API refuses a missing or wrong admin token and a
// wrong method, and the command says plainly when no bridge runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { CommandIO } from '../../../src/cli/command.ts';
import { commands } from '../../../gb28181/cli.ts';
import type { GbRoleConfig } from '../../../gb28181/config.ts';
import { catalogCollected, freePort, startGbBridge, startSimDevice } from '../../helpers/gbBridge.ts';

function run(name: string, positionals: string[], values: Record<string, unknown>, config: GbRoleConfig): Promise<{ out: string[]; err?: { code?: string; message: string } }> {
  const cmd = commands.find((c) => c.name === name)!;
  const out: string[] = [];
  const io: CommandIO = { out: (l) => out.push(l), err: (l) => out.push(l), stdin: async () => '' };
  return cmd.run({ positionals, values, config: async () => config, io }).then(
    () => ({ out }),
    (e: { code?: string; message: string }) => ({ out, err: e }),
  );
}

t.test('catalog through the running bridge', async (t) => {
  const bridge = await startGbBridge(t);
  const id = '34020000001320000081';
  const d = await startSimDevice(t, bridge, id, { channelCount: 3 });
  await catalogCollected(bridge, id, 3);
  const queries: string[] = [];
  d.on('query', (q) => queries.push(q.cmdType));

  const json = await run('catalog', [id], { json: true }, bridge.config);
  t.equal(json.err, undefined, 'no error');
  const data = JSON.parse(json.out.join('\n')) as { deviceId: string; channels: { id: string; name: string; status: string }[] };
  t.equal(data.deviceId, id);
  t.same(data.channels.map((c) => c.id).sort(), d.channels.map((c) => c.id).sort(), 'every channel');
  t.ok(data.channels.some((c) => c.name === '主井口'), 'GB2312 names intact');
  t.same(queries, ['Catalog'], 'the device was asked for its catalog again');

  const table = await run('catalog', [id], {}, bridge.config);
  t.match(table.out[0], /^3 channel\(s\) of 34020000001320000081/);
  t.match(table.out.join('\n'), /副井口/);

  t.equal(queries.length, 2, 'each command run asks again');
  const unknown = await run('catalog', ['34020000001320000999'], {}, bridge.config);
  t.equal(unknown.err?.code, 'ESEAL_ERR_GB28181_UNKNOWN_DEVICE', "the bridge's coded error comes back as itself");
  const bad = await run('catalog', ['12'], {}, bridge.config);
  t.equal(bad.err?.code, 'ESEAL_ERR_GB28181_UNKNOWN_DEVICE', 'a device id that is not 20 digits');

  // the API itself
  const api = `http://127.0.0.1:${bridge.httpPort}/api/devices/${id}/catalog`;
  const token = readFileSync(join(bridge.dataDir, 'gb28181', 'admin.token'), 'utf8').trim();
  const noToken = await fetch(api, { method: 'POST' });
  t.equal(noToken.status, 401);
  t.equal(((await noToken.json()) as { code: string }).code, 'ESEAL_ERR_GBVIEW_ADMIN');
  const viewToken = await fetch(api, { method: 'POST', headers: { authorization: `Bearer ${bridge.token}` } });
  t.equal(viewToken.status, 401, 'the view token is not the admin token');
  const queryToken = await fetch(`${api}?token=${bridge.token}`, { method: 'POST' });
  t.equal(queryToken.status, 401, 'nor is ?token=');
  const get = await fetch(api, { headers: { authorization: `Bearer ${token}` } });
  t.equal(get.status, 405, 'POST only');
  const other = await fetch(`http://127.0.0.1:${bridge.httpPort}/api/devices/${id}/reboot`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  t.equal(other.status, 404, 'no other API');
  t.equal(queries.length, 2, 'none of the refused calls reached the device');
  const [a, b] = await Promise.all([1, 2].map(() => fetch(api, { method: 'POST', headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<{ code: number }>)));
  t.same([a!.code, b!.code], [0, 0]);
  t.equal(queries.length, 3, 'two callers at once share one query');

  await d.close();
  const gone = await run('catalog', [id], {}, bridge.config);
  t.equal(gone.err?.code, 'ESEAL_ERR_GB28181_OFFLINE', 'an unregistered device: offline');
});

t.test('play --stream prints the sub stream URL', async (t) => {
  const bridge = await startGbBridge(t);
  const id = '34020000001320000082';
  const d = await startSimDevice(t, bridge, id, { channelCount: 1 });
  await catalogCollected(bridge, id, 1);
  const ch = d.channels[0]!.id;
  const main = await run('play', [id, ch], {}, bridge.config);
  t.notMatch(main.out[0], /stream=/, 'main: the plain URL');
  const sub = await run('play', [id, ch], { stream: 'sub' }, bridge.config);
  t.match(sub.out[0], new RegExp(`/play/${id}/${ch}\\?token=[^&]+&stream=sub$`));
  const page = await fetch(sub.out[0]!);
  t.equal(page.status, 200);
  t.match(await page.text(), /stream=sub/, "the page's own URLs ask for the sub stream");
  const bad = await run('play', [id, ch], { stream: 'third' }, bridge.config);
  t.match(bad.err?.message, /--stream/);
});

t.test('no bridge running', async (t) => {
  const bridge = await startGbBridge(t);
  const config = structuredClone(bridge.config);
  config.gb28181.http.listen = `127.0.0.1:${await freePort()}`;
  const r = await run('catalog', ['34020000001320000083'], {}, config);
  t.equal(r.err?.code, 'ESEAL_ERR_GB28181_NOT_RUNNING');
  config.dataDir = join(bridge.dataDir, 'elsewhere');
  const r2 = await run('catalog', ['34020000001320000083'], {}, config);
  t.equal(r2.err?.code, 'ESEAL_ERR_GB28181_NOT_RUNNING');
  t.match(r2.err?.message, /admin\.token/);
});
