// The relay's manifest: the mirrored national API, mine accounts, the durable queue and the
// forwarder. Its commands are also reachable without the `relay` prefix (`eseal accounts …`,
// `eseal status`), as the README has always shown them.
import type { RoleManifest } from '../src/role.ts';
import { relayConfigSection, type RelayConfig } from './config.ts';

export const role: RoleManifest<RelayConfig> = {
  name: 'relay',
  summary: "the mirrored national API, mine accounts, the durable queue, forwarding to the national platform",
  config: relayConfigSection,
  unprefixed: true,
  commands: async () => (await import('./cli.ts')).commands,
  service: async () => ({
    async start(config, log) {
      const { startRelay } = await import('./server.ts');
      const relay = await startRelay(config, log);
      return { summary: { relay: relay.url }, close: () => relay.close() };
    },
  }),
};
