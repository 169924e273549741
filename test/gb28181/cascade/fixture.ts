// Two bridges over loopback: the UPPER platform (a GbService of its own, the national platform's
// stand-in: its registrar takes our REGISTER as a device's, its CatalogCollector collects our
// catalog, its LiveSessions INVITEs our channels) and the LOWER one, configured to cascade to it;
// mine devices are test/helpers/sipUa.ts UAs registered with the lower bridge.
import type { Test } from 'tap';
import type { GbRoleConfig } from '../../../gb28181/config.ts';
import type { GbService } from '../../../gb28181/GbService.ts';
import type { Request } from '../../../gb28181/sip/SipMessage.ts';
import { SipUa } from '../../helpers/sipUa.ts';
import { catalogPage, gbConfig, startBridge } from '../fixture.ts';
import { FakeMedia } from './fakeMedia.ts';

export const UPPER_ID = '11000000002000000001';
export const UPPER_DOMAIN = '1100000000';
export const UPPER_PASSWORD = 'national-pass-1';
export const LOWER_ID = '34020000002000000001';

type CascadeEntry = GbRoleConfig['gb28181']['cascade'][number];

export interface Pair {
  upper: GbService;
  lower: GbService;
  upperMedia: FakeMedia;
  lowerMedia: FakeMedia;
  upperConfig: GbRoleConfig;
}

export async function startUpper(t: Test, port = 0, media = new FakeMedia(), set: Record<string, string | number> = {}): Promise<{ upper: GbService; upperMedia: FakeMedia; upperConfig: GbRoleConfig }> {
  const upperConfig = await gbConfig(t, {
    'gb28181.id': UPPER_ID,
    'gb28181.domain': UPPER_DOMAIN,
    'gb28181.password': UPPER_PASSWORD,
    'gb28181.sip.listen': `127.0.0.1:${port}`,
    'gb28181.sip.registerMinSeconds': 1,
    'gb28181.sip.transactionSeconds': 2,
    ...set,
  });
  const upper = await startBridge(t, upperConfig, { media });
  t.teardown(() => media.close());
  return { upper, upperMedia: media, upperConfig };
}

export function cascadeEntry(upper: GbService, extra: Partial<CascadeEntry> = {}): CascadeEntry {
  return {
    id: UPPER_ID,
    domain: UPPER_DOMAIN,
    host: '127.0.0.1',
    port: upper.context.endpoint.udpPort,
    transport: 'udp',
    password: UPPER_PASSWORD,
    localId: '',
    expires: 3600,
    keepaliveSeconds: 60,
    catalogPageSize: 20,
    maxStreams: 8,
    groupName: '某省煤矿视频',
    ...extra,
  };
}

export async function startLower(t: Test, entry: CascadeEntry | CascadeEntry[], media = new FakeMedia(), set: Record<string, string | number> = {}): Promise<{ lower: GbService; lowerMedia: FakeMedia }> {
  const cfg = await gbConfig(t, { 'gb28181.sip.transactionSeconds': 2, ...set });
  // set after loading, so a test may use intervals shorter than the schema allows
  cfg.gb28181.cascade = Array.isArray(entry) ? entry : [entry];
  const lower = await startBridge(t, cfg, { media });
  t.teardown(() => media.close());
  return { lower, lowerMedia: media };
}

/** A mine device UA answers Catalog queries with `channels` (one page each) and INVITEs with an SDP from `mediaPort`. */
export function actAsDevice(ua: SipUa, channels: { id: string; name: string; status?: string }[], options: { inviteStatus?: number } = {}): { invites: Request[] } {
  const invites: Request[] = [];
  ua.onRequest((rq) => {
    if (rq.method === 'MESSAGE') {
      ua.respond(rq, 200, 'OK');
      const body = SipUa.bodyOf(rq);
      if (/<CmdType>Catalog<\/CmdType>/.test(body)) {
        const sn = Number(/<SN>(\d+)<\/SN>/.exec(body)?.[1] ?? 0);
        void ua.transact(ua.manscdp(catalogPage(ua.options.deviceId, sn, channels.length, channels))).catch(() => {});
      }
    } else if (rq.method === 'INVITE') {
      invites.push(rq);
      const status = options.inviteStatus ?? 200;
      if (status !== 200) {
        ua.respond(rq, status, 'Refused');
        return;
      }
      const ssrc = /y=(\d+)/.exec(rq.content ?? '')?.[1] ?? '0';
      const sdp = ['v=0', `o=${ua.options.deviceId} 0 0 IN IP4 127.0.0.1`, 's=Play', 'c=IN IP4 127.0.0.1', 't=0 0', `m=video ${ua.localPort} RTP/AVP 96`, 'a=sendonly', 'a=rtpmap:96 PS/90000', `y=${ssrc}`, ''].join('\r\n');
      ua.respond(rq, 200, 'OK', { content: sdp, contentType: 'APPLICATION/SDP' });
    } else if (rq.method === 'BYE') {
      ua.respond(rq, 200, 'OK');
    }
  });
  return { invites };
}
