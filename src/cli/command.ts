// The shape of a command of the `eseal` CLI, and the small pieces every command shares.
import type { ParseArgsConfig } from 'node:util';
import type { KernelConfig } from '../config/kernel.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** reads all of standard input (for --password -) */
  stdin: () => Promise<string>;
}

export interface CommandArgs<C extends KernelConfig = KernelConfig> {
  positionals: string[];
  values: Record<string, unknown>;
  /** the configuration (--config FILE, ESEAL_* variables), loaded on first call */
  config: () => Promise<C>;
  io: CommandIO;
}

export interface Command<C extends KernelConfig = KernelConfig> {
  /** e.g. 'accounts add' (a role's commands are named without the role's prefix) */
  name: string;
  summary: string;
  /** the argument part of the usage line, e.g. '<username> --password <pw> --mine <id>[,<id>…]' */
  usage: string;
  options: OptionSpec;
  /** lines explaining options and examples */
  help?: string[];
  run(args: CommandArgs<C>): Promise<number | void>;
}

export const CONFIG_OPTION: OptionSpec = {
  config: { type: 'string', short: 'c' },
};

/** Columns padded to their widest cell, two spaces apart; `right` holds the columns aligned right. */
export function formatTable(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
