// `eseal config check`: every role's part of the configuration is checked, whether or not this
// server runs it, and the effective values are printed with secrets hidden.
import { CONFIG_OPTION, type Command } from '../src/cli/command.ts';
import { InvalidConfig } from '../src/config/load.ts';
import { hideSecrets, ruleAt } from '../src/config/rules.ts';
import { safeUrl } from '../src/log.ts';
import { combineSections } from '../src/config/load.ts';
import { CONFIG_SECTIONS, type AppConfig } from './config.ts';
import { checkRoles } from './start.ts';
import { SERVICE_ROLES } from './roles.ts';

function flatten(tree: unknown, prefix = '', out: [string, unknown][] = []): [string, unknown][] {
  for (const [k, v] of Object.entries(tree as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) flatten(v, path, out);
    else out.push([path, v]);
  }
  return out;
}

export const configCheckCommand: Command<AppConfig> = {
  name: 'config check',
  summary: 'validate the configuration and print the effective values (secrets hidden)',
  usage: '[--config FILE]',
  options: CONFIG_OPTION,
  async run({ config, io }) {
    const cfg = await config();
    const problems = await checkRoles(cfg, SERVICE_ROLES);
    if (problems.length) throw InvalidConfig(`configuration has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    const { schema } = combineSections(CONFIG_SECTIONS);
    for (const [k, v] of flatten(cfg)) {
      // secrets hidden wherever they are (a password in a list of devices too); camera URLs may
      // carry credentials (rtsp://user:password@…)
      const hidden = hideSecrets(ruleAt(schema, k), v);
      io.out(`${k} = ${hidden === '(hidden)' ? hidden : JSON.stringify(hidden, (key, value: unknown) => (key === 'url' && typeof value === 'string' ? safeUrl(value) : value))}`);
    }
  },
};
