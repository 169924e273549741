// Who is registered, where they are, and whether they are alive. The records live in memory and are
// written through to the DeviceStore. A device is online from a successful REGISTER until it
// unregisters, its registration runs out, or it misses `keepaliveMisses` keepalive intervals.
// NAT rebinding: a REGISTER or keepalive from a new address:port moves the device there.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Remote } from '../sip/SipMessage.ts';
import type { DeviceRecord, DeviceStore } from './DeviceStore.ts';

export interface RegistryOptions {
  keepaliveSeconds: number;
  keepaliveMisses: number;
  maxDevices: number;
}

export type OfflineReason = 'keepalive' | 'expired' | 'unregistered' | 'connection';

export interface RegistryEvents {
  /** a device came online (REGISTER, or a keepalive after a restart); `rebound` when its address changed */
  online: [device: DeviceRecord];
  offline: [device: DeviceRecord, reason: OfflineReason];
  rebound: [device: DeviceRecord, from: Remote];
}

export function remoteOf(d: DeviceRecord): Remote {
  return { protocol: d.transport, address: d.address, port: d.port };
}

function sameRemote(d: DeviceRecord, r: Remote): boolean {
  return d.transport === r.protocol && d.address === r.address && d.port === r.port;
}

export class Registry extends EventEmitter<RegistryEvents> {
  readonly #devices = new Map<string, DeviceRecord>();
  readonly #store: DeviceStore;
  readonly #options: RegistryOptions;
  readonly #log: Logger;
  #timer?: NodeJS.Timeout;

  constructor(store: DeviceStore, options: RegistryOptions, log: Logger) {
    super();
    this.#store = store;
    this.#options = options;
    this.#log = log;
  }

  /** Reads the stored devices (every one offline until it registers or keepalives) and starts the watchdog. */
  async start(): Promise<void> {
    for (const d of this.#store.devices()) {
      if (d.online) {
        d.online = false;
        await this.#store.putDevice(d);
      }
      this.#devices.set(d.id, d);
    }
    // the watchdog looks often enough to notice a missed keepalive within a quarter interval
    const tick = Math.max(100, Math.min(1000, (this.#options.keepaliveSeconds * 1000) / 4));
    this.#timer = setInterval(() => this.#watch(Date.now()), tick);
    this.#timer.unref();
  }

  get(id: string): DeviceRecord | undefined {
    return this.#devices.get(id);
  }

  all(): DeviceRecord[] {
    return [...this.#devices.values()];
  }

  get onlineCount(): number {
    let n = 0;
    for (const d of this.#devices.values()) if (d.online) n++;
    return n;
  }

  /** Whether one more device may register. */
  hasRoomFor(id: string): boolean {
    return this.#devices.has(id) || this.#devices.size < this.#options.maxDevices;
  }

  #save(d: DeviceRecord): void {
    this.#store.putDevice(d).catch((err: unknown) => this.#log.error({ err, deviceId: d.id }, 'gb28181: cannot store a device'));
  }

  #move(d: DeviceRecord, remote: Remote): void {
    if (sameRemote(d, remote)) return;
    const from = remoteOf(d);
    d.transport = remote.protocol;
    d.address = remote.address;
    d.port = remote.port;
    if (d.online) {
      this.#log.info({ deviceId: d.id, from: `${from.address}:${from.port}`, to: `${remote.address}:${remote.port}` }, 'gb28181: device moved (NAT rebinding)');
      this.emit('rebound', d, from);
    }
  }

  /** A successful REGISTER with `expires` > 0. Returns the record and whether the device just came online. */
  register(id: string, remote: Remote, expires: number, extra: { version?: string; name?: string }, now = Date.now()): { device: DeviceRecord; cameOnline: boolean } {
    let d = this.#devices.get(id);
    if (!d) {
      d = {
        id,
        name: extra.name ?? '',
        manufacturer: '',
        model: '',
        firmware: '',
        transport: remote.protocol,
        address: remote.address,
        port: remote.port,
        online: false,
        registeredAt: now,
        expiresAt: 0,
        lastKeepaliveAt: 0,
        keepaliveSeconds: this.#options.keepaliveSeconds,
        version: '',
        channelCount: 0,
        status: {},
      };
      this.#devices.set(id, d);
    }
    this.#move(d, remote);
    if (extra.version) d.version = extra.version;
    if (extra.name && !d.name) d.name = extra.name;
    const cameOnline = !d.online;
    d.online = true;
    d.registeredAt = now;
    d.expiresAt = now + expires * 1000;
    d.lastKeepaliveAt = now;
    this.#save(d);
    if (cameOnline) this.emit('online', d);
    return { device: d, cameOnline };
  }

  /** REGISTER with Expires: 0. */
  unregister(id: string): void {
    const d = this.#devices.get(id);
    if (!d) return;
    d.expiresAt = Date.now();
    this.#offline(d, 'unregistered');
  }

  /**
   * A keepalive (or any MESSAGE) from `id` at `remote`. Accepted from an online device, and from a
   * stored one whose registration has not run out (the bridge restarted meanwhile: devices do not
   * register again before their expiry). Otherwise 'unknown': the caller answers 404 and the device
   * registers again.
   */
  keepalive(id: string, remote: Remote, now = Date.now()): DeviceRecord | undefined {
    const d = this.#devices.get(id);
    if (!d) return undefined;
    if (!d.online && !(d.expiresAt > now)) return undefined;
    if (d.lastKeepaliveAt) {
      // learn the device's interval: the gap between keepalives, when longer than assumed
      const gap = Math.ceil((now - d.lastKeepaliveAt) / 1000);
      if (gap > d.keepaliveSeconds && gap <= 3600 && d.online) d.keepaliveSeconds = gap;
    }
    this.#move(d, remote);
    d.lastKeepaliveAt = now;
    const cameOnline = !d.online;
    d.online = true;
    this.#save(d);
    if (cameOnline) this.emit('online', d);
    return d;
  }

  /** Another MESSAGE from the device: it is alive, but its interval is not learnt from it. */
  seen(id: string, remote: Remote): DeviceRecord | undefined {
    const d = this.#devices.get(id);
    if (!d?.online) return undefined;
    this.#move(d, remote);
    return d;
  }

  /** Facts learnt about the device (DeviceInfo, DeviceStatus, catalog size, position). */
  update(id: string, change: (d: DeviceRecord) => void): void {
    const d = this.#devices.get(id);
    if (!d) return;
    change(d);
    this.#save(d);
  }

  /** A TCP connection closed: the device on it is unreachable until it connects and registers again. */
  connectionLost(remote: Remote): void {
    for (const d of this.#devices.values()) if (d.online && sameRemote(d, remote)) this.#offline(d, 'connection');
  }

  #offline(d: DeviceRecord, reason: OfflineReason): void {
    const was = d.online;
    d.online = false;
    this.#save(d);
    if (was) {
      this.#log.info({ deviceId: d.id, reason }, 'gb28181: device offline');
      this.emit('offline', d, reason);
    }
  }

  #watch(now: number): void {
    for (const d of this.#devices.values()) {
      if (!d.online) continue;
      if (d.expiresAt <= now) this.#offline(d, 'expired');
      else if (now - d.lastKeepaliveAt > d.keepaliveSeconds * 1000 * this.#options.keepaliveMisses) this.#offline(d, 'keepalive');
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
