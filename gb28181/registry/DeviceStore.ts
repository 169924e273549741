// Devices, their channels, alarms and positions in LMDB (dataDir/gb28181, its own environment, so the
// bridge can run on a server of its own). What survives a restart: every device ever registered
// with its last address, catalog and facts; they come back offline until they register again.
import type { Database, RootDatabase } from 'lmdb';
import { openLmdb } from '../../src/store/lmdb/open.ts';

export interface DeviceRecord {
  id: string;
  /** from DeviceInfo (DeviceName) or the configuration */
  name: string;
  manufacturer: string;
  model: string;
  firmware: string;
  /** how it reached us last */
  transport: 'UDP' | 'TCP';
  address: string;
  port: number;
  online: boolean;
  registeredAt: number;
  /** when its registration runs out (ms since epoch) */
  expiresAt: number;
  lastKeepaliveAt: number;
  /** keepalive interval we expect from it */
  keepaliveSeconds: number;
  /** '2016' / '2022' when known (from the REGISTER's X-GB-Ver or the catalog's fields), else '' */
  version: string;
  /** the number of channels the device says it has (Catalog SumNum) */
  channelCount: number;
  /** DeviceStatus: Online, Status, Record, Encode… as the device wrote them */
  status: Record<string, string>;
  position?: { longitude: number; latitude: number; speed?: number; direction?: number; time: string; at: number };
}

export interface ChannelRecord {
  deviceId: string;
  id: string;
  name: string;
  manufacturer: string;
  model: string;
  parentId: string;
  civilCode: string;
  address: string;
  /** ON / OFF as the device says (normalised to upper case) */
  status: string;
  longitude?: number;
  latitude?: number;
  /** the catalog item's other fields (2022: BusinessGroupID, PTZType…) */
  extra: Record<string, string>;
  updatedAt: number;
}

export interface AlarmRecord {
  deviceId: string;
  /** the alarming device or channel */
  sourceId: string;
  priority: string;
  method: string;
  type: string;
  time: string;
  description: string;
  receivedAt: number;
}

export class DeviceStore {
  readonly #root: RootDatabase;
  readonly #devices: Database<DeviceRecord, string>;
  readonly #channels: Database<ChannelRecord, string>;
  readonly #alarms: Database<AlarmRecord, string>;
  #alarmSeq = 0;

  constructor(root: RootDatabase) {
    this.#root = root;
    this.#devices = root.openDB<DeviceRecord, string>({ name: 'gb-devices' });
    this.#channels = root.openDB<ChannelRecord, string>({ name: 'gb-channels' });
    this.#alarms = root.openDB<AlarmRecord, string>({ name: 'gb-alarms' });
  }

  /** Opens (or creates) the store at `dir` (dataDir/gb28181); `readOnly` for CLI commands beside a running service. */
  static open(dir: string, readOnly = false): DeviceStore {
    return new DeviceStore(openLmdb(dir, { readOnly, maxDbs: 16 }));
  }

  device(id: string): DeviceRecord | undefined {
    return this.#devices.get(id);
  }

  devices(): DeviceRecord[] {
    return [...this.#devices.getRange({}).map(({ value }) => value)];
  }

  putDevice(d: DeviceRecord): Promise<boolean> {
    return this.#devices.put(d.id, d);
  }

  channels(deviceId: string): ChannelRecord[] {
    return [...this.#channels.getRange({ start: `${deviceId}/`, end: `${deviceId}/~` }).map(({ value }) => value)];
  }

  channel(deviceId: string, channelId: string): ChannelRecord | undefined {
    return this.#channels.get(`${deviceId}/${channelId}`);
  }

  putChannels(channels: readonly ChannelRecord[]): Promise<void> {
    return this.#root.transaction(() => {
      for (const c of channels) void this.#channels.put(`${c.deviceId}/${c.id}`, c);
    }) as Promise<void>;
  }

  removeChannel(deviceId: string, channelId: string): Promise<boolean> {
    return this.#channels.remove(`${deviceId}/${channelId}`);
  }

  addAlarm(a: AlarmRecord): Promise<boolean> {
    // time-ordered keys; the sequence breaks ties within a millisecond
    const key = `${String(a.receivedAt).padStart(15, '0')}-${(this.#alarmSeq++ % 1e6).toString().padStart(6, '0')}`;
    return this.#alarms.put(key, a);
  }

  alarms(limit = 100): AlarmRecord[] {
    return [...this.#alarms.getRange({ reverse: true, limit }).map(({ value }) => value)];
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}
