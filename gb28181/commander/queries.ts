// The queries the bridge makes after a device registers (and on demand): Catalog, DeviceInfo,
// DeviceStatus. A catalog that never completes (fewer items than its SumNum) answers, at the
// timeout, with the channels that did arrive.
import { SipTimeout } from '../errors.ts';
import type { ChannelRecord } from '../registry/DeviceStore.ts';
import type { CatalogCollector } from '../registry/CatalogCollector.ts';
import type { DeviceInfo } from '../message/deviceInfo.ts';
import type { Commander } from './Commander.ts';

export async function queryCatalog(commander: Commander, catalog: CatalogCollector, deviceId: string, timeoutMs = commander.options.queryTimeoutMs * 4): Promise<ChannelRecord[]> {
  const sn = commander.nextSn();
  try {
    return await commander.query<ChannelRecord[]>(deviceId, 'Catalog', timeoutMs, {}, sn);
  } catch (err) {
    const partial = catalog.partial(deviceId, sn);
    if (SipTimeout.is(err) && partial.length) return partial;
    throw err;
  }
}

export function queryDeviceInfo(commander: Commander, deviceId: string): Promise<DeviceInfo> {
  return commander.query<DeviceInfo>(deviceId, 'DeviceInfo');
}

export function queryDeviceStatus(commander: Commander, deviceId: string): Promise<Record<string, string>> {
  return commander.query<Record<string, string>>(deviceId, 'DeviceStatus');
}
