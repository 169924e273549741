// BYE from a device: it ends a live stream we INVITEd (200, and the media closes), or it names no
// dialog of ours (481).
import type { GbContext } from '../../GbContext.ts';
import { makeResponse, type Request, type Response } from '../SipMessage.ts';

export function onBye(ctx: GbContext, rq: Request): Response {
  if (ctx.live.deviceBye(rq.headers['call-id'])) return makeResponse(rq, 200, 'OK');
  return makeResponse(rq, 481, 'Call/Transaction Does Not Exist');
}
