// Response/Catalog (pages of the device's channels) and Notify/Catalog (channel changes, §9.7.4).
import type { GbContext } from '../GbContext.ts';
import type { ManscdpRequest } from './dispatch.ts';

export async function onCatalogResponse(ctx: GbContext, m: ManscdpRequest): Promise<number> {
  await ctx.catalog.page(m.deviceId, m.sn, m.root);
  return 200;
}

export async function onCatalogNotify(ctx: GbContext, m: ManscdpRequest): Promise<number> {
  await ctx.catalog.notify(m.deviceId, m.root);
  return 200;
}
