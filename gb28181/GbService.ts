// The gb28181 role's service: the SIP endpoint (UDP + TCP), the registry and its keepalive watchdog,
// the processors, the commander, live sessions. Seams for the parts written beside it: a media
// engine (gb28181/media) and a viewer (gb28181/view) are passed in; without an engine, live play
// answers ESEAL_ERR_GB28181_MEDIA.
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { Cascade } from './cascade/Cascade.ts';
import { StreamEndTap } from './cascade/StreamEndTap.ts';
import { Commander } from './commander/Commander.ts';
import { queryCatalog, queryDeviceInfo, queryDeviceStatus } from './commander/queries.ts';
import { splitHostPort, type GbRoleConfig } from './config.ts';
import type { GbContext } from './GbContext.ts';
import { LiveSessions } from './invite/LiveSessions.ts';
import type { LiveSource, MediaEngineLike } from './invite/MediaEngineLike.ts';
import { CatalogCollector } from './registry/CatalogCollector.ts';
import { DeviceStore, type ChannelRecord, type DeviceRecord } from './registry/DeviceStore.ts';
import { Registry } from './registry/Registry.ts';
import { DigestAuth } from './sip/digest.ts';
import { dispatchRequest } from './sip/methods/dispatch.ts';
import { SipEndpoint } from './sip/SipEndpoint.ts';
import { gbDataDir, loadOrCreateViewToken } from './viewToken.ts';

export interface ViewerLike {
  close(): Promise<void>;
}

export interface GbServiceOptions {
  media?: MediaEngineLike;
  /** builds the viewer once the signalling runs (gb28181/view/ViewerServer.ts) */
  viewer?: (live: LiveSource, token: string) => Promise<ViewerLike>;
  /** query Catalog / DeviceInfo / DeviceStatus after a device registers (default true) */
  queryOnRegister?: boolean;
}

/** The first non-internal IPv4 address of this machine, else 127.0.0.1. */
export function firstPublicIpv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export class GbService {
  readonly config: GbRoleConfig;
  readonly log: Logger;
  readonly #options: GbServiceOptions;
  #ctx?: GbContext;
  #viewer?: ViewerLike;
  #cascade?: Cascade;

  constructor(config: GbRoleConfig, log: Logger, options: GbServiceOptions = {}) {
    this.config = config;
    this.log = log;
    this.#options = options;
  }

  get context(): GbContext {
    if (!this.#ctx) throw new Error('the gb28181 service is not started');
    return this.#ctx;
  }

  /** What the viewer and the edge use. */
  get live(): LiveSource {
    return this.context.live;
  }

  async start(): Promise<void> {
    const g = this.config.gb28181;
    const log = this.log;
    const { host, port } = splitHostPort(g.sip.listen);
    const publicHost = g.sip.publicHost || (host && host !== '0.0.0.0' && host !== '::' ? host : firstPublicIpv4());
    const store = DeviceStore.open(gbDataDir(this.config.dataDir));
    const registry = new Registry(store, { keepaliveSeconds: g.sip.keepaliveSeconds, keepaliveMisses: g.sip.keepaliveMisses, maxDevices: g.limits.maxDevices }, log);
    const endpoint = new SipEndpoint({
      host,
      port,
      publicHost,
      transactionSeconds: g.sip.transactionSeconds,
      requestsPerSecond: g.limits.requestsPerSecond,
      maxConnections: g.limits.maxDevices + 64,
      log,
      onFlowClosed: (remote) => registry.connectionLost(remote),
    });
    const commander = new Commander(endpoint, registry, { serverId: g.id, domain: g.domain, queryTimeoutMs: g.sip.transactionSeconds * 1000 });
    const catalog = new CatalogCollector(store, registry, commander.waiters, g.limits.maxChannelsPerDevice, log);
    // cascade: the engine seen through a tap, so a mine stream's end BYEs the upper platforms' legs
    const tap = g.cascade.length && this.#options.media ? new StreamEndTap(this.#options.media) : undefined;
    const live = new LiveSessions({ config: g, commander, store, media: tap ?? this.#options.media, mediaHost: g.media.publicHost || publicHost, log });
    const ctx: GbContext = { config: g, log, endpoint, store, registry, commander, catalog, digest: new DigestAuth(g.domain, g.sip.nonceSeconds), live };
    this.#ctx = ctx;
    const cascade = (this.#cascade = new Cascade(ctx, tap, gbDataDir(this.config.dataDir)));
    try {
      await registry.start();
      endpoint.onRequest((rq, remote) => (cascade.owns(rq) ? cascade.handle(rq, remote) : dispatchRequest(ctx, rq, remote)));
      await endpoint.start();
      cascade.start();
    } catch (err) {
      await this.close();
      throw err;
    }
    if (this.#options.queryOnRegister !== false) {
      registry.on('online', (d) => setImmediate(() => void this.refresh(d.id)));
    }
    registry.on('offline', (d, reason) => void live.stopDevice(d.id, reason === 'unregistered' ? 'unregistered' : 'offline'));
    if (!g.password && !g.devices.some((d) => d.password)) {
      log.warn('gb28181: no device password is configured (gb28181.password, gb28181.devices[].password): every REGISTER is refused with 403');
    }
    if (this.#options.viewer) this.#viewer = await this.#options.viewer(live, loadOrCreateViewToken(this.config.dataDir));
  }

  /** Asks the device for its info, status and catalog (after it registers, or on demand). Never throws. */
  async refresh(deviceId: string): Promise<{ channels: ChannelRecord[] | undefined }> {
    const ctx = this.context;
    const quiet = (what: string) => (err: unknown) => {
      ctx.log.info({ deviceId, err: (err as Error).message }, `gb28181: ${what} query failed`);
      return undefined;
    };
    const [, , channels] = await Promise.all([
      queryDeviceInfo(ctx.commander, deviceId).catch(quiet('DeviceInfo')),
      queryDeviceStatus(ctx.commander, deviceId).catch(quiet('DeviceStatus')),
      queryCatalog(ctx.commander, ctx.catalog, deviceId).catch(quiet('Catalog')),
    ]);
    return { channels };
  }

  /** Re-queries a device's catalog (throws the coded error when it cannot). */
  queryCatalog(deviceId: string): Promise<ChannelRecord[]> {
    return queryCatalog(this.context.commander, this.context.catalog, deviceId);
  }

  /** The cascade to upper platforms (none configured: it has size 0). */
  get cascade(): Cascade | undefined {
    return this.#cascade;
  }

  devices(): DeviceRecord[] {
    return this.context.registry.all();
  }

  summary(): Record<string, unknown> {
    const ctx = this.context;
    return {
      sip: `${ctx.endpoint.publicHost}:${ctx.endpoint.udpPort} (UDP/TCP)`,
      id: this.config.gb28181.id,
      domain: this.config.gb28181.domain,
      devices: ctx.registry.all().length,
      media: this.#options.media ? this.config.gb28181.media.ports : 'no media engine',
    };
  }

  async close(): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx) return;
    this.#ctx = undefined;
    await this.#viewer?.close().catch(() => {});
    await this.#cascade?.close().catch(() => {});
    await ctx.live.close().catch(() => {});
    ctx.registry.close();
    ctx.commander.waiters.destroy(new Error('the gb28181 service closed'));
    await ctx.endpoint.close();
    await ctx.store.close();
  }
}
