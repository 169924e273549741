// REGISTER (GB/T 28181 §9.1): digest with realm = the domain; 401 without credentials (or with a
// stale nonce), 403 on a wrong password, on a device without a password and, for an address, after
// too many failures in a minute; Expires: 0 unregisters (its streams are BYEd); the 200 carries
// `Date` in Beijing time for the device's clock.
import { isGbId } from '../../../src/gb28181/ids.ts';
import { formatSipTime } from '../../../src/gb28181/sipTime.ts';
import { devicePassword } from '../../config.ts';
import type { GbContext } from '../../GbContext.ts';
import { makeResponse, requestedExpires, userOf, type Remote, type Request, type Response } from '../SipMessage.ts';

const failures = new WeakMap<GbContext, Map<string, { minute: number; count: number }>>();

function failuresOf(ctx: GbContext): Map<string, { minute: number; count: number }> {
  let m = failures.get(ctx);
  if (!m) failures.set(ctx, (m = new Map()));
  return m;
}

function tooManyFailures(ctx: GbContext, address: string, now: number): boolean {
  const f = failuresOf(ctx).get(address);
  return !!f && f.minute === Math.floor(now / 60_000) && f.count >= ctx.config.limits.authFailuresPerMinute;
}

function countFailure(ctx: GbContext, address: string, now: number): void {
  const m = failuresOf(ctx);
  const minute = Math.floor(now / 60_000);
  const f = m.get(address);
  if (!f || f.minute !== minute) {
    if (m.size > 100_000) m.clear();
    m.set(address, { minute, count: 1 });
  } else f.count++;
}

/** '2022' for X-GB-Ver 3.x, '2016' for 2.x, '' when the header is absent. */
function versionOf(rq: Request): string {
  const v = String(rq.headers['x-gb-ver'] ?? '').trim();
  if (/^3(\.\d+)?$/.test(v)) return '2022';
  if (/^2(\.\d+)?$/.test(v)) return '2016';
  return '';
}

export async function onRegister(ctx: GbContext, rq: Request, remote: Remote): Promise<Response> {
  const now = Date.now();
  const deviceId = userOf(rq.headers.from) || userOf(rq.headers.to);
  if (!isGbId(deviceId)) return makeResponse(rq, 400, 'Bad Request: the From user must be a 20-digit GB/T 28181 id');
  const log = ctx.log.child({ deviceId, remote: `${remote.address}:${remote.port}/${remote.protocol}` });
  if (tooManyFailures(ctx, remote.address, now)) {
    log.warn('gb28181: REGISTER refused: too many failed attempts from this address');
    return makeResponse(rq, 403, 'Forbidden');
  }
  const password = devicePassword(ctx.config, deviceId);
  const verdict = ctx.digest.verify(rq.headers.authorization, 'REGISTER', deviceId, password || '\u0000no password', now);
  if (verdict === 'missing' || verdict === 'stale') {
    return makeResponse(rq, 401, 'Unauthorized', { headers: { 'www-authenticate': ctx.digest.challenge(verdict === 'stale', now) } });
  }
  if (verdict === 'malformed') return makeResponse(rq, 400, 'Bad Request: unusable Authorization');
  if (verdict === 'wrong' || !password) {
    countFailure(ctx, remote.address, now);
    log.warn({ reason: password ? 'wrong password' : 'no password configured for this device' }, 'gb28181: REGISTER refused');
    return makeResponse(rq, 403, 'Forbidden');
  }
  const asked = requestedExpires(rq);
  const { registerMinSeconds, registerMaxSeconds } = ctx.config.sip;
  const headers: Record<string, unknown> = { date: formatSipTime(now) };
  if (rq.headers.contact && rq.headers.contact !== '*') headers['contact'] = rq.headers.contact;
  if (asked === 0) {
    ctx.registry.unregister(deviceId);
    await ctx.live.stopDevice(deviceId, 'unregistered');
    log.info('gb28181: device unregistered');
    return makeResponse(rq, 200, 'OK', { headers: { ...headers, expires: 0 } });
  }
  if (!ctx.registry.hasRoomFor(deviceId)) {
    log.warn({ maxDevices: ctx.config.limits.maxDevices }, 'gb28181: REGISTER refused: gb28181.limits.maxDevices reached');
    return makeResponse(rq, 503, 'Service Unavailable', { headers: { 'retry-after': 300 } });
  }
  const expires = Math.min(registerMaxSeconds, Math.max(registerMinSeconds, asked ?? 3600));
  const name = ctx.config.devices.find((d) => d.id === deviceId)?.name;
  const version = versionOf(rq);
  const { cameOnline } = ctx.registry.register(deviceId, remote, expires, { ...(version ? { version } : {}), ...(name ? { name } : {}) }, now);
  if (cameOnline) log.info({ expires, version }, 'gb28181: device registered');
  return makeResponse(rq, 200, 'OK', { headers: { ...headers, expires } });
}
