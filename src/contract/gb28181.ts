// The address of a GB/T 28181 channel as the edge (and anything else outside the bridge) names it:
// `gb28181://<device id>/<channel id>`, both 20-digit GB/T 28181 codes, and what both sides need to
// turn it into the bridge's live stream: where the bridge keeps its viewer token under a data
// directory, its viewer's default listener and the path of a channel's live stream. The bridge
// (gb28181/) serves these; the edge reads them; neither imports the other.
import { join } from 'node:path';

export const GB28181_SCHEME = 'gb28181:';

export interface GbAddress {
  deviceId: string;
  channelId: string;
}

const ADDRESS = /^gb28181:\/\/(\d{20})\/(\d{20})\/?$/i;
const GB_ID = /^\d{20}$/;

/** The device and channel of a `gb28181://` address; undefined when it is not one. */
export function parseGbAddress(url: string): GbAddress | undefined {
  const m = ADDRESS.exec(url.trim());
  return m ? { deviceId: m[1]!, channelId: m[2]! } : undefined;
}

/**
 * Like parseGbAddress, but says what is wrong: `field` is the part at fault (`deviceId`,
 * `channelId`, or `address` when the shape itself is wrong). The problem quotes at most 40
 * characters of a bad id.
 */
export function checkGbAddress(url: string): { address: GbAddress } | { problem: string; field: 'address' | 'deviceId' | 'channelId' } {
  const m = /^gb28181:\/\/([^/]*)\/([^/]*)\/?$/i.exec(url.trim());
  if (!m) return { problem: 'a GB/T 28181 channel is written gb28181://<device id>/<channel id>', field: 'address' };
  const [, deviceId = '', channelId = ''] = m;
  const quote = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
  if (!GB_ID.test(deviceId)) return { problem: `the device id ${quote(deviceId)} is not a 20-digit GB/T 28181 code`, field: 'deviceId' };
  if (!GB_ID.test(channelId)) return { problem: `the channel id ${quote(channelId)} is not a 20-digit GB/T 28181 code`, field: 'channelId' };
  return { address: { deviceId, channelId } };
}

export function formatGbAddress(a: GbAddress): string {
  if (!GB_ID.test(a.deviceId) || !GB_ID.test(a.channelId)) throw new RangeError('device and channel ids are 20 digits');
  return `gb28181://${a.deviceId}/${a.channelId}`;
}

export function isGbAddress(url: string): boolean {
  return url.trim().toLowerCase().startsWith('gb28181://');
}

// ---- the bridge's viewer, as others reach it ----------------------------------------------------

/** The viewer's default listener (gb28181.http.listen): loopback, so by default only this machine views. */
export const GB28181_VIEW_LISTEN = '127.0.0.1:9092';

/** The bridge's own folder under the data directory (its device store, cascade state, viewer token). */
export function gbDataDir(dataDir: string): string {
  return join(dataDir, 'gb28181');
}

/** The viewer token's file: made by the bridge at its first start (mode 0600), read by the edge on the same server. */
export function gbViewTokenFile(dataDir: string): string {
  return join(gbDataDir(dataDir), 'view.token');
}

/**
 * The bridge's admin token's file (same dir, 0600): the Bearer of its /api/, and what a trusted
 * consumer on the same server (the edge role) sends so that its many channels are not held to the
 * per-address viewer limit meant for browsers.
 */
export function gbAdminTokenFile(dataDir: string): string {
  return join(gbDataDir(dataDir), 'admin.token');
}

/** What a viewer token looks like (the bridge makes 32 base64url characters). */
export const GB28181_VIEW_TOKEN = /^[A-Za-z0-9_-]{20,256}$/;

/** The base URL of a viewer listening on `listen` (host:port), as reached from this machine. */
export function gbViewBaseUrl(listen: string = GB28181_VIEW_LISTEN): string {
  const host = listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
  return `http://${host}`;
}

/**
 * A channel's live stream: `mp4` is fragmented MP4 (H.264 channels; an H.265 channel answers 415),
 * `mjpeg` is multipart MJPEG that the bridge transcodes (any codec).
 */
export type GbLiveFormat = 'mp4' | 'mjpeg';

/** `/live/<device>/<channel>.<format>` */
export function gbLivePath(a: GbAddress, format: GbLiveFormat): string {
  return `/live/${encodeURIComponent(a.deviceId)}/${encodeURIComponent(a.channelId)}.${format}`;
}

/** The live stream's URL at the viewer `base` (http(s)://host:port): it carries the token, so never log it. */
export function gbLiveUrl(base: string, a: GbAddress, format: GbLiveFormat, token: string): string {
  return `${base.replace(/\/+$/, '')}${gbLivePath(a, format)}?token=${encodeURIComponent(token)}`;
}
