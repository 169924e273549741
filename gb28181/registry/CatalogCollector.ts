// Catalog answers come in pages (GB/T 28181 §A.2.6: SumNum = the whole count, DeviceList Num = this
// page's), often out of order, sometimes twice, sometimes short of SumNum. Pages are stored as they
// come (a partial catalog is better than none); the query is answered when SumNum distinct channels
// have arrived, or, when the device never sends them all, at the query's timeout with what came.
import type { Logger } from 'pino';
import type { XmlElement } from '../../src/gb28181/manscdp.ts';
import { childText, children, child } from '../../src/gb28181/manscdp.ts';
import type { QueryWaiters } from '../commander/QueryWaiters.ts';
import type { ChannelRecord, DeviceStore } from './DeviceStore.ts';
import type { Registry } from './Registry.ts';

const KNOWN = new Set(['deviceid', 'name', 'manufacturer', 'model', 'parentid', 'civilcode', 'address', 'status', 'longitude', 'latitude', 'event']);

/** A catalog `<Item>` as a channel record; undefined when it has no 20-digit DeviceID. */
export function channelFromItem(deviceId: string, item: XmlElement, now = Date.now()): (ChannelRecord & { event: string }) | undefined {
  const id = childText(item, 'DeviceID');
  if (!/^\d{20}$/.test(id)) return undefined;
  const extra: Record<string, string> = {};
  for (const c of item.children) {
    const k = c.name.toLowerCase();
    if (KNOWN.has(k)) continue;
    if (c.children.length) for (const cc of c.children) extra[`${c.name}.${cc.name}`] = cc.text.slice(0, 256);
    else extra[c.name] = c.text.slice(0, 256);
    if (Object.keys(extra).length >= 64) break;
  }
  const num = (name: string) => {
    const v = Number(childText(item, name));
    return childText(item, name) !== '' && Number.isFinite(v) ? v : undefined;
  };
  const longitude = num('Longitude');
  const latitude = num('Latitude');
  return {
    deviceId,
    id,
    name: childText(item, 'Name').slice(0, 128),
    manufacturer: childText(item, 'Manufacturer').slice(0, 64),
    model: childText(item, 'Model').slice(0, 64),
    parentId: childText(item, 'ParentID').slice(0, 64),
    civilCode: childText(item, 'CivilCode').slice(0, 32),
    address: childText(item, 'Address').slice(0, 128),
    status: (childText(item, 'Status') || 'ON').toUpperCase().slice(0, 16),
    ...(longitude !== undefined ? { longitude } : {}),
    ...(latitude !== undefined ? { latitude } : {}),
    extra,
    updatedAt: now,
    event: childText(item, 'Event').toUpperCase(),
  };
}

interface Collecting {
  sumNum: number;
  items: Map<string, ChannelRecord>;
  startedAt: number;
}

export class CatalogCollector {
  readonly #collecting = new Map<string, Collecting>();
  readonly #store: DeviceStore;
  readonly #registry: Registry;
  readonly #waiters: QueryWaiters;
  readonly #maxChannels: number;
  readonly #log: Logger;

  constructor(store: DeviceStore, registry: Registry, waiters: QueryWaiters, maxChannels: number, log: Logger) {
    this.#store = store;
    this.#registry = registry;
    this.#waiters = waiters;
    this.#maxChannels = maxChannels;
    this.#log = log;
  }

  /** A page of a catalog answer (`root` is its <Response>). */
  async page(deviceId: string, sn: number, root: XmlElement): Promise<void> {
    const sumNum = Math.max(0, Math.min(Number(childText(root, 'SumNum')) || 0, this.#maxChannels));
    const key = `${deviceId}|${sn}`;
    const now = Date.now();
    for (const [k, c] of this.#collecting) if (now - c.startedAt > 120_000) this.#collecting.delete(k);
    let c = this.#collecting.get(key);
    if (!c) {
      c = { sumNum, items: new Map(), startedAt: now };
      this.#collecting.set(key, c);
    }
    const fresh: ChannelRecord[] = [];
    for (const item of children(child(root, 'DeviceList'), 'Item')) {
      const ch = channelFromItem(deviceId, item, now);
      if (!ch) continue;
      if (c.items.size >= this.#maxChannels && !c.items.has(ch.id)) break;
      const { event: _event, ...record } = ch;
      c.items.set(ch.id, record);
      fresh.push(record);
    }
    if (fresh.length) await this.#store.putChannels(fresh);
    if (c.items.size >= c.sumNum) {
      this.#collecting.delete(key);
      this.#registry.update(deviceId, (d) => (d.channelCount = c.sumNum));
      this.#waiters.settle(deviceId, 'Catalog', sn, [...c.items.values()]);
    }
  }

  /** What arrived so far for the query `sn` (its timeout answers with it). */
  partial(deviceId: string, sn: number): ChannelRecord[] {
    return [...(this.#collecting.get(`${deviceId}|${sn}`)?.items.values() ?? [])];
  }

  /** A catalog Notify: channel changes (ADD / UPDATE / DEL / ON / OFF / VLOST / DEFECT). */
  async notify(deviceId: string, root: XmlElement): Promise<number> {
    const now = Date.now();
    let n = 0;
    const puts: ChannelRecord[] = [];
    for (const item of children(child(root, 'DeviceList'), 'Item')) {
      const ch = channelFromItem(deviceId, item, now);
      if (!ch) continue;
      const { event, ...record } = ch;
      n++;
      if (event === 'DEL') {
        await this.#store.removeChannel(deviceId, ch.id);
        continue;
      }
      const old = this.#store.channel(deviceId, ch.id);
      if (event === 'ON' || event === 'OFF' || event === 'VLOST' || event === 'DEFECT') {
        if (old) puts.push({ ...old, status: event === 'ON' ? 'ON' : 'OFF', updatedAt: now });
        continue;
      }
      if (!old && this.#store.channels(deviceId).length >= this.#maxChannels) {
        this.#log.warn({ deviceId, channelId: ch.id }, 'gb28181: channel limit reached; a new channel is ignored');
        continue;
      }
      puts.push(old ? { ...old, ...record, name: record.name || old.name } : record);
    }
    if (puts.length) await this.#store.putChannels(puts);
    return n;
  }
}
