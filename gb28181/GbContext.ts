// What the request processors share: the configuration, the registry, the store, the commander and
// the live streams. Built once by GbService.
import type { Logger } from 'pino';
import type { GbConfig } from './config.ts';
import type { Commander } from './commander/Commander.ts';
import type { CatalogCollector } from './registry/CatalogCollector.ts';
import type { DeviceStore } from './registry/DeviceStore.ts';
import type { Registry } from './registry/Registry.ts';
import type { DigestAuth } from './sip/digest.ts';
import type { SipEndpoint } from './sip/SipEndpoint.ts';
import type { LiveSessions } from './invite/LiveSessions.ts';

export interface GbContext {
  config: GbConfig;
  log: Logger;
  endpoint: SipEndpoint;
  store: DeviceStore;
  registry: Registry;
  commander: Commander;
  catalog: CatalogCollector;
  digest: DigestAuth;
  live: LiveSessions;
}
