// GET /api/devices on the bridge's operators' API: every device the bridge knows (registered now or
// before), with its channels, for the province's console.
import type { ChannelRecord, DeviceRecord } from '../registry/DeviceStore.ts';

export interface GbDeviceRow {
  deviceId: string;
  name?: string;
  online: boolean;
  transport: 'UDP' | 'TCP';
  /** host:port it reached the bridge from last */
  address: string;
  registeredAt?: number;
  keepaliveAt?: number;
  channels: { channelId: string; name?: string; status?: string }[];
}

export function deviceList(devices: readonly DeviceRecord[], channelsOf: (deviceId: string) => readonly ChannelRecord[]): GbDeviceRow[] {
  return [...devices]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((d) => ({
      deviceId: d.id,
      ...(d.name ? { name: d.name } : {}),
      online: d.online,
      transport: d.transport,
      address: d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`,
      ...(d.registeredAt ? { registeredAt: d.registeredAt } : {}),
      ...(d.lastKeepaliveAt ? { keepaliveAt: d.lastKeepaliveAt } : {}),
      channels: channelsOf(d.id).map((c) => ({ channelId: c.id, ...(c.name ? { name: c.name } : {}), ...(c.status ? { status: c.status } : {}) })),
    }));
}
