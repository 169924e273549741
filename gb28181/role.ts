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
      const { startBridge } = await import('./bridge.ts');
      const bridge = await startBridge(config, log);
      const g = config.gb28181;
      return { summary: { ...bridge.service.summary(), viewer: g.http.listen, media: g.media.ports }, close: () => bridge.close() };
    },
  }),
};
