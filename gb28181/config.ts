// The gb28181 role's part of the configuration. Environment overrides: ESEAL_GB28181_*.
//
//   gb28181:
//     id: "34020000002000000001"      # the bridge's 20-digit SIP id
//     domain: "3402000000"            # the 10-digit SIP domain (digest realm)
//     password: ""                    # the devices' digest password ('' = only devices listed below, with their own password)
//     devices:                        # optional per-device passwords, names, media transports
//       - { id: "34020000001320000001", password: "…", name: "aux shaft NVR", transport: tcp-passive }
//     sip: { listen: "0.0.0.0:5060", publicHost: "" }
//     media: { ports: "30000-30500", host: "", publicHost: "", noMediaSeconds: 15, transport: udp }
//     http: { listen: "127.0.0.1:9092" }
//     cascade: []                     # upper platforms the bridge registers to (the national video platform)
import type { ConfigSection } from '../src/config/load.ts';
import type { KernelConfig } from '../src/config/kernel.ts';
import { OneOf, Pattern, Type, type Static } from '../src/config/rules.ts';

const int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/;
const TRANSPORTS = ['udp', 'tcp-passive', 'tcp-active'] as const;
const GB_ID = Pattern(/^\d{20}$/, 'a 20-digit GB/T 28181 id');

const DeviceEntry = Type.Object({
  id: GB_ID,
  /** '' = gb28181.password */
  password: Pattern(/^.{0,64}$/, 'at most 64 characters', { secret: true, default: '' }),
  name: Pattern(/^.{0,64}$/, 'at most 64 characters', { default: '' }),
  /** '' = gb28181.media.transport (2022 devices: tcp-passive) */
  transport: Type.Optional(OneOf(TRANSPORTS)),
});

const CascadeEntry = Type.Object({
  id: GB_ID,
  domain: Pattern(/^\d{10}$/, 'a 10-digit SIP domain'),
  host: Pattern(/^\S+$/, 'a host name or address'),
  port: int(1, 65535),
  transport: OneOf(['udp', 'tcp'] as const),
  password: Pattern(/^.{0,64}$/, 'at most 64 characters', { secret: true }),
  /** the id the bridge registers with ('' = gb28181.id) */
  localId: Pattern(/^(|\d{20})$/, "'' or a 20-digit id", { default: '' }),
  expires: int(60, 86400),
  keepaliveSeconds: int(5, 3600),
  // cascade behaviour (gb28181/cascade/)
  /** catalog items per MESSAGE page (many platforms refuse big UDP bodies) */
  catalogPageSize: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
  /** streams this platform may play at once; above it, its INVITE gets 486 */
  maxStreams: Type.Integer({ minimum: 1, maximum: 1000, default: 32 }),
  /** the name of the business group (215) its catalog puts every mine under */
  groupName: Pattern(/^.{1,64}$/, '1 to 64 characters', { default: '煤矿视频监控' }),
});

const gbSchema = Type.Object({
  /** the GB/T 28181 bridge: registrar, catalog and live video of mine devices */
  gb28181: Type.Object({
    id: GB_ID,
    domain: Pattern(/^\d{10}$/, 'a 10-digit SIP domain'),
    password: Pattern(/^.{0,64}$/, 'at most 64 characters', { secret: true }),
    devices: Type.Array(DeviceEntry, { maxItems: 10_000 }),
    sip: Type.Object({
      /** UDP and TCP */
      listen: Pattern(HOST_PORT, 'host:port, e.g. 0.0.0.0:5060'),
      /** the address devices reach the bridge at, written in Via/Contact ('' = the first non-internal IPv4) */
      publicHost: Pattern(/^\S*$/, 'a host name or address, or empty'),
      /** a device that sends no keepalive for this many intervals is offline */
      keepaliveMisses: int(1, 10),
      /** the keepalive interval assumed when the device does not say (its Keepalive messages) */
      keepaliveSeconds: int(1, 3600),
      /** Expires granted to a REGISTER is clamped to these bounds */
      registerMinSeconds: int(1, 86400),
      registerMaxSeconds: int(60, 7 * 86400),
      /** a nonce is good for this long, then the device is challenged again */
      nonceSeconds: int(10, 3600),
      /** a SIP request to a device fails after this many seconds without a final answer */
      transactionSeconds: int(1, 64),
    }),
    limits: Type.Object({
      maxDevices: int(1, 100_000),
      maxChannelsPerDevice: int(1, 10_000),
      /** failed REGISTERs from one address per minute before it is answered 403 without checking */
      authFailuresPerMinute: int(1, 10_000),
      /** SIP requests per second from one address; above it, 503 */
      requestsPerSecond: int(1, 100_000),
    }),
    media: Type.Object({
      /** the RTP receive ports, "first-last" (deploy/install.sh reads this key) */
      ports: Pattern(/^\d{1,5}-\d{1,5}$/, 'a port range first-last, e.g. 30000-30500'),
      /** address the RTP sockets bind ('' = every interface) */
      host: Pattern(/^\S*$/, 'an address to bind, or empty'),
      /** address written in the SDP offer ('' = gb28181.sip.publicHost) */
      publicHost: Pattern(/^\S*$/, 'a host name or address, or empty'),
      /** BYE a stream when no media arrived for this long */
      noMediaSeconds: int(3, 300),
      transport: OneOf(TRANSPORTS),
      /** a channel's stream stays up this long after its last viewer left (then BYE) */
      lingerSeconds: int(0, 600),
      /** keep each stream's packets since its last keyframe: an upper platform's leg and a new viewer start at once instead of at the next keyframe (costs about one GOP of memory per stream and some relay capacity) */
      gopCache: OneOf(['yes', 'no']),
    }),
    http: Type.Object({
      /** the viewer's listener */
      listen: Pattern(HOST_PORT, 'host:port, e.g. 127.0.0.1:9092'),
      /** viewers of one channel at once (a browser, the edge); the next gets 503 */
      maxViewersPerChannel: int(1, 1000),
      /** viewers at once from one address (loopback, where the edge runs, not counted); the next from it gets 429 */
      maxViewersPerAddress: int(1, 1000),
    }),
    /** upper platforms the bridge registers to as a lower platform (cascade) */
    cascade: Type.Array(CascadeEntry, { maxItems: 16 }),
  }),
});

export type GbConfig = Static<typeof gbSchema>['gb28181'];
export type GbDeviceConfig = GbConfig['devices'][number];
export type GbRoleConfig = KernelConfig & { gb28181: GbConfig };

export const GB28181_DEFAULTS: Static<typeof gbSchema> = {
  gb28181: {
    id: '34020000002000000001',
    domain: '3402000000',
    password: '',
    devices: [],
    sip: {
      listen: '0.0.0.0:5060',
      publicHost: '',
      keepaliveMisses: 3,
      keepaliveSeconds: 60,
      registerMinSeconds: 60,
      registerMaxSeconds: 86400,
      nonceSeconds: 300,
      transactionSeconds: 8,
    },
    limits: { maxDevices: 10_000, maxChannelsPerDevice: 1024, authFailuresPerMinute: 20, requestsPerSecond: 200 },
    media: { ports: '30000-30500', host: '', publicHost: '', noMediaSeconds: 15, transport: 'udp', lingerSeconds: 10, gopCache: 'yes' },
    http: { listen: '127.0.0.1:9092', maxViewersPerChannel: 16, maxViewersPerAddress: 8 },
    cascade: [],
  },
};

export const gb28181ConfigSection: ConfigSection<GbRoleConfig> = {
  schema: gbSchema,
  defaults: GB28181_DEFAULTS,
  env: {
    ESEAL_GB28181_ID: 'gb28181.id',
    ESEAL_GB28181_DOMAIN: 'gb28181.domain',
    ESEAL_GB28181_PASSWORD: 'gb28181.password',
    ESEAL_GB28181_SIP_LISTEN: 'gb28181.sip.listen',
    ESEAL_GB28181_SIP_PUBLIC_HOST: 'gb28181.sip.publicHost',
    ESEAL_GB28181_MEDIA_PORTS: 'gb28181.media.ports',
    ESEAL_GB28181_MEDIA_PUBLIC_HOST: 'gb28181.media.publicHost',
    ESEAL_GB28181_MEDIA_GOP_CACHE: 'gb28181.media.gopCache',
    ESEAL_GB28181_HTTP_LISTEN: 'gb28181.http.listen',
  },
  finish(config) {
    const g = config.gb28181;
    const problems: string[] = [];
    const [first, last] = g.media.ports.split('-').map(Number) as [number, number];
    if (!(first >= 1024 && last <= 65535 && first <= last)) problems.push('gb28181.media.ports: first-last with 1024 ≤ first ≤ last ≤ 65535');
    if (g.sip.registerMinSeconds > g.sip.registerMaxSeconds) problems.push('gb28181.sip.registerMinSeconds: must not exceed gb28181.sip.registerMaxSeconds');
    const seen = new Set<string>();
    g.devices.forEach((d, i) => {
      if (seen.has(d.id)) problems.push(`gb28181.devices[${i}].id: ${d.id} is listed twice`);
      seen.add(d.id);
    });
    return problems;
  },
};

/** The password a device authenticates with: its own, else the shared one; '' = it may not register. */
export function devicePassword(g: GbConfig, deviceId: string): string {
  const own = g.devices.find((d) => d.id === deviceId);
  return own?.password || g.password;
}

/** host and port of a `host:port` listen value. */
export function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}
