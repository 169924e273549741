// `eseal start`: runs the configured roles in this process until SIGTERM or SIGINT.
import { CONFIG_OPTION, type Command } from './cli.ts';
import { InvalidConfig } from './config/load.ts';
import { ROLE_NAMES, type EsealConfig, type RoleName } from './config/schema.ts';
import { createLogger } from './log.ts';
import { ROLE_SERVICES, type RunningRole } from './roles.ts';

/** `--roles relay,edge` over the configuration's `roles`; checks each name. */
export function selectRoles(config: EsealConfig, flag: string | undefined): RoleName[] {
  const names = flag === undefined ? config.roles : flag.split(',').map((r) => r.trim()).filter(Boolean);
  const bad = names.filter((r) => !(ROLE_NAMES as readonly string[]).includes(r));
  if (bad.length || names.length === 0) {
    throw InvalidConfig(`--roles: must be a comma-separated list of ${ROLE_NAMES.join(', ')}, got ${JSON.stringify(flag ?? config.roles.join(','))}`);
  }
  // The order of ROLE_NAMES is the start order.
  return ROLE_NAMES.filter((r) => names.includes(r));
}

/** Every role's own checks of its part of the configuration. */
export async function checkRoles(config: EsealConfig, roles: readonly RoleName[]): Promise<string[]> {
  const problems: string[] = [];
  for (const role of roles) problems.push(...(await (await ROLE_SERVICES[role]()).service.checkConfig(config)));
  return problems;
}

export const startCommand: Command = {
  name: 'start',
  summary: 'run the appliance (its roles: relay by default, edge) until SIGTERM or SIGINT',
  usage: '[--config FILE] [--roles relay,edge]',
  options: { ...CONFIG_OPTION, roles: { type: 'string' } },
  help: [
    '  --roles LIST    the services to run here (default: the configuration\'s roles, relay): relay, edge',
    '',
    'Environment overrides: ESEAL_DATA_DIR (./var), ESEAL_ROLES, ESEAL_RELAY_LISTEN (0.0.0.0:8443),',
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
    const running: { role: RoleName; it: RunningRole }[] = [];
    try {
      for (const role of roles) {
        const it = await (await ROLE_SERVICES[role]()).service.start(cfg, log.child({ role }));
        running.push({ role, it });
        log.info({ role, ...it.summary }, `${role} role running`);
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
