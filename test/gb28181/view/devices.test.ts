// GET /api/devices on the bridge's operators' API: a sim device registered over real SIP is listed
// with its transport, address, times and channels; after it unregisters it stays listed, offline.
// Loopback and the admin token only, like the catalog route.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { GbDeviceRow } from '../../../gb28181/view/deviceList.ts';
import { catalogCollected, startGbBridge, startSimDevice } from '../../helpers/gbBridge.ts';
import { waitFor } from '../../helpers/wait.ts';

t.test('the bridge lists its devices and their channels', async (t) => {
  const bridge = await startGbBridge(t);
  const id = '34020000001320000082';
  const before = Date.now();
  const device = await startSimDevice(t, bridge, id, { channelCount: 2 });
  await catalogCollected(bridge, id, 2);
  const api = `http://127.0.0.1:${bridge.httpPort}/api/devices`;
  const token = readFileSync(join(bridge.dataDir, 'gb28181', 'admin.token'), 'utf8').trim();
  const list = async () => {
    const res = await fetch(api, { headers: { authorization: `Bearer ${token}` } });
    t.equal(res.status, 200);
    const body = (await res.json()) as { code: number; msg: string; data: { devices: GbDeviceRow[] } };
    t.equal(body.code, 0);
    return body.data.devices;
  };

  const devices = await list();
  t.equal(devices.length, 1);
  const row = devices[0]!;
  t.equal(row.deviceId, id);
  t.equal(row.online, true);
  t.equal(row.transport, 'UDP');
  t.match(row.address, /^127\.0\.0\.1:\d+$/);
  t.ok(row.registeredAt! >= before && row.registeredAt! <= Date.now(), 'registeredAt is the registration time');
  t.same(row.channels.map((c) => c.channelId).sort(), device.channels.map((c) => c.id).sort(), 'every channel');
  t.ok(row.channels.some((c) => c.name === '主井口'), 'channel names as the device gave them');
  t.ok(row.channels.every((c) => c.status === 'ON'));

  // refused without the admin token, with the viewer's token, and for another method
  t.equal((await fetch(api)).status, 401);
  t.equal((await fetch(api, { headers: { authorization: `Bearer ${bridge.token}` } })).status, 401, 'the view token is not the admin token');
  t.equal((await fetch(api, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, 405);

  // unregistered: still known, offline
  await device.close();
  await waitFor(async () => (await list())[0]?.online === false, 20_000, 'the device listed offline');
  t.equal((await list())[0]?.channels.length, 2, 'its channels are remembered');
});
