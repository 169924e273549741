// The address of a GB/T 28181 channel as the edge (and anything else outside the bridge) names it:
// `gb28181://<device id>/<channel id>`, both 20-digit GB/T 28181 codes. The bridge resolves it to
// its local stream URL; nothing outside gb28181/ imports the bridge.

export const GB28181_SCHEME = 'gb28181:';

export interface GbAddress {
  deviceId: string;
  channelId: string;
}

const ADDRESS = /^gb28181:\/\/(\d{20})\/(\d{20})\/?$/i;

/** The device and channel of a `gb28181://` address; undefined when it is not one. */
export function parseGbAddress(url: string): GbAddress | undefined {
  const m = ADDRESS.exec(url.trim());
  return m ? { deviceId: m[1]!, channelId: m[2]! } : undefined;
}

export function formatGbAddress(a: GbAddress): string {
  if (!/^\d{20}$/.test(a.deviceId) || !/^\d{20}$/.test(a.channelId)) throw new RangeError('device and channel ids are 20 digits');
  return `gb28181://${a.deviceId}/${a.channelId}`;
}

export function isGbAddress(url: string): boolean {
  return url.trim().toLowerCase().startsWith('gb28181://');
}
