// `eseal start`: runs the configured roles in this process until SIGTERM or SIGINT.
import { CONFIG_OPTION, type Command } from '../src/cli/command.ts';
import { InvalidConfig } from '../src/config/load.ts';
import { createLogger } from '../src/log.ts';
import type { RunningRole } from '../src/role.ts';
import { MANIFESTS, SERVICE_ROLES, type AppConfig } from './roles.ts';

/** `--roles relay,edge` over the configuration's `roles`; checks each name. */
export function selectRoles(config: AppConfig, flag: string | undefined): string[] {
  const names = flag === undefined ? config.roles : flag.split(',').map((r) => r.trim()).filter(Boolean);
  const bad = names.filter((r) => !SERVICE_ROLES.includes(r));
  if (bad.length || names.length === 0) {
    throw InvalidConfig(`--roles: must be a comma-separated list of ${SERVICE_ROLES.join(', ')}, got ${JSON.stringify(flag ?? config.roles.join(','))}`);
  }
  // the order of the roles list is the start order
  return SERVICE_ROLES.filter((r) => names.includes(r));
}

/** Every named role's own checks of its part of the configuration. */
export async function checkRoles(config: AppConfig, roles: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const m of MANIFESTS) if (roles.includes(m.name) && m.checkConfig) problems.push(...(await m.checkConfig(config)));
  return problems;
}

export const startCommand: Command<AppConfig> = {
  name: 'start',
  summary: `run the appliance (its roles: relay and console by default, ${SERVICE_ROLES.filter((r) => r !== 'relay' && r !== 'console').join(', ')}) until SIGTERM or SIGINT`,
  usage: `[--config FILE] [--roles ${SERVICE_ROLES.join(',')}]`,
  options: { ...CONFIG_OPTION, roles: { type: 'string' } },
  help: [
    `  --roles LIST    the services to run here (default: the configuration's roles, relay,console): ${SERVICE_ROLES.join(', ')}`,
    '',
    'Environment overrides: ESEAL_DATA_DIR (./var), ESEAL_ROLES, ESEAL_RELAY_LISTEN (0.0.0.0:8443), ESEAL_ADMIN_LISTEN (127.0.0.1:9090),',
    '  ESEAL_RELAY_TLS (auto | off | files), ESEAL_RELAY_TLS_CERT, ESEAL_RELAY_TLS_KEY,',
    '  ESEAL_UPSTREAM_URL (unset: hold everything), ESEAL_LOG_LEVEL (info),',
    '  ESEAL_EDGE_REPORT_URL, ESEAL_EDGE_PASSWORD.',
  ],
  async run({ values, config }) {
    const cfg = await config();
    const roles = selectRoles(cfg, values['roles'] as string | undefined);
    const problems = await checkRoles(cfg, roles);
    if (problems.length) throw InvalidConfig(`configuration has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    const log = createLogger({ level: cfg.log.level });
    const running: { role: string; it: RunningRole }[] = [];
    try {
      for (const m of MANIFESTS) {
        if (!roles.includes(m.name)) continue;
        const it = await (await m.service!()).start(cfg, log.child({ role: m.name }));
        running.push({ role: m.name, it });
        log.info({ role: m.name, ...it.summary }, `${m.name} role running`);
      }
    } catch (err) {
      for (const { it } of running.reverse()) await it.close().catch(() => {});
      throw err;
    }
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log.info({ signal }, 'shutting down: finishing work in flight');
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    for (const { role, it } of running.reverse()) {
      await it.close().catch((err: unknown) => log.error({ role, err }, 'role did not close cleanly'));
    }
    log.info('stopped');
    return 0;
  },
};
