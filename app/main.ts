// The `eseal` command (bin/eseal.js runs the built copy of this file): the application's commands
// (start, config check) and every role's, a role's under its name (`eseal edge status`) and the
// relay's also without it (`eseal accounts add`).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command, CommandIO } from '../src/cli/command.ts';
import { packageVersion, runCli } from '../src/cli/run.ts';
import { loadAppConfig, type AppConfig } from './config.ts';
import { configCheckCommand } from './configCheck.ts';
import { MANIFESTS } from './roles.ts';
import { startCommand } from './start.ts';

interface Listed {
  commands: Command<AppConfig>[];
  /** the overview's sections: a title and its commands */
  groups: { title: string; commands: Command<AppConfig>[] }[];
}

/** Every command by its full name; throws when two would share a name. */
export async function listCommands(): Promise<Listed> {
  const own = [startCommand, configCheckCommand];
  const groups = [{ title: 'Commands', commands: own }];
  const all = [...own];
  for (const m of MANIFESTS) {
    if (!m.commands) continue;
    const commands = await m.commands();
    const prefixed = commands.map((c) => ({ ...c, name: `${m.name} ${c.name}` }));
    all.push(...prefixed);
    if (m.unprefixed) {
      all.push(...commands);
      groups.push({ title: `${m.name} (also as eseal ${m.name} <command>)`, commands });
    } else {
      groups.push({ title: m.name, commands: prefixed });
    }
  }
  const seen = new Map<string, true>();
  for (const c of all) {
    if (seen.has(c.name)) throw new Error(`two commands are named "eseal ${c.name}"`);
    seen.set(c.name, true);
  }
  return { commands: all, groups };
}

function overview({ groups }: Listed): string {
  const width = Math.max(...groups.flatMap((g) => g.commands.map((c) => c.name.length))) + 2;
  return [
    `eseal ${packageVersion()}: provincial relay for the national coal-mine electronic seal platform`,
    '',
    'Usage: eseal <command> [options]',
    ...groups.flatMap((g) => ['', `${g.title}:`, ...g.commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`)]),
    '',
    "Run `eseal <command> --help` for a command's options.",
  ].join('\n');
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io?: CommandIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const listed = await listCommands();
  return runCli(argv, {
    commands: listed.commands,
    overview: overview(listed),
    loadConfig: (file, environment) => loadAppConfig({ ...(file ? { file } : {}), env: environment }),
    ...(io ? { io } : {}),
    env,
  });
}

/** Runs the CLI over this process's arguments and sets its exit code. */
export async function runProcess(): Promise<void> {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`eseal: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}

// `node --import tsx app/main.ts …` (tests, npm scripts); bin/eseal.js calls runProcess itself
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) await runProcess();
