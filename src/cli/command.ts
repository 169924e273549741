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
  const widths = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const pad = (c: string, i: number) => ' '.repeat(widths[i]! - displayWidth(c));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? pad(c, i) + c : c + pad(c, i)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Columns a string takes in a terminal: CJK ideographs, kana, hangul and full-width forms take two (channel names are Chinese). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const wide =
      (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x20000 && c <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}
