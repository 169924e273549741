// The gb28181 role's commands: `eseal gb28181 devices [--json]` and `eseal gb28181 play <device> <channel>
// [--stream sub]` read the role's store read-only, so they work beside a running bridge (LMDB readers
// never block its writer). `eseal gb28181 catalog <device>` asks the running bridge itself, through
// the operators' API on its viewer listener (POST /api/devices/<id>/catalog, from loopback, with the
// Bearer token of dataDir/gb28181/admin.token that the bridge made).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_OPTION, formatTable, type Command } from '../src/cli/command.ts';
import { errorCatalogue } from '../src/errors.ts';
import { parseStreamSelector, streamName } from '../src/gb28181/sdp.ts';
import { formatJsonTime } from '../src/contract/time.ts';
import type { GbRoleConfig } from './config.ts';
import { GbNotRunning, GbUnknownChannel, GbUnknownDevice } from './errors.ts';
import { DeviceStore, type ChannelRecord, type DeviceRecord } from './registry/DeviceStore.ts';
import { ADMIN_TOKEN_FILE, gbDataDir, loadOrCreateViewToken, playUrl } from './viewToken.ts';
import { cascadeCommand } from './cascade/cli.ts';
import './view/errors.ts'; // the viewer's codes in the catalogue: its answers are rethrown as themselves

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

/** The running bridge's address for a client on this machine (a wildcard listen is reached on loopback). */
function localHttp(listen: string): string {
  return listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

interface CatalogAnswer {
  deviceId: string;
  channels: { id: string; name: string; status: string }[];
}

/** POST /api/devices/<id>/catalog to the running bridge; its coded error is thrown as is. */
async function askCatalog(cfg: GbRoleConfig, deviceId: string): Promise<CatalogAnswer> {
  let token: string;
  try {
    token = readFileSync(join(gbDataDir(cfg.dataDir), ADMIN_TOKEN_FILE), 'utf8').trim();
  } catch (err) {
    throw GbNotRunning(`no ${join(gbDataDir(cfg.dataDir), ADMIN_TOKEN_FILE)}: the bridge has not run with this dataDir (eseal start --roles gb28181)`, { cause: err });
  }
  const url = `http://${localHttp(cfg.gb28181.http.listen)}/api/devices/${deviceId}/catalog`;
  let res: Response;
  try {
    // the bridge waits for every catalog page: up to its SIP transaction time
    res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout((cfg.gb28181.sip.transactionSeconds + 10) * 1000) });
  } catch (err) {
    throw GbNotRunning(`no gb28181 bridge answers at ${url} (${(err as Error).message}): is it running, with this gb28181.http.listen?`, { cause: err });
  }
  const body = (await res.json().catch(() => undefined)) as { code?: unknown; msg?: unknown; data?: CatalogAnswer } | undefined;
  if (res.ok && body?.code === 0 && body.data && Array.isArray(body.data.channels)) return body.data;
  const kind = typeof body?.code === 'string' ? errorCatalogue().get(body.code) : undefined;
  const msg = typeof body?.msg === 'string' ? body.msg : `HTTP ${res.status}`;
  throw kind ? kind(msg) : GbNotRunning(`the bridge at ${url} answered ${res.status}: ${msg}`);
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
    usage: '<device> <channel> [--stream main|sub] [--config FILE]',
    options: { ...CONFIG_OPTION, stream: { type: 'string' } },
    help: ['  --stream main|sub   the camera\'s main stream (default) or its smaller sub stream (also 0–3)'],
    async run({ positionals, values, config, io }) {
      const stream = parseStreamSelector(values['stream'] as string | undefined);
      if (stream === undefined) throw GbUnknownChannel(`--stream: main, sub or a stream number 0–3, got ${JSON.stringify(values['stream'])}`, { field: 'stream' });
      const [deviceId, channelId] = positionals;
      if (!deviceId || !channelId || !/^\d{20}$/.test(deviceId) || !/^\d{20}$/.test(channelId)) {
        throw GbUnknownChannel('usage: eseal gb28181 play <20-digit device id> <20-digit channel id>', { field: 'channel' });
      }
      const cfg = await config();
      await withStore(cfg, (s) => {
        if (!s?.device(deviceId)) throw GbUnknownDevice(`device ${deviceId} has never registered (eseal gb28181 devices lists those that did)`, { field: 'device' });
        if (channelId !== deviceId && !s.channel(deviceId, channelId)) throw GbUnknownChannel(`device ${deviceId} has no channel ${channelId} in its catalog`, { field: 'channel' });
      });
      const url = playUrl(cfg.gb28181.http.listen, loadOrCreateViewToken(cfg.dataDir), deviceId, channelId);
      io.out(stream ? `${url}&stream=${streamName(stream)}` : url);
    },
  },
  {
    name: 'catalog',
    summary: 'ask a registered device for its catalog again, through the running bridge',
    usage: '<device> [--json] [--config FILE]',
    options: { ...CONFIG_OPTION, json: { type: 'boolean' } },
    help: ['  --json   one JSON document: { deviceId, channels: [{ id, name, status }] }', '  needs the bridge running on this machine (gb28181.http.listen) and dataDir/gb28181/admin.token'],
    async run({ positionals, values, config, io }) {
      const [deviceId] = positionals;
      if (!deviceId || !/^\d{20}$/.test(deviceId)) throw GbUnknownDevice('usage: eseal gb28181 catalog <20-digit device id>', { field: 'device' });
      const cfg = await config();
      const data = await askCatalog(cfg, deviceId);
      if (values['json']) {
        io.out(JSON.stringify(data, null, 2));
        return;
      }
      io.out(`${data.channels.length} channel(s) of ${data.deviceId}`);
      for (const line of formatTable(['CHANNEL', 'NAME', 'STATUS'], data.channels.map((c) => [c.id, c.name, c.status]))) io.out(line);
    },
  },
  cascadeCommand,
];
