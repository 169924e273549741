// Notify/MobilePosition (§9.5): the latest position of a mobile device, kept on its record.
import { childText } from '../../src/gb28181/manscdp.ts';
import type { GbContext } from '../GbContext.ts';
import type { ManscdpRequest } from './dispatch.ts';

export function onMobilePosition(ctx: GbContext, m: ManscdpRequest): number {
  const longitude = Number(childText(m.root, 'Longitude'));
  const latitude = Number(childText(m.root, 'Latitude'));
  if (!Number.isFinite(longitude) || !Number.isFinite(latitude) || childText(m.root, 'Longitude') === '' || Math.abs(longitude) > 180 || Math.abs(latitude) > 90) return 400;
  const speed = Number(childText(m.root, 'Speed'));
  const direction = Number(childText(m.root, 'Direction'));
  ctx.registry.update(m.deviceId, (d) => {
    d.position = {
      longitude,
      latitude,
      ...(Number.isFinite(speed) && childText(m.root, 'Speed') !== '' ? { speed } : {}),
      ...(Number.isFinite(direction) && childText(m.root, 'Direction') !== '' ? { direction } : {}),
      time: childText(m.root, 'Time').slice(0, 32),
      at: Date.now(),
    };
  });
  return 200;
}
