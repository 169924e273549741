// The running bridge, put together: the media worker (RTP, PS, relay legs; a child process whose
// death ends its streams, not the role), the signalling service (registrar, catalog, live sessions,
// cascade) and the viewer with its operators' API on gb28181.http.listen. The role starts it so, and
// so do the tests that need the real thing.
import type { Logger } from 'pino';
import { splitHostPort, type GbRoleConfig } from './config.ts';
import { GbService } from './GbService.ts';
import { MediaEngine } from './media/MediaEngine.ts';
import { ViewerServer } from './view/ViewerServer.ts';
import { deviceList } from './view/deviceList.ts';
import { loadOrCreateAdminToken } from './viewToken.ts';

export interface RunningBridge {
  service: GbService;
  media: MediaEngine;
  viewer: ViewerServer;
  /** closes the service (BYEs, unregisters upward), then the media worker; once */
  close(): Promise<void>;
}

export async function startBridge(config: GbRoleConfig, log: Logger): Promise<RunningBridge> {
  const g = config.gb28181;
  const [min, max] = g.media.ports.split('-').map(Number) as [number, number];
  const media = new MediaEngine({ host: g.media.host || '0.0.0.0', ports: { min, max }, noMediaSeconds: g.media.noMediaSeconds, gopCache: g.media.gopCache === 'yes', log: log.child({ part: 'media' }) });
  await media.start();
  const view = splitHostPort(g.http.listen);
  let viewer: ViewerServer | undefined;
  const service: GbService = new GbService(config, log, {
    media,
    viewer: async (live, token) => {
      // the operators' API beside the viewer: `eseal gb28181 catalog` reaches the running bridge through it
      const admin = {
        token: loadOrCreateAdminToken(config.dataDir),
        catalog: (deviceId: string) => service.queryCatalog(deviceId),
        devices: () => deviceList(service.devices(), (id) => service.context.store.channels(id)),
      };
      viewer = new ViewerServer({
        host: view.host,
        port: view.port,
        token,
        source: live,
        frames: media,
        admin,
        maxViewersPerChannel: g.http.maxViewersPerChannel,
        maxViewersPerAddress: g.http.maxViewersPerAddress,
        log: log.child({ part: 'viewer' }),
      });
      await viewer.listen();
      return viewer;
    },
  });
  try {
    await service.start();
  } catch (err) {
    await service.close().catch(() => {});
    await media.close().catch(() => {});
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    service,
    media,
    viewer: viewer!,
    close: () =>
      (closing ??= (async () => {
        await service.close();
        await media.close();
      })()),
  };
}
