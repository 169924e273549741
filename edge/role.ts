// The edge's manifest: watches a mine's cameras and reports through the API as a mine device would.
import type { RoleManifest } from '../src/role.ts';
import { edgeConfigSection, parseCameras, type EdgeRoleConfig } from './config.ts';

export const role: RoleManifest<EdgeRoleConfig> = {
  name: 'edge',
  summary: "the analysis module for a mine without its own device: cameras in, the guide's reports out",
  config: edgeConfigSection,
  async checkConfig(config) {
    const { problems } = parseCameras(config.edge);
    if (config.roles.includes('edge') || config.edge.cameras.length) {
      if (!config.edge.report.username) problems.push('edge.report.username: required: the mine account the edge logs in with at edge.report.url');
    }
    return problems;
  },
  commands: async () => (await import('./cli.ts')).commands,
  service: async () => ({
    async start(config, log) {
      const { cameras, problems } = parseCameras(config.edge);
      if (problems.length) throw new Error(problems.join('; '));
      // the pipeline (onnxruntime, ffmpeg, the stores) loads only when the edge runs, not for config checks
      const { EdgeService } = await import('./EdgeService.ts');
      const { redactLiveUrl } = await import('./live/MjpegServer.ts');
      const edge = new EdgeService(config, cameras, log);
      try {
        await edge.start();
      } catch (err) {
        await edge.close().catch(() => {});
        throw err;
      }
      return {
        // logged at start: the liveUrls without their secret path (`eseal edge status` shows them whole)
        summary: { cameras: edge.status().cameras.map((c) => `${c.name} ${c.cameraId} ${redactLiveUrl(c.liveUrl)}`), report: config.edge.report.url },
        close: () => edge.close(),
      };
    },
  }),
};
