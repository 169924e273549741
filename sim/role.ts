// The simulators, under the same rules as a role (they import only the kernel): commands, no
// service of the appliance. `eseal sim national` runs a simulated national platform, `eseal sim
// device` a GB/T 28181 device.
import type { RoleManifest } from '../src/role.ts';

export const role: RoleManifest = {
  name: 'sim',
  summary: 'simulators for tests and mine integrators: the national platform, a GB/T 28181 device',
  commands: async () => (await import('./cli.ts')).commands,
};
