// Response/DeviceInfo: the device's name, maker, model and firmware.
import { childInt, childText } from '../../src/gb28181/manscdp.ts';
import type { GbContext } from '../GbContext.ts';
import type { ManscdpRequest } from './dispatch.ts';

export interface DeviceInfo {
  name: string;
  manufacturer: string;
  model: string;
  firmware: string;
  channels: number | undefined;
}

export function onDeviceInfo(ctx: GbContext, m: ManscdpRequest): number {
  const info: DeviceInfo = {
    name: childText(m.root, 'DeviceName').slice(0, 128),
    manufacturer: childText(m.root, 'Manufacturer').slice(0, 64),
    model: childText(m.root, 'Model').slice(0, 64),
    firmware: childText(m.root, 'Firmware').slice(0, 64),
    channels: childInt(m.root, 'Channel'),
  };
  ctx.registry.update(m.deviceId, (d) => {
    if (info.name) d.name = info.name;
    d.manufacturer = info.manufacturer || d.manufacturer;
    d.model = info.model || d.model;
    d.firmware = info.firmware || d.firmware;
  });
  ctx.commander.waiters.settle(m.deviceId, 'DeviceInfo', m.sn, info);
  return 200;
}
