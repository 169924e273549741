// MESSAGE (GB/T 28181 §9.3, MANSCDP): from a device the registry knows as registered, else 404 (it
// registers again). The body is decoded from its real charset, parsed, and dispatched by root and
// CmdType to gb28181/message/. Bad XML: 400. A CmdType we do not handle: 200 (logged), so the
// device does not retry it.
import { decodeBody, latin1ToBytes } from '../../../src/gb28181/charset.ts';
import { isGbId } from '../../../src/gb28181/ids.ts';
import { parseXml } from '../../../src/gb28181/manscdp.ts';
import type { GbContext } from '../../GbContext.ts';
import { dispatchManscdp } from '../../message/dispatch.ts';
import { makeResponse, userOf, type Remote, type Request, type Response } from '../SipMessage.ts';

export async function onMessage(ctx: GbContext, rq: Request, remote: Remote): Promise<Response> {
  const deviceId = userOf(rq.headers.from);
  if (!isGbId(deviceId)) return makeResponse(rq, 400, 'Bad Request: the From user must be a 20-digit GB/T 28181 id');
  const body = latin1ToBytes(rq.content ?? '');
  if (!body.length) return makeResponse(rq, 400, 'Bad Request: empty MESSAGE body');
  const decoded = decodeBody(body, typeof rq.headers['content-type'] === 'string' ? rq.headers['content-type'] : '');
  const xml = parseXml(decoded.text);
  if (!xml.ok) {
    ctx.log.debug({ deviceId, error: xml.error }, 'gb28181: MESSAGE with bad XML');
    return makeResponse(rq, 400, `Bad Request: ${xml.error.slice(0, 80)}`);
  }
  if (decoded.lying) ctx.log.debug({ deviceId, declared: decoded.declared, charset: decoded.charset }, 'gb28181: MANSCDP body not in its declared charset');
  const status = await dispatchManscdp(ctx, deviceId, xml.root, remote);
  const reasons: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 404: 'Not Found' };
  return makeResponse(rq, status, reasons[status] ?? 'OK');
}
