// MANSCDP documents from devices, by root (Notify / Response / Query) and CmdType, each to its own
// handler. Returns the SIP status of the MESSAGE's answer: 404 when the device is not registered (it
// registers again), 400 when the document lacks its CmdType, 200 otherwise (unknown CmdTypes too:
// answered and logged, so the device does not resend them).
import { childInt, childText, type XmlElement } from '../../src/gb28181/manscdp.ts';
import type { GbContext } from '../GbContext.ts';
import type { Remote } from '../sip/SipMessage.ts';
import { onAlarm } from './alarm.ts';
import { onCatalogNotify, onCatalogResponse } from './catalog.ts';
import { onDeviceInfo } from './deviceInfo.ts';
import { onDeviceStatus } from './deviceStatus.ts';
import { onKeepalive } from './keepalive.ts';
import { onMobilePosition } from './mobilePosition.ts';

export interface ManscdpRequest {
  deviceId: string;
  root: XmlElement;
  cmdType: string;
  sn: number;
  remote: Remote;
}

type Handler = (ctx: GbContext, m: ManscdpRequest) => Promise<number> | number;

const HANDLERS: Record<string, Handler> = {
  'notify/keepalive': onKeepalive,
  'response/catalog': onCatalogResponse,
  'notify/catalog': onCatalogNotify,
  'response/deviceinfo': onDeviceInfo,
  'response/devicestatus': onDeviceStatus,
  'notify/alarm': onAlarm,
  'notify/mobileposition': onMobilePosition,
};

export async function dispatchManscdp(ctx: GbContext, deviceId: string, root: XmlElement, remote: Remote): Promise<number> {
  const cmdType = childText(root, 'CmdType');
  if (!cmdType) return 400;
  const sn = childInt(root, 'SN') ?? 0;
  const handler = HANDLERS[`${root.name.toLowerCase()}/${cmdType.toLowerCase()}`];
  const m: ManscdpRequest = { deviceId, root, cmdType, sn, remote };
  if (handler === onKeepalive) return handler(ctx, m);
  // anything but a keepalive: the device must be registered
  if (!ctx.registry.seen(deviceId, remote)) return 404;
  if (!handler) {
    ctx.log.info({ deviceId, root: root.name, cmdType }, 'gb28181: MANSCDP command not handled; answered 200');
    return 200;
  }
  return handler(ctx, m);
}
