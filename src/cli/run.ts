// `eseal`: one CLI for every role. The kernel owns the framework: finding the command the
// arguments name, parsing its options, help, and turning an EsealError into a message and an exit
// code. Which commands exist is the application's business (app/main.ts).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EsealError } from '../errors.ts';
import type { KernelConfig } from '../config/kernel.ts';
import type { Command, CommandIO, OptionSpec } from './command.ts';

const HELP_OPTION: OptionSpec = { help: { type: 'boolean', short: 'h' } };

/** The package's version (source and built layouts differ in depth). */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // not at this depth
    }
  }
  return 'unknown';
}

function usageLine(c: Command<never>): string {
  return `eseal ${c.name}${c.usage ? ' ' + c.usage : ''}`;
}

function commandHelp(c: Command<never>): string {
  const lines = [`Usage: ${usageLine(c)}`, '', c.summary];
  if (c.help?.length) lines.push('', ...c.help);
  if ('config' in c.options) lines.push('', '  -c, --config FILE   YAML configuration (ESEAL_* environment variables override it)');
  lines.push('  -h, --help          this help');
  return lines.join('\n');
}

export const defaultIO: CommandIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
  stdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

export interface CliOptions<C extends KernelConfig> {
  /** every command, by its full name ('accounts add', 'edge status') */
  commands: Command<C>[];
  /** what `eseal` and `eseal --help` print */
  overview: string;
  /** loads the configuration for a command (its --config FILE, the environment) */
  loadConfig(file: string | undefined, env: NodeJS.ProcessEnv): Promise<C>;
  io?: CommandIO;
  env?: NodeJS.ProcessEnv;
}

/** Runs the CLI; returns the exit code. */
export async function runCli<C extends KernelConfig>(argv: string[], options: CliOptions<C>): Promise<number> {
  const { commands, io = defaultIO, env = process.env } = options;
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(options.overview);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.out(packageVersion());
    return 0;
  }
  // The longest command name that the arguments start with ('accounts add' before 'accounts').
  const match = commands
    .filter((c) => c.name.split(' ').every((w, i) => argv[i] === w))
    .sort((a, b) => b.name.length - a.name.length)[0];
  if (!match) {
    const typed = argv.slice(0, 2).filter((a) => !a.startsWith('-'));
    const prefix = typed.length > 1 && commands.some((c) => c.name.startsWith(`${typed[0]} ${typed[1]} `)) ? typed.join(' ') : typed[0]!;
    const group = commands.filter((c) => c.name.startsWith(prefix + ' '));
    if (group.length) {
      io.err(`eseal ${prefix}: say which: ${[...new Set(group.map((c) => c.name.slice(prefix.length + 1).split(' ')[0]))].join(', ')}`);
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
  let loaded: Promise<C> | undefined;
  const config = () => (loaded ??= options.loadConfig(configFile, env));
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
