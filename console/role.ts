// The console role's manifest: the province's web console on its own admin listener, reading the
// relay's (and the GB/T 28181 bridge's) loopback admin APIs; its users by CLI.
import type { RoleManifest } from '../src/role.ts';
import { consoleConfigSection, type ConsoleConfig } from './config.ts';

export const role: RoleManifest<ConsoleConfig> = {
  name: 'console',
  summary: "the province's web console: operations, items, alarms, front-end analysis management, mine acceptance",
  config: consoleConfigSection,
  commands: async () => (await import('./cli.ts')).commands,
  service: async () => ({
    async start(config, log) {
      const { startConsole } = await import('./server.ts');
      const running = await startConsole(config, log);
      return { summary: { console: running.url, relayAdmin: running.relayUrl }, close: () => running.close() };
    },
  }),
};
