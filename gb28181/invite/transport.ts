// Which media transport a device gets: its own setting in gb28181.devices, else TCP passive for
// GB/T 28181-2022 devices (the 2022 edition makes TCP the default), else gb28181.media.transport.
import type { MediaTransport } from '../../src/gb28181/sdp.ts';
import type { GbConfig } from '../config.ts';
import type { DeviceRecord } from '../registry/DeviceStore.ts';

export function mediaTransportFor(config: GbConfig, device: DeviceRecord): MediaTransport {
  const own = config.devices.find((d) => d.id === device.id)?.transport;
  if (own) return own;
  if (device.version === '2022') return 'tcp-passive';
  return config.media.transport;
}
