// Notify/Keepalive (§9.6): the device is alive (and, behind NAT, where it is now). An unknown or
// expired device gets 404, which makes it register again.
import type { GbContext } from '../GbContext.ts';
import type { ManscdpRequest } from './dispatch.ts';

export function onKeepalive(ctx: GbContext, m: ManscdpRequest): number {
  return ctx.registry.keepalive(m.deviceId, m.remote) ? 200 : 404;
}
