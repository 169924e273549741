// The gb28181 role's manifest: the GB/T 28181 bridge (registrar, catalog, live video of mine devices).
import type { RoleManifest } from '../src/role.ts';
import { gb28181ConfigSection, type GbRoleConfig } from './config.ts';

export const role: RoleManifest<GbRoleConfig> = {
  name: 'gb28181',
  summary: 'the GB/T 28181 bridge: SIP registrar for mine cameras and NVRs, catalog, live video',
  config: gb28181ConfigSection,
  async checkConfig(config) {
    const g = config.gb28181;
    const problems: string[] = [];
    if (config.roles.includes('gb28181') && !g.password && !g.devices.some((d) => d.password)) {
      problems.push('gb28181.password: required (or a password per device in gb28181.devices): without one every device is refused');
    }
    return problems;
  },
  commands: async () => (await import('./cli.ts')).commands,
  service: async () => ({
    async start(config, log) {
      const { GbService } = await import('./GbService.ts');
      const { MediaEngine } = await import('./media/MediaEngine.ts');
      const { ViewerServer } = await import('./view/ViewerServer.ts');
      const { splitHostPort } = await import('./config.ts');
      const { loadOrCreateAdminToken } = await import('./viewToken.ts');
      const g = config.gb28181;
      const [min, max] = g.media.ports.split('-').map(Number) as [number, number];
      // the media worker (RTP, PS, relay legs) is a child process: its death ends its streams, not the role
      const media = new MediaEngine({ host: g.media.host || '0.0.0.0', ports: { min, max }, noMediaSeconds: g.media.noMediaSeconds, log: log.child({ part: 'media' }) });
      await media.start();
      const view = splitHostPort(g.http.listen);
      const service: InstanceType<typeof GbService> = new GbService(config, log, {
        media,
        viewer: async (live, token) => {
          // the operators' API beside the viewer: `eseal gb28181 catalog` reaches the running bridge through it
          const admin = { token: loadOrCreateAdminToken(config.dataDir), catalog: (deviceId: string) => service.queryCatalog(deviceId) };
          const viewer = new ViewerServer({
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
      return {
        summary: { ...service.summary(), viewer: g.http.listen, media: g.media.ports },
        close: async () => {
          await service.close();
          await media.close();
        },
      };
    },
  }),
};
