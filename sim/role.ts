// The simulators, under the same rules as a role (they import only the kernel): commands, no
// service of the appliance. `eseal sim national` runs a simulated national platform.
import type { RoleManifest } from '../src/role.ts';

export const role: RoleManifest = {
  name: 'sim',
  summary: 'simulators for tests and mine integrators: the national platform',
  commands: async () => (await import('./cli.ts')).commands,
};
