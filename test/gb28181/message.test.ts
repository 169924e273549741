// MESSAGE from devices over real UDP and TCP: unknown devices get 404; catalog pages out of order,
// duplicated, in GB2312, UTF-8 and under a lying declaration; DeviceInfo and DeviceStatus answer our
// queries; Alarm is answered, recorded and acknowledged; MobilePosition kept; bad XML gets 400.
import t from 'tap';
import iconv from 'iconv-lite';
import { queryCatalog, queryDeviceInfo, queryDeviceStatus } from '../../gb28181/commander/queries.ts';
import { SipUa, xmlDoc } from '../helpers/sipUa.ts';
import { waitFor } from '../helpers/wait.ts';
import { DEVICE, catalogPage, channelId, device, gbConfig, registered, startBridge } from './fixture.ts';

t.test('MESSAGE from a device that never registered → 404; from a registered one with an unknown CmdType → 200', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const stranger = await device(t, bridge);
  t.equal((await stranger.keepalive()).status, 404);
  t.equal((await stranger.transact(stranger.manscdp(catalogPage(DEVICE, 1, 1, [{ id: channelId(1), name: 'x' }])))).status, 404);
  const ua = await registered(t, bridge, 'UDP', '34020000001320000009');
  t.equal((await ua.transact(ua.manscdp(xmlDoc('Notify', { CmdType: 'SomethingNew', SN: 3, DeviceID: ua.options.deviceId })))).status, 200);
  t.equal((await ua.transact(ua.manscdp('<Notify><CmdType>Keepalive</CmdType>'))).status, 400, 'unclosed XML');
  t.equal((await ua.transact(ua.manscdp(xmlDoc('Notify', { SN: 3 })))).status, 400, 'no CmdType');
});

for (const protocol of ['UDP', 'TCP'] as const) {
  t.test(`${protocol}: a catalog in pages out of order and duplicated, GB2312, completes the query`, async (t) => {
    const bridge = await startBridge(t, await gbConfig(t));
    const ua = await registered(t, bridge, protocol);
    const { commander, catalog } = bridge.context;
    const names = ['主井口', '副井口', '调度室', '运输巷', '工作面'];
    const items = names.map((name, i) => ({ id: channelId(i + 1), name }));
    ua.onRequest((rq) => {
      if (rq.method !== 'MESSAGE') return;
      const body = SipUa.bodyOf(rq);
      if (!/<CmdType>Catalog<\/CmdType>/.test(body)) return;
      ua.respond(rq, 200, 'OK');
      const sn = Number(/<SN>(\d+)<\/SN>/.exec(body)![1]);
      // page 3 first, page 1 twice, page 2 last
      const pages = [items.slice(4), items.slice(0, 2), items.slice(0, 2), items.slice(2, 4)];
      for (const p of pages) ua.send(ua.manscdp(catalogPage(DEVICE, sn, 5, p)));
    });
    const got = await queryCatalog(commander, catalog, DEVICE, 5000);
    t.equal(got.length, 5);
    t.same(bridge.context.store.channels(DEVICE).map((c) => c.name).sort(), [...names].sort());
    t.equal(bridge.context.registry.get(DEVICE)!.channelCount, 5);
    t.match(SipUa.bodyOf(ua.requests.find((r) => r.method === 'MESSAGE')!), /encoding="GB2312"/);
  });
}

t.test('catalog bodies in UTF-8, and UTF-8 declared as GB2312, decode to the same names; 2022 fields are kept', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const ua = await registered(t, bridge);
  const { catalog } = bridge.context;
  const ok1 = await ua.transact(ua.manscdp(catalogPage(DEVICE, 77, 1, [{ id: channelId(1), name: '主井皮带' }], 'UTF-8'), { charset: 'utf8' }));
  t.equal(ok1.status, 200);
  const lying = await ua.transact(ua.manscdp(catalogPage(DEVICE, 78, 1, [{ id: channelId(2), name: '副井罐笼', extra: { BusinessGroupID: '34020000002150000001' } }], 'GB2312'), { charset: 'utf8' }));
  t.equal(lying.status, 200);
  const gbUnderUtf8 = await ua.transact(ua.manscdp(catalogPage(DEVICE, 79, 1, [{ id: channelId(3), name: '调度指挥中心' }], 'UTF-8')));
  t.equal(gbUnderUtf8.status, 200);
  const store = bridge.context.store;
  t.equal(store.channel(DEVICE, channelId(1))!.name, '主井皮带');
  t.equal(store.channel(DEVICE, channelId(2))!.name, '副井罐笼');
  t.equal(store.channel(DEVICE, channelId(2))!.extra['BusinessGroupID'], '34020000002150000001');
  t.equal(store.channel(DEVICE, channelId(3))!.name, '调度指挥中心');
  t.same(catalog.partial(DEVICE, 77), [], 'a complete single-page catalog is not left collecting');
});

t.test('catalog Notify: channel status changes, additions and deletions', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const ua = await registered(t, bridge);
  await ua.transact(ua.manscdp(catalogPage(DEVICE, 5, 2, [{ id: channelId(1), name: 'a' }, { id: channelId(2), name: 'b' }])));
  const notify = (event: string, id: string) =>
    ua.transact(ua.manscdp(xmlDoc('Notify', { CmdType: 'Catalog', SN: 9, DeviceID: DEVICE, SumNum: 1, DeviceList: { '@Num': 1, Item: { DeviceID: id, Event: event, Name: 'new' } } })));
  t.equal((await notify('OFF', channelId(1))).status, 200);
  t.equal((await notify('DEL', channelId(2))).status, 200);
  t.equal((await notify('ADD', channelId(3))).status, 200);
  const store = bridge.context.store;
  t.equal(store.channel(DEVICE, channelId(1))!.status, 'OFF');
  t.equal(store.channel(DEVICE, channelId(1))!.name, 'a');
  t.equal(store.channel(DEVICE, channelId(2)), undefined);
  t.equal(store.channel(DEVICE, channelId(3))!.name, 'new');
});

t.test('a catalog short of its SumNum answers with what arrived when the query times out', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const ua = await registered(t, bridge);
  ua.onRequest((rq) => {
    if (rq.method !== 'MESSAGE') return;
    ua.respond(rq, 200, 'OK');
    const sn = Number(/<SN>(\d+)<\/SN>/.exec(SipUa.bodyOf(rq))![1]);
    ua.send(ua.manscdp(catalogPage(DEVICE, sn, 3, [{ id: channelId(1), name: 'only one' }])));
  });
  const got = await queryCatalog(bridge.context.commander, bridge.context.catalog, DEVICE, 1000);
  t.same(got.map((c) => c.name), ['only one']);
});

t.test('DeviceInfo and DeviceStatus answer their queries and are stored', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const ua = await registered(t, bridge, 'TCP');
  ua.onRequest((rq) => {
    if (rq.method !== 'MESSAGE') return;
    ua.respond(rq, 200, 'OK');
    const body = SipUa.bodyOf(rq);
    const sn = Number(/<SN>(\d+)<\/SN>/.exec(body)![1]);
    if (/DeviceInfo/.test(body)) {
      ua.send(ua.manscdp(xmlDoc('Response', { CmdType: 'DeviceInfo', SN: sn, DeviceID: DEVICE, DeviceName: '井下NVR', Manufacturer: 'Dahua', Model: 'NVR4216', Firmware: 'V4.0', Channel: 16, Result: 'OK' })));
    } else {
      ua.send(ua.manscdp(xmlDoc('Response', { CmdType: 'DeviceStatus', SN: sn, DeviceID: DEVICE, Result: 'OK', Online: 'ONLINE', Status: 'OK', Record: 'OFF', Encode: 'ON' })));
    }
  });
  const info = await queryDeviceInfo(bridge.context.commander, DEVICE);
  t.equal(info.name, '井下NVR');
  t.equal(info.channels, 16);
  const status = await queryDeviceStatus(bridge.context.commander, DEVICE);
  t.equal(status['Online'], 'ONLINE');
  const d = bridge.context.registry.get(DEVICE)!;
  t.equal(d.name, '井下NVR');
  t.equal(d.manufacturer, 'Dahua');
  t.equal(d.status['Encode'], 'ON');
});

t.test('Alarm: 200, recorded, then acknowledged with Response/Alarm Result OK; MobilePosition kept', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t));
  const ua = await registered(t, bridge);
  ua.onRequest((rq) => rq.method === 'MESSAGE' && ua.respond(rq, 200, 'OK'));
  const alarm = xmlDoc('Notify', { CmdType: 'Alarm', SN: 41, DeviceID: channelId(1), AlarmPriority: 1, AlarmMethod: 5, AlarmTime: '2024-05-01T08:00:00', AlarmDescription: '区域入侵' });
  t.equal((await ua.transact(ua.manscdp(alarm))).status, 200);
  const ack = await ua.nextRequest((rq) => rq.method === 'MESSAGE' && /<CmdType>Alarm<\/CmdType>/.test(SipUa.bodyOf(rq)));
  const body = SipUa.bodyOf(ack);
  t.match(body, /<Response>/);
  t.match(body, /<SN>41<\/SN>/);
  t.match(body, /<Result>OK<\/Result>/);
  const [stored] = bridge.context.store.alarms();
  t.equal(stored!.description, '区域入侵');
  t.equal(stored!.sourceId, channelId(1));

  const pos = xmlDoc('Notify', { CmdType: 'MobilePosition', SN: 42, DeviceID: DEVICE, Time: '2024-05-01T08:00:00', Longitude: 112.55, Latitude: 37.87, Speed: 3.5, Direction: 90 });
  t.equal((await ua.transact(ua.manscdp(pos))).status, 200);
  t.same(bridge.context.registry.get(DEVICE)!.position, { longitude: 112.55, latitude: 37.87, speed: 3.5, direction: 90, time: '2024-05-01T08:00:00', at: bridge.context.registry.get(DEVICE)!.position!.at });
  const bad = xmlDoc('Notify', { CmdType: 'MobilePosition', SN: 43, DeviceID: DEVICE, Longitude: 'east', Latitude: 37 });
  t.equal((await ua.transact(ua.manscdp(bad))).status, 400);
});

t.test('after REGISTER the bridge queries DeviceInfo, DeviceStatus and Catalog by itself', async (t) => {
  const cfg = await gbConfig(t);
  const { GbService } = await import('../../gb28181/GbService.ts');
  const pino = (await import('pino')).default;
  const bridge = new GbService(cfg, pino({ level: 'silent' }));
  await bridge.start();
  t.teardown(() => bridge.close());
  const ua = await SipUa.create({ protocol: 'UDP', server: { host: '127.0.0.1', port: bridge.context.endpoint.udpPort }, deviceId: DEVICE, domain: '3402000000' });
  t.teardown(() => ua.close());
  ua.onRequest((rq) => rq.method === 'MESSAGE' && ua.respond(rq, 200, 'OK'));
  await ua.register('dev-secret-12');
  await waitFor(() => ua.requests.filter((r) => r.method === 'MESSAGE').length >= 3, 5000, 'three queries');
  const kinds = ua.requests.map((r) => /<CmdType>(\w+)<\/CmdType>/.exec(SipUa.bodyOf(r))?.[1]).sort();
  t.same(kinds, ['Catalog', 'DeviceInfo', 'DeviceStatus']);
  t.ok(iconv.encodingExists('gb2312'));
});

t.test('a device that never answers a query MESSAGE: the query rejects with ESEAL_ERR_SIP_TIMEOUT, nothing unhandled', async (t) => {
  const bridge = await startBridge(t, await gbConfig(t, { 'gb28181.sip.transactionSeconds': 1 }));
  await registered(t, bridge);
  // the MESSAGE transaction and the answer wait both run out after 1 s
  await t.rejects(queryDeviceInfo(bridge.context.commander, DEVICE), { code: 'ESEAL_ERR_SIP_TIMEOUT' });
  await new Promise((r) => setTimeout(r, 100));
  t.equal(bridge.context.commander.endpoint.transactions.size, 0);
});
