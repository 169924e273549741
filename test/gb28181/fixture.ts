// The bridge as its tests run it: the gb28181 service on 127.0.0.1 (any free port), a temp data
// directory, silent logs, a shared password, short timers where a test waits on them.
import pino from 'pino';
import type { Test } from 'tap';
import { loadAppConfig } from '../../app/config.ts';
import type { GbRoleConfig } from '../../gb28181/config.ts';
import { GbService, type GbServiceOptions } from '../../gb28181/GbService.ts';
import { tempDir } from '../helpers/tempDir.ts';
import { SipUa, xmlDoc } from '../helpers/sipUa.ts';

export const PASSWORD = 'dev-secret-12';
export const DOMAIN = '3402000000';
export const DEVICE = '34020000001320000001';
export const CHANNEL = '34020000001310000001';

export async function gbConfig(t: Test, set: Record<string, string | number | boolean> = {}, dataDir?: string): Promise<GbRoleConfig> {
  const dir = dataDir ?? (await tempDir(t, 'eseal-gb-'));
  const cfg = (await loadAppConfig({
    env: {},
    set: {
      dataDir: dir,
      'log.level': 'silent',
      roles: 'gb28181',
      'gb28181.sip.listen': '127.0.0.1:0',
      'gb28181.sip.publicHost': '127.0.0.1',
      'gb28181.password': PASSWORD,
      'gb28181.media.lingerSeconds': 0,
      ...set,
    },
  })) as unknown as GbRoleConfig;
  return cfg;
}

export async function startBridge(t: Test, cfg: GbRoleConfig, options: GbServiceOptions = {}): Promise<GbService> {
  const log = pino({ level: process.env['ESEAL_TEST_LOG'] ?? 'silent' });
  const service = new GbService(cfg, log, { queryOnRegister: false, ...options });
  await service.start();
  t.teardown(() => service.close());
  return service;
}

export async function device(t: Test, service: GbService, protocol: 'UDP' | 'TCP' = 'UDP', deviceId = DEVICE, gbVersion?: string): Promise<SipUa> {
  const ep = service.context.endpoint;
  const ua = await SipUa.create({ protocol, server: { host: '127.0.0.1', port: protocol === 'UDP' ? ep.udpPort : ep.tcpPort }, deviceId, domain: DOMAIN, ...(gbVersion ? { gbVersion } : {}) });
  t.teardown(() => ua.close());
  return ua;
}

/** A device that has registered. */
export async function registered(t: Test, service: GbService, protocol: 'UDP' | 'TCP' = 'UDP', deviceId = DEVICE, gbVersion?: string): Promise<SipUa> {
  const ua = await device(t, service, protocol, deviceId, gbVersion);
  const answers = await ua.register(PASSWORD);
  if (answers[answers.length - 1]!.status !== 200) throw new Error(`register failed: ${answers.map((a) => a.status).join(', ')}`);
  return ua;
}

export function catalogPage(deviceId: string, sn: number, sumNum: number, items: { id: string; name: string; status?: string; extra?: Record<string, string> }[], encoding = 'GB2312'): string {
  return xmlDoc(
    'Response',
    {
      CmdType: 'Catalog',
      SN: sn,
      DeviceID: deviceId,
      SumNum: sumNum,
      DeviceList: { '@Num': items.length, Item: items.map((i) => ({ DeviceID: i.id, Name: i.name, Manufacturer: 'Hikvision', Model: 'DS-2CD', Status: i.status ?? 'ON', ParentID: deviceId, ...(i.extra ?? {}) })) },
    },
    encoding,
  );
}

export function channelId(n: number): string {
  return `3402000000131${String(n).padStart(7, '0')}`;
}
