// Queries answered as GB/T 28181 §9.5 says: 200 first, then the answer in new MESSAGE requests;
// Catalog in pages (SumNum, DeviceList Num) that add up, GB2312 by default with the mine's Chinese
// names, UTF-8 on request, the charset lie, pages reversed or duplicated, 2022's extra fields;
// DeviceInfo, DeviceStatus; Alarm and MobilePosition notifies.
import t from 'tap';
import iconv from 'iconv-lite';
import type { Test } from 'tap';
import { SimDevice } from '../../../sim/device/SimDevice.ts';
import type { SimDeviceOptions } from '../../../sim/device/SimDeviceTypes.ts';
import { waitFor } from '../../helpers/wait.ts';
import { Peer, simOptions } from './peer.ts';

async function setup(t: Test, extra: Partial<SimDeviceOptions> = {}): Promise<{ peer: Peer; dev: SimDevice }> {
  const peer = await Peer.start(t, { protocol: 'udp' });
  const dev = await SimDevice.start(simOptions(peer, extra));
  t.teardown(() => dev.close());
  return { peer, dev };
}

function pages(peer: Peer, charset: 'gb18030' | 'utf8' = 'gb18030'): Array<{ sumNum: number; num: number; ids: string[]; names: string[]; body: string }> {
  return peer.bodies('Catalog', charset).map((body) => ({
    sumNum: Number(/<SumNum>(\d+)<\/SumNum>/.exec(body)![1]),
    num: Number(/<DeviceList Num="(\d+)">/.exec(body)![1]),
    ids: [...body.matchAll(/<Item>\s*<DeviceID>(\d+)<\/DeviceID>/g)].map((m) => m[1]!),
    names: [...body.matchAll(/<Name>([^<]*)<\/Name>/g)].map((m) => m[1]!),
    body,
  }));
}

t.test('Catalog: 200, then pages in GB2312 that add up to SumNum', async (t) => {
  const { peer, dev } = await setup(t, { channelCount: 5, catalogPageSize: 2 });
  const rs = await peer.query('Catalog', 17);
  t.match(rs.start, 'SIP/2.0 200');
  await waitFor(() => peer.bodies('Catalog').length === 3, 10_000, 'three catalog pages');
  const p = pages(peer);
  t.same(p.map((x) => x.num), [2, 2, 1]);
  t.ok(p.every((x) => x.sumNum === 5 && x.ids.length === x.num));
  t.same(p.flatMap((x) => x.ids), dev.channels.map((c) => c.id));
  t.same(p.flatMap((x) => x.names), ['主井口', '副井口', '运输皮带', '调度室', '通道5']);
  t.ok(p.every((x) => /<SN>17<\/SN>/.test(x.body) && /^<\?xml version="1.0" encoding="GB2312"\?>/.test(x.body)));
  const raw = peer.messages.find((m) => m.body.includes(Buffer.from('Catalog')))!.body;
  t.ok(raw.includes(iconv.encode('主井口', 'gb2312')), 'the bytes are GB2312');
  t.notOk(raw.includes(Buffer.from('主井口', 'utf8')));
  t.match(peer.messages[0]!.headers['content-type'], /^Application\/MANSCDP\+xml$/i);
  t.notMatch(p[0]!.body, /<Info>/, '2016: no 2022 Info block');
});

t.test('Catalog in UTF-8, reversed and with a duplicate page; 2022 fields', async (t) => {
  const { peer } = await setup(t, { channelCount: 4, catalogPageSize: 1, charset: 'UTF-8', catalogOrder: 'reversed', catalogDuplicate: true, version: '2022' });
  await peer.query('Catalog', 3);
  await waitFor(() => peer.bodies('Catalog', 'utf8').length === 5, 10_000, 'five pages');
  const p = pages(peer, 'utf8');
  t.same(p.map((x) => x.names[0]), ['调度室', '运输皮带', '副井口', '主井口', '调度室'], 'reversed, the first sent page again at the end');
  t.match(p[0]!.body, /encoding="UTF-8"/);
  t.match(p[0]!.body, /<Info>[\s\S]*<PTZType>3<\/PTZType>/);
  t.match(peer.registers[0]!.raw, /\r\nX-GB-Ver: 3.0\r\n/, '2022 devices say their version');
});

t.test('charset lie knobs', async (t) => {
  for (const [lie, decl, bytes] of [
    ['declares-gb2312-sends-utf8', 'GB2312', Buffer.from('主井口', 'utf8')],
    ['declares-utf8-sends-gb2312', 'UTF-8', iconv.encode('主井口', 'gb2312')],
  ] as const) {
    const { peer } = await setup(t, { charsetLie: lie, catalogPageSize: 10 });
    await peer.query('Catalog', 1);
    await waitFor(() => peer.messages.some((m) => m.body.includes(Buffer.from('<CmdType>Catalog'))), 10_000, 'the catalog');
    const body = peer.messages.find((m) => m.body.includes(Buffer.from('<CmdType>Catalog')))!.body;
    t.ok(body.includes(Buffer.from(`encoding="${decl}"`)), `${lie}: declares ${decl}`);
    t.ok(body.includes(bytes), `${lie}: the names are in the other charset`);
  }
});

t.test('DeviceInfo and DeviceStatus answered; Alarm and MobilePosition sent', async (t) => {
  const { peer, dev } = await setup(t);
  await peer.query('DeviceInfo', 5);
  await peer.query('DeviceStatus', 6);
  await waitFor(() => peer.bodies('DeviceInfo').length === 1 && peer.bodies('DeviceStatus').length === 1, 10_000, 'both answers');
  t.match(peer.bodies('DeviceInfo')[0], /<Response>[\s\S]*<SN>5<\/SN>[\s\S]*<Result>OK<\/Result>[\s\S]*<Channel>4<\/Channel>/);
  t.match(peer.bodies('DeviceStatus')[0], /<SN>6<\/SN>[\s\S]*<Online>ONLINE<\/Online>[\s\S]*<Alarmstatus Num="0">/);
  t.equal(await dev.sendAlarm({ priority: 2, description: '人员闯入' }), 200);
  t.match(peer.bodies('Alarm')[0], new RegExp(`<Notify>[\\s\\S]*<DeviceID>${dev.channels[0]!.id}</DeviceID>[\\s\\S]*<AlarmPriority>2</AlarmPriority>[\\s\\S]*<AlarmTime>\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d</AlarmTime>[\\s\\S]*人员闯入`));
  t.equal(await dev.sendMobilePosition({ longitude: 112.5, latitude: 37.8 }), 200);
  t.match(peer.bodies('MobilePosition')[0], /<Longitude>112.5<\/Longitude>[\s\S]*<Latitude>37.8<\/Latitude>/);
});
