// The kernel's own configuration keys: where data lives, which roles run, how much is logged.
// The role names are the application's (app/roles.ts), so the section is made with them.
import type { ConfigSection } from './load.ts';
import { OneOf, Pattern, Type, type Static } from './rules.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function kernelSchema(roleNames: readonly string[]) {
  return Type.Object({
    /** where LMDB, blobs, keys and certificates live */
    dataDir: Pattern(/^.+$/, 'a directory path'),
    /** the services `eseal start` runs in this process */
    roles: Type.Array(Type.String({ enum: roleNames, pattern: `^(${roleNames.join('|')})$`, hint: `a role name (${roleNames.join(', ')})` }), { maxItems: 16 }),
    log: Type.Object({ level: OneOf(LOG_LEVELS) }),
  });
}

export type KernelConfig = Static<ReturnType<typeof kernelSchema>>;

export const KERNEL_DEFAULTS: KernelConfig = {
  dataDir: './var',
  roles: ['relay', 'console'],
  log: { level: 'info' },
};

export function kernelSection(roleNames: readonly string[]): ConfigSection<KernelConfig> {
  return {
    schema: kernelSchema(roleNames),
    defaults: KERNEL_DEFAULTS,
    env: { ESEAL_DATA_DIR: 'dataDir', ESEAL_LOG_LEVEL: 'log.level', ESEAL_ROLES: 'roles' },
    finish: (c) => (c.roles.length ? [] : ['roles: at least one role (' + roleNames.join(', ') + ')']),
  };
}
