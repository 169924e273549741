// `eseal`: one CLI for every role. The kernel owns the command framework and the commands of the
// kernel itself (keys, config); each role contributes its own commands from its `cli.ts`, loaded
// on demand, so a role's code is only imported when one of its commands runs.
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EsealError } from './errors.ts';
import { loadConfig } from './config/load.ts';
import type { EsealConfig } from './config/schema.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** reads all of standard input (for --password -) */
  stdin: () => Promise<string>;
}

export interface Command {
  /** e.g. 'accounts add' */
  name: string;
  summary: string;
  /** the argument part of the usage line, e.g. '<username> --password <pw> --mine <id>[,<id>…]' */
  usage: string;
  options: OptionSpec;
  /** lines explaining options and examples */
  help?: string[];
  run(args: { positionals: string[]; values: Record<string, unknown>; config: () => Promise<EsealConfig>; io: CommandIO }): Promise<number | void>;
}

export const CONFIG_OPTION: OptionSpec = {
  config: { type: 'string', short: 'c' },
};

const HELP_OPTION: OptionSpec = { help: { type: 'boolean', short: 'h' } };

/** Where each role's commands come from. Roles are services; the kernel only knows their names. */
const ROLE_COMMANDS: Record<string, () => Promise<{ commands: Command[] }>> = {
  relay: () => import('../relay/cli.ts'),
  edge: () => import('../edge/cli.ts'),
  sim: () => import('./sim/cli.ts'),
};

async function allCommands(): Promise<Command[]> {
  const { kernelCommands } = await import('./cliKernel.ts');
  const roles = await Promise.all(Object.values(ROLE_COMMANDS).map((load) => load()));
  return [...kernelCommands, ...roles.flatMap((r) => r.commands)];
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      return pkg.version;
    } catch {
      return 'unknown';
    }
  }
}

function usageLine(c: Command): string {
  return `eseal ${c.name}${c.usage ? ' ' + c.usage : ''}`;
}

function commandHelp(c: Command): string {
  const lines = [`Usage: ${usageLine(c)}`, '', c.summary];
  if (c.help?.length) lines.push('', ...c.help);
  if ('config' in c.options) lines.push('', '  -c, --config FILE   YAML configuration (ESEAL_* environment variables override it)');
  lines.push('  -h, --help          this help');
  return lines.join('\n');
}

function overview(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    `eseal ${version()}: provincial relay for the national coal-mine electronic seal platform`,
    '',
    'Usage: eseal <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `eseal <command> --help` for a command\'s options.',
  ].join('\n');
}

const defaultIO: CommandIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
  stdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: CommandIO = defaultIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const commands = await allCommands();
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(overview(commands));
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.out(version());
    return 0;
  }
  // The longest command name that the arguments start with ('accounts add' before 'accounts').
  const match = commands
    .filter((c) => {
      const words = c.name.split(' ');
      return words.every((w, i) => argv[i] === w);
    })
    .sort((a, b) => b.name.length - a.name.length)[0];
  if (!match) {
    const group = commands.filter((c) => c.name.startsWith(argv[0] + ' '));
    if (group.length) {
      io.err(`eseal ${argv[0]}: say which: ${group.map((c) => c.name.split(' ')[1]).join(', ')}`);
      for (const c of group) io.err(`  ${usageLine(c)}`);
    } else {
      io.err(`eseal: unknown command ${JSON.stringify(argv[0])}; run eseal --help`);
    }
    return 2;
  }
  const rest = argv.slice(match.name.split(' ').length);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...match.options, ...HELP_OPTION }, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`eseal ${match.name}: ${(err as Error).message}`);
    io.err(`Usage: ${usageLine(match)}`);
    return 2;
  }
  if (parsed.values['help']) {
    io.out(commandHelp(match));
    return 0;
  }
  const configFile = typeof parsed.values['config'] === 'string' ? parsed.values['config'] : undefined;
  const config = () => loadConfig({ ...(configFile ? { file: configFile } : {}), env });
  try {
    const code = await match.run({ positionals: parsed.positionals, values: parsed.values, config, io });
    return code ?? 0;
  } catch (err) {
    if (err instanceof EsealError) {
      io.err(`eseal ${match.name}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
