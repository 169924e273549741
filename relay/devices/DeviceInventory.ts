// What the relay knows of the devices that report to it, in its LMDB (no second database):
//   device-heartbeats   <account>\0<deviceId> → the last heartbeat of an edge (src/devices/heartbeat.ts)
//   device-calls        <account> → that account's calls: first and last, counts by endpoint,
//                       rejections, the last error, the addresses they came from
// Third-party devices send no heartbeat: they are known by their calls, per account (the only
// identity a mine device has towards the relay). Calls are counted in memory and written every few
// seconds in one transaction: a crash loses a few seconds of counts, never data, and the relay's
// hot path pays a Map update per call, not a disk write.
import type { CallError } from '../../src/contract/admin.ts';
import type { Database, RootDatabase } from 'lmdb';
import type { Heartbeat } from '../../src/devices/heartbeat.ts';
import { DeviceLimit } from './errors.ts';

export interface HeartbeatRecord {
  account: string;
  deviceId: string;
  receivedAt: number;
  /** the address it came from */
  address: string;
  heartbeat: Heartbeat;
}

export type { CallError };

export interface CallRecord {
  account: string;
  firstAt: number;
  lastAt: number;
  /** endpoint id → calls answered with success */
  calls: Record<string, number>;
  /** calls refused (any 4xx/5xx answer after the account was known) */
  rejected: number;
  lastError?: CallError;
  /** the most recent first, at most MAX_ADDRESSES */
  addresses: string[];
}

export interface DeviceInventoryOptions {
  /** calls are written this often (default 5000 ms) */
  flushMs?: number;
  /** heartbeating devices per account (default 64) */
  maxDevicesPerAccount?: number;
  /** heartbeating devices in all (default 20000) */
  maxDevices?: number;
}

export const MAX_ADDRESSES = 8;
const MAX_MSG = 200;

export class DeviceInventory {
  readonly #heartbeats: Database<HeartbeatRecord, string>;
  readonly #callsDb: Database<CallRecord, string>;
  readonly #calls = new Map<string, CallRecord>();
  readonly #dirty = new Set<string>();
  readonly #perAccount: number;
  readonly #max: number;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(root: RootDatabase, options: DeviceInventoryOptions = {}) {
    this.#heartbeats = root.openDB<HeartbeatRecord, string>({ name: 'device-heartbeats' });
    this.#callsDb = root.openDB<CallRecord, string>({ name: 'device-calls' });
    this.#perAccount = options.maxDevicesPerAccount ?? 64;
    this.#max = options.maxDevices ?? 20_000;
    for (const { key, value } of this.#callsDb.getRange({})) this.#calls.set(key, value);
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), options.flushMs ?? 5000);
    this.#timer.unref();
  }

  /** Keeps an edge's last heartbeat; a device new to the relay past the bounds is refused (ESEAL_ERR_DEVICE_LIMIT). */
  async heartbeat(account: string, address: string, heartbeat: Heartbeat, now = Date.now()): Promise<HeartbeatRecord> {
    const key = `${account}\u0000${heartbeat.deviceId}`;
    if (this.#heartbeats.get(key) === undefined) {
      const ofAccount = this.#heartbeats.getKeysCount({ start: `${account}\u0000`, end: `${account}\u0001` });
      if (ofAccount >= this.#perAccount) {
        throw DeviceLimit(`deviceId: account ${account} has ${ofAccount} heartbeating devices already, the most it may (ask the province to remove old ones)`, {
          field: 'deviceId',
        });
      }
      if (this.#heartbeats.getKeysCount() >= this.#max) throw DeviceLimit(`deviceId: the relay holds ${this.#max} heartbeating devices already`, { field: 'deviceId' });
    }
    const record: HeartbeatRecord = { account, deviceId: heartbeat.deviceId, receivedAt: now, address, heartbeat };
    await this.#heartbeats.put(key, record);
    return record;
  }

  heartbeats(): HeartbeatRecord[] {
    return [...this.#heartbeats.getRange({}).map(({ value }) => value)];
  }

  /** A call of `account` answered with success. */
  called(account: string, endpoint: string, address: string, now = Date.now()): void {
    const r = this.#record(account, address, now);
    r.calls[endpoint] = (r.calls[endpoint] ?? 0) + 1;
  }

  /** A call of `account` refused (after its token was read: calls without a valid token have no account). */
  rejected(account: string, endpoint: string, address: string, code: string, msg: string, now = Date.now()): void {
    const r = this.#record(account, address, now);
    r.rejected++;
    r.lastError = { at: now, endpoint, code: code.slice(0, MAX_MSG), msg: msg.slice(0, MAX_MSG) };
  }

  calls(): CallRecord[] {
    return [...this.#calls.values()].map((r) => ({ ...r, calls: { ...r.calls }, addresses: [...r.addresses] }));
  }

  #record(account: string, address: string, now: number): CallRecord {
    let r = this.#calls.get(account);
    if (!r) {
      r = { account, firstAt: now, lastAt: now, calls: {}, rejected: 0, addresses: [] };
      this.#calls.set(account, r);
    }
    r.lastAt = Math.max(r.lastAt, now);
    if (address && r.addresses[0] !== address) {
      r.addresses = [address, ...r.addresses.filter((a) => a !== address)].slice(0, MAX_ADDRESSES);
    }
    this.#dirty.add(account);
    return r;
  }

  /** Writes the counts changed since the last flush, in one transaction. */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => this.flush());
    if (!this.#dirty.size) return Promise.resolve();
    const batch = [...this.#dirty].map((a) => this.#calls.get(a)!);
    this.#dirty.clear();
    this.#flushing = this.#callsDb
      .transaction(() => {
        for (const r of batch) void this.#callsDb.put(r.account, r);
      })
      .then(
        () => undefined,
        () => {
          // written at the next flush
          for (const r of batch) this.#dirty.add(r.account);
        },
      )
      .finally(() => {
        this.#flushing = undefined;
      });
    return this.#flushing;
  }

  /** Stops the timer and writes what is pending (before the LMDB environment closes). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
