// The relay as a role of `eseal start`.
import type { RoleService } from '../src/roles.ts';
import { startRelay } from './server.ts';

export const service: RoleService = {
  async checkConfig() {
    return [];
  },
  async start(config, log) {
    const relay = await startRelay(config, log);
    return { summary: { relay: relay.url }, close: () => relay.close() };
  },
};
