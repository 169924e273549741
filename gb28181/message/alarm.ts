// Notify/Alarm (§9.4): answered 200, recorded, then acknowledged with a Response/Alarm (Result OK)
// as the standard asks, so the device stops repeating it.
import { childText } from '../../src/gb28181/manscdp.ts';
import type { GbContext } from '../GbContext.ts';
import type { ManscdpRequest } from './dispatch.ts';

export async function onAlarm(ctx: GbContext, m: ManscdpRequest): Promise<number> {
  const sourceId = childText(m.root, 'DeviceID') || m.deviceId;
  await ctx.store.addAlarm({
    deviceId: m.deviceId,
    sourceId: sourceId.slice(0, 32),
    priority: childText(m.root, 'AlarmPriority').slice(0, 8),
    method: childText(m.root, 'AlarmMethod').slice(0, 8),
    type: childText(m.root, 'AlarmType') || childText(m.root, 'Info') || '',
    time: childText(m.root, 'AlarmTime').slice(0, 32),
    description: childText(m.root, 'AlarmDescription').slice(0, 256),
    receivedAt: Date.now(),
  });
  ctx.log.info({ deviceId: m.deviceId, sourceId, priority: childText(m.root, 'AlarmPriority') }, 'gb28181: alarm');
  // after our 200 has gone out
  setImmediate(() => {
    ctx.commander
      .message(m.deviceId, 'Response', { CmdType: 'Alarm', SN: m.sn, DeviceID: sourceId, Result: 'OK' })
      .catch((err: unknown) => ctx.log.debug({ err: (err as Error).message, deviceId: m.deviceId }, 'gb28181: alarm acknowledgement not delivered'));
  });
  return 200;
}
