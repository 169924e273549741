// Requests from devices, by SIP method, each to its own processor; every one is answered.
import type { GbContext } from '../../GbContext.ts';
import { makeResponse, type Remote, type Request, type Response } from '../SipMessage.ts';
import { onBye } from './bye.ts';
import { onMessage } from './message.ts';
import { onRegister } from './register.ts';

const ALLOW = 'REGISTER, MESSAGE, BYE, ACK, OPTIONS';

export async function dispatchRequest(ctx: GbContext, rq: Request, remote: Remote): Promise<Response | undefined> {
  switch (rq.method.toUpperCase()) {
    case 'REGISTER':
      return onRegister(ctx, rq, remote);
    case 'MESSAGE':
      return onMessage(ctx, rq, remote);
    case 'BYE':
      return onBye(ctx, rq);
    case 'ACK':
      return undefined; // ACKs of our 200s to nothing (we do not accept INVITEs): nothing to do
    case 'OPTIONS':
      return makeResponse(rq, 200, 'OK', { headers: { allow: ALLOW } });
    default:
      return makeResponse(rq, 405, 'Method Not Allowed', { headers: { allow: ALLOW } });
  }
}
