// The gb28181 role's commands: `eseal gb28181 devices [--json]` and `eseal gb28181 play <device> <channel>`.
// They read the role's store read-only, so they work beside a running bridge (LMDB readers never
// block its writer).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_OPTION, formatTable, type Command } from '../src/cli/command.ts';
import { formatJsonTime } from '../src/contract/time.ts';
import type { GbRoleConfig } from './config.ts';
import { GbUnknownChannel, GbUnknownDevice } from './errors.ts';
import { DeviceStore, type ChannelRecord, type DeviceRecord } from './registry/DeviceStore.ts';
import { gbDataDir, loadOrCreateViewToken, playUrl } from './viewToken.ts';
import { cascadeCommand } from './cascade/cli.ts';

export interface DeviceView {
  id: string;
  name: string;
  online: boolean;
  transport: 'UDP' | 'TCP';
  address: string;
  version: string;
  manufacturer: string;
  model: string;
  lastKeepalive: string;
  lastKeepaliveAt: number;
  channels: { id: string; name: string; status: string }[];
}

async function withStore<T>(cfg: GbRoleConfig, fn: (s: DeviceStore | undefined) => T | Promise<T>): Promise<T> {
  const dir = gbDataDir(cfg.dataDir);
  if (!existsSync(join(dir, 'data.mdb'))) return fn(undefined);
  const store = DeviceStore.open(dir, true);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Online as the CLI sees it: the service's flag, unless its keepalives or registration have run out since (a stopped bridge). */
export function isOnline(d: DeviceRecord, cfg: GbRoleConfig, now = Date.now()): boolean {
  return d.online && d.expiresAt > now && now - d.lastKeepaliveAt <= d.keepaliveSeconds * 1000 * cfg.gb28181.sip.keepaliveMisses;
}

export function deviceViews(store: DeviceStore, cfg: GbRoleConfig, now = Date.now()): DeviceView[] {
  return store.devices().map((d) => ({
    id: d.id,
    name: d.name,
    online: isOnline(d, cfg, now),
    transport: d.transport,
    address: `${d.address}:${d.port}`,
    version: d.version,
    manufacturer: d.manufacturer,
    model: d.model,
    lastKeepalive: d.lastKeepaliveAt ? formatJsonTime(d.lastKeepaliveAt) : '',
    lastKeepaliveAt: d.lastKeepaliveAt,
    channels: store.channels(d.id).map((c: ChannelRecord) => ({ id: c.id, name: c.name, status: c.status })),
  }));
}

export const commands: Command<GbRoleConfig>[] = [
  {
    name: 'devices',
    summary: 'list the GB/T 28181 devices that registered, with their channels',
    usage: '[--json] [--config FILE]',
    options: { ...CONFIG_OPTION, json: { type: 'boolean' } },
    help: ['  --json   one JSON document: [{ id, name, online, transport, address, lastKeepalive, channels: [{ id, name, status }] }]'],
    async run({ values, config, io }) {
      const cfg = await config();
      const views = await withStore(cfg, (s) => (s ? deviceViews(s, cfg) : []));
      if (values['json']) {
        io.out(JSON.stringify(views, null, 2));
        return;
      }
      if (!views.length) {
        io.out('no device has registered yet');
        return;
      }
      const rows: string[][] = [];
      for (const d of views) {
        rows.push([d.id, d.name, d.online ? 'online' : 'offline', d.transport, d.address, d.lastKeepalive]);
        for (const c of d.channels) rows.push([`  ${c.id}`, c.name, c.status, '', '', '']);
      }
      for (const line of formatTable(['DEVICE / CHANNEL', 'NAME', 'STATE', 'TRANSPORT', 'ADDRESS', 'LAST KEEPALIVE (Beijing)'], rows)) io.out(line);
    },
  },
  {
    name: 'play',
    summary: "print the URL that plays a channel in the bridge's viewer",
    usage: '<device> <channel> [--config FILE]',
    options: CONFIG_OPTION,
    async run({ positionals, config, io }) {
      const [deviceId, channelId] = positionals;
      if (!deviceId || !channelId || !/^\d{20}$/.test(deviceId) || !/^\d{20}$/.test(channelId)) {
        throw GbUnknownChannel('usage: eseal gb28181 play <20-digit device id> <20-digit channel id>', { field: 'channel' });
      }
      const cfg = await config();
      await withStore(cfg, (s) => {
        if (!s?.device(deviceId)) throw GbUnknownDevice(`device ${deviceId} has never registered (eseal gb28181 devices lists those that did)`, { field: 'device' });
        if (channelId !== deviceId && !s.channel(deviceId, channelId)) throw GbUnknownChannel(`device ${deviceId} has no channel ${channelId} in its catalog`, { field: 'channel' });
      });
      io.out(playUrl(cfg.gb28181.http.listen, loadOrCreateViewToken(cfg.dataDir), deviceId, channelId));
    },
  },
  cascadeCommand,
];
