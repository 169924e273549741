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
      // the media engine and the viewer are wired in here once gb28181/media and gb28181/view exist
      const service = new GbService(config, log.child({ role: 'gb28181' }));
      await service.start();
      return { summary: service.summary(), close: () => service.close() };
    },
  }),
};
