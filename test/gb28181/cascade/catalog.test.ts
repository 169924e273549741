// The upper platform's Catalog, DeviceInfo and DeviceStatus queries about us, answered over real UDP:
// paged (SumNum the whole, DeviceList Num per page), grouped by mine (one 215 business group, a 216
// node per mine device, channels under their mine), status from the registry, names in GB2312.
import t from 'tap';
import { businessGroupId, mineNodeIds } from '../../../gb28181/cascade/catalogTree.ts';
import { queryDeviceInfo, queryDeviceStatus } from '../../../gb28181/commander/queries.ts';
import { waitFor } from '../../helpers/wait.ts';
import { PASSWORD, channelId, registered } from '../fixture.ts';
import { LOWER_ID, UPPER_ID, actAsDevice, cascadeEntry, startLower, startUpper } from './fixture.ts';

const MINE_A = '34020000001180000001';
const MINE_B = '34020000001180000002';

t.test('catalog in pages grouped by mine; the upper collector sees every channel', async (t) => {
  const { upper } = await startUpper(t);
  const { lower } = await startLower(t, cascadeEntry(upper, { catalogPageSize: 3 }));
  await waitFor(() => lower.cascade!.client(UPPER_ID)!.registered, 10_000, 'registered');
  const channelsA = [1, 2, 3].map((n) => ({ id: channelId(n), name: `主井口${n}号` }));
  const channelsB = [4, 5, 6, 7].map((n) => ({ id: channelId(n), name: `副井${n}`, status: n === 7 ? 'OFF' : 'ON' }));
  const a = await registered(t, lower, 'UDP', MINE_A);
  actAsDevice(a, channelsA);
  const b = await registered(t, lower, 'UDP', MINE_B);
  actAsDevice(b, channelsB);
  t.equal((await lower.queryCatalog(MINE_A)).length, 3);
  t.equal((await lower.queryCatalog(MINE_B)).length, 4);
  // mine B goes offline: its channels are reported OFF
  await b.register(PASSWORD, { expires: 0 });

  const items = await upper.queryCatalog(LOWER_ID);
  const total = 1 + 2 + 7;
  t.equal(items.length, total, 'every item arrived (SumNum counted across pages)');
  const group = businessGroupId(LOWER_ID);
  const nodes = mineNodeIds([MINE_A, MINE_B]);
  const byId = new Map(items.map((i) => [i.id, i]));
  t.equal(byId.get(group)?.name, '某省煤矿视频', 'the business group (215), its GB2312 name intact');
  t.equal(group.slice(10, 13), '215');
  for (const [mine, node] of nodes) {
    t.equal(node.slice(10, 13), '216');
    t.equal(byId.get(node)?.parentId, group, `${mine}'s virtual organisation under the group`);
    t.equal(byId.get(node)?.extra['BusinessGroupID'], group);
  }
  for (const c of channelsA) {
    const got = byId.get(c.id)!;
    t.equal(got.parentId, nodes.get(MINE_A), `${c.id} under mine A`);
    t.equal(got.name, c.name, 'Chinese names survive GB2312');
    t.equal(got.status, 'ON');
  }
  for (const c of channelsB) {
    t.equal(byId.get(c.id)!.parentId, nodes.get(MINE_B));
    t.equal(byId.get(c.id)!.status, 'OFF', 'an offline mine: OFF');
  }
});

t.test('DeviceInfo and DeviceStatus about the lower platform', async (t) => {
  const { upper } = await startUpper(t);
  const { lower } = await startLower(t, cascadeEntry(upper));
  await waitFor(() => lower.cascade!.client(UPPER_ID)!.registered, 10_000, 'registered');
  const info = await queryDeviceInfo(upper.context.commander, LOWER_ID);
  t.equal(info.name, '某省煤矿视频');
  t.equal(info.channels, 0);
  const status = await queryDeviceStatus(upper.context.commander, LOWER_ID);
  t.match(status, { Result: 'OK', Online: 'ONLINE', Status: 'OK' });
});
