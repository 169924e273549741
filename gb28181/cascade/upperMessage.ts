// MANSCDP from an upper platform, about us (its lower platform). Answered 200 at once, then, for a
// query, the answer goes in MESSAGEs of our own: Catalog in pages (SumNum the whole count, DeviceList
// Num per page, gb28181.cascade[].catalogPageSize items each, sent one after another), DeviceInfo and
// DeviceStatus about the bridge. Keepalives and notifications from it: 200. Bad XML: 400. Other
// commands (record queries, PTZ control…) are not relayed: 200, logged.
import type { Logger } from 'pino';
import { decodeBody, latin1ToBytes } from '../../src/gb28181/charset.ts';
import { childInt, childText, parseXml, type XmlFields } from '../../src/gb28181/manscdp.ts';
import { formatSipTime } from '../../src/gb28181/sipTime.ts';
import type { GbContext } from '../GbContext.ts';
import type { SipEndpoint } from '../sip/SipEndpoint.ts';
import { makeResponse, type Request, type Response } from '../sip/SipMessage.ts';
import { catalogItems, catalogPages } from './catalogTree.ts';
import type { UpperClient } from './UpperClient.ts';
import { MANSCDP_TYPE, manscdpBody, upperRequest, type UpperPeer } from './upperRequest.ts';

let cseq = Math.floor(Math.random() * 1_000_000);

/** Sends one Response document to the platform; resolves with the SIP status (0: no answer). */
export async function sendToUpper(endpoint: SipEndpoint, peer: UpperPeer, fields: XmlFields): Promise<number> {
  cseq = (cseq % 2_000_000_000) + 1;
  const rq = upperRequest(endpoint, peer, 'MESSAGE', { cseq, contentType: MANSCDP_TYPE, content: manscdpBody('Response', fields) });
  try {
    return (await endpoint.request(rq, peer.remote)).status;
  } catch {
    return 0;
  }
}

export function onUpperMessage(ctx: GbContext, platform: UpperClient, rq: Request): Response {
  const body = latin1ToBytes(rq.content ?? '');
  if (!body.length) return makeResponse(rq, 400, 'Bad Request: empty MESSAGE body');
  const xml = parseXml(decodeBody(body, typeof rq.headers['content-type'] === 'string' ? rq.headers['content-type'] : '').text);
  if (!xml.ok) return makeResponse(rq, 400, `Bad Request: ${xml.error.slice(0, 80)}`);
  const root = xml.root;
  const cmdType = childText(root, 'CmdType');
  if (!cmdType) return makeResponse(rq, 400, 'Bad Request: no CmdType');
  const sn = childInt(root, 'SN') ?? 0;
  const log = ctx.log.child({ upper: platform.peer.entry.id, cmdType, sn });
  if (root.name.toLowerCase() === 'query') {
    const answer = QUERIES[cmdType.toLowerCase()];
    if (answer) {
      // after our 200 has gone out
      setImmediate(() => void answer(ctx, platform, sn, childText(root, 'DeviceID'), log).catch((err: unknown) => log.warn({ err }, 'gb28181 cascade: answering a query failed')));
      return makeResponse(rq, 200, 'OK');
    }
  }
  if (!/^keepalive$/i.test(cmdType)) log.info({ root: root.name }, 'gb28181 cascade: MANSCDP command from the upper platform not handled; answered 200');
  return makeResponse(rq, 200, 'OK');
}

type QueryAnswer = (ctx: GbContext, platform: UpperClient, sn: number, askedId: string, log: Logger) => Promise<void>;

const QUERIES: Record<string, QueryAnswer> = {
  catalog: answerCatalog,
  deviceinfo: answerDeviceInfo,
  devicestatus: answerDeviceStatus,
};

async function answerCatalog(ctx: GbContext, platform: UpperClient, sn: number, _askedId: string, log: Logger): Promise<void> {
  const { entry, localId } = platform.peer;
  const items = catalogItems({ devices: () => ctx.registry.all(), channels: (id) => ctx.store.channels(id) }, localId, entry.groupName);
  const pages = catalogPages(items, localId, sn, entry.catalogPageSize);
  for (const [i, page] of pages.entries()) {
    const status = await sendToUpper(ctx.endpoint, platform.peer, page);
    if (status < 200 || status >= 300) {
      log.warn({ page: i + 1, pages: pages.length, status }, 'gb28181 cascade: a catalog page was not accepted; the rest is not sent');
      return;
    }
  }
  log.info({ items: items.length, pages: pages.length }, 'gb28181 cascade: catalog sent to the upper platform');
}

async function answerDeviceInfo(ctx: GbContext, platform: UpperClient, sn: number, askedId: string, log: Logger): Promise<void> {
  let channels = 0;
  for (const d of ctx.registry.all()) channels += ctx.store.channels(d.id).length;
  const status = await sendToUpper(ctx.endpoint, platform.peer, {
    CmdType: 'DeviceInfo',
    SN: sn,
    DeviceID: askedId || platform.peer.localId,
    DeviceName: platform.peer.entry.groupName,
    Result: 'OK',
    Manufacturer: 'eseal',
    Model: 'eseal-relay gb28181',
    Firmware: '1',
    Channel: channels,
  });
  log.debug({ status }, 'gb28181 cascade: DeviceInfo sent');
}

async function answerDeviceStatus(ctx: GbContext, platform: UpperClient, sn: number, askedId: string, log: Logger): Promise<void> {
  const status = await sendToUpper(ctx.endpoint, platform.peer, {
    CmdType: 'DeviceStatus',
    SN: sn,
    DeviceID: askedId || platform.peer.localId,
    Result: 'OK',
    Online: 'ONLINE',
    Status: 'OK',
    Encode: 'ON',
    Record: 'OFF',
    DeviceTime: formatSipTime(),
    Alarmstatus: { '@Num': 0 },
  });
  log.debug({ status }, 'gb28181 cascade: DeviceStatus sent');
}
