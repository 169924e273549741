// Response/DeviceStatus: online, working status, recording, encoding, the device's own time.
import { childText } from '../../src/gb28181/manscdp.ts';
import type { GbContext } from '../GbContext.ts';
import type { ManscdpRequest } from './dispatch.ts';

const FIELDS = ['Result', 'Online', 'Status', 'Encode', 'Record', 'DeviceTime', 'Reason'];

export function onDeviceStatus(ctx: GbContext, m: ManscdpRequest): number {
  const status: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = childText(m.root, f);
    if (v) status[f] = v.slice(0, 64);
  }
  ctx.registry.update(m.deviceId, (d) => (d.status = status));
  ctx.commander.waiters.settle(m.deviceId, 'DeviceStatus', m.sn, status);
  return 200;
}
