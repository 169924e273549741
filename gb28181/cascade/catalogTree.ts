// What an upper platform's Catalog query gets: our channels grouped by mine. One business group
// (type 215, named gb28181.cascade[].groupName) holds a virtual organisation (type 216) per mine
// device registered with us (ParentID and BusinessGroupID: the group), and every channel of that
// device hangs under its mine's node (ParentID: the 216 id). Status is ON only when the channel says
// so and its device is online now. Ids are derived, so they stay the same from one query to the next.
import type { XmlFields } from '../../src/gb28181/manscdp.ts';
import type { ChannelRecord, DeviceRecord } from '../registry/DeviceStore.ts';

export interface CatalogSource {
  devices(): DeviceRecord[];
  channels(deviceId: string): ChannelRecord[];
}

/** `id` with its type code (characters 11–13) replaced by `type`. */
export function withType(id: string, type: string): string {
  return `${id.slice(0, 10)}${type}${id.slice(13)}`;
}

export function businessGroupId(localId: string): string {
  return withType(localId, '215');
}

/** The 216 node of each device, in device-id order; serials bumped on the rare collision. */
export function mineNodeIds(deviceIds: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const d of [...deviceIds].sort()) {
    let id = withType(d, '216');
    for (let serial = Number(id.slice(13)); used.has(id); ) {
      serial = (serial + 1) % 10_000_000;
      id = `${id.slice(0, 13)}${String(serial).padStart(7, '0')}`;
    }
    used.add(id);
    out.set(d, id);
  }
  return out;
}

function isOn(status: string): boolean {
  return /^(on|online|ok)$/i.test(status);
}

/** Every catalog item, business group first, then each mine and its channels. */
export function catalogItems(source: CatalogSource, localId: string, groupName: string): XmlFields[] {
  const group = businessGroupId(localId);
  const devices = source.devices().sort((a, b) => (a.id < b.id ? -1 : 1));
  const nodes = mineNodeIds(devices.map((d) => d.id));
  const items: XmlFields[] = [{ DeviceID: group, Name: groupName }];
  for (const d of devices) {
    const node = nodes.get(d.id)!;
    items.push({ DeviceID: node, Name: d.name || d.id, ParentID: group, BusinessGroupID: group });
    for (const c of source.channels(d.id)) {
      if (c.id === node || c.id === group) continue;
      items.push({
        DeviceID: c.id,
        Name: c.name || c.id,
        Manufacturer: c.manufacturer || d.manufacturer || 'unknown',
        Model: c.model || d.model || 'unknown',
        Owner: '0',
        CivilCode: c.civilCode || c.id.slice(0, 6),
        Address: c.address || '',
        Parental: 0,
        ParentID: node,
        BusinessGroupID: group,
        SafetyWay: 0,
        RegisterWay: 1,
        Secrecy: 0,
        Status: d.online && isOn(c.status) ? 'ON' : 'OFF',
        ...(c.longitude !== undefined ? { Longitude: c.longitude } : {}),
        ...(c.latitude !== undefined ? { Latitude: c.latitude } : {}),
      });
    }
  }
  return items;
}

/** The Response documents of a catalog answer: SumNum the whole count, DeviceList Num per page. */
export function catalogPages(items: readonly XmlFields[], localId: string, sn: number, pageSize: number): XmlFields[] {
  const size = Math.max(1, Math.floor(pageSize));
  const pages: XmlFields[] = [];
  for (let i = 0; i < items.length || (i === 0 && pages.length === 0); i += size) {
    const page = items.slice(i, i + size);
    pages.push({ CmdType: 'Catalog', SN: sn, DeviceID: localId, SumNum: items.length, DeviceList: { '@Num': page.length, Item: page as XmlFields[] } });
    if (!items.length) break;
  }
  return pages;
}
