// The relay role's commands: start, accounts, mines.
import { CONFIG_OPTION, type Command, type CommandIO } from '../src/cli.ts';
import { formatJsonTime } from '../src/contract/index.ts';
import { AccountInvalid } from './errors.ts';
import { openRelayStores, type RelayStores } from './RelayContext.ts';
import { opsCommands } from './cliOps.ts';
import { modelCommands } from './cliModels.ts';
import type { EsealConfig } from '../src/config/schema.ts';

async function withStores<T>(config: () => Promise<EsealConfig>, fn: (stores: RelayStores) => Promise<T>): Promise<T> {
  const stores = await openRelayStores(await config());
  try {
    return await fn(stores);
  } finally {
    await stores.close();
  }
}

function table(io: CommandIO, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  io.out(line(header));
  for (const r of rows) io.out(line(r));
}

export const commands: Command[] = [
  {
    name: 'accounts add',
    summary: 'create a mine account (local mode) that may log in and send data for the given mines',
    usage: '<username> --password <pw | -> --mine <mineId>[,<mineId>…] [--org NAME] [--upstream-password <pw | ->]',
    options: {
      ...CONFIG_OPTION,
      password: { type: 'string' },
      mine: { type: 'string', multiple: true },
      org: { type: 'string' },
      'upstream-password': { type: 'string' },
      'upstream-username': { type: 'string' },
    },
    help: [
      '  --password PW   the password the mine device sends (SM2-encrypted); - reads it from standard input',
      '  --mine IDS      12-character mine codes, comma-separated or repeated; * allows any mine (a relay below this one)',
      '  --org NAME      answered as dept_name and org_name at login (default: the username)',
      '  --upstream-password PW   the national password to forward this account\'s data with (local mode);',
      '                  - reads it from standard input (the line after the password when both are -)',
      '  --upstream-username NAME the national username, when it differs from <username>',
      '',
      'Example: eseal accounts add mine001 --password - --mine 140421007866 --org XX煤矿 < pw.txt',
    ],
    async run({ positionals, values, config, io }) {
      const [username, ...extra] = positionals;
      if (!username || extra.length) throw AccountInvalid('usage: eseal accounts add <username> --password <pw> --mine <mineId>');
      let password = values['password'] as string | undefined;
      let upstreamPassword = values['upstream-password'] as string | undefined;
      if (password === undefined) throw AccountInvalid('--password: required (or --password - to read it from standard input)', { field: 'password' });
      if (password === '-' || upstreamPassword === '-') {
        const lines = (await io.stdin()).split(/\r?\n/);
        if (password === '-') password = lines.shift() ?? '';
        if (upstreamPassword === '-') upstreamPassword = lines.shift() ?? '';
      }
      const mines = ((values['mine'] as string[] | undefined) ?? []).flatMap((m) => m.split(',')).map((m) => m.trim()).filter(Boolean);
      const org = values['org'] as string | undefined;
      const upstreamUsername = values['upstream-username'] as string | undefined;
      const account = await withStores(config, (s) =>
        s.accounts.add({
          username,
          password: password!,
          mines,
          ...(org ? { org } : {}),
          ...(upstreamPassword !== undefined ? { upstreamPassword } : {}),
          ...(upstreamUsername ? { upstreamUsername } : {}),
        }),
      );
      io.out(`account ${account.username} added for mines ${account.mines.join(', ')}`);
    },
  },
  {
    name: 'accounts list',
    summary: 'list mine accounts (never their passwords)',
    usage: '[--config FILE]',
    options: CONFIG_OPTION,
    async run({ config, io }) {
      await withStores(config, async (s) => {
        const now = Date.now();
        const rows = s.accounts.list().map((a) => {
          const st = s.accounts.loginState(a.username);
          const upstream = a.upstream ? a.upstream.username : '-';
          return [a.username, a.mode ?? 'local', a.org, a.mines.join(','), upstream, formatJsonTime(a.createdAt), st.lockedUntil > now ? `locked until ${formatJsonTime(st.lockedUntil)}` : ''];
        });
        table(io, ['USERNAME', 'MODE', 'ORG', 'MINES', 'UPSTREAM AS', 'CREATED (Beijing)', 'STATE'], rows);
      });
    },
  },
  {
    name: 'accounts remove',
    summary: 'remove a mine account and revoke its token at once',
    usage: '<username>',
    options: CONFIG_OPTION,
    async run({ positionals, config, io }) {
      const [username] = positionals;
      if (!username) throw AccountInvalid('usage: eseal accounts remove <username>');
      await withStores(config, async (s) => {
        await s.accounts.remove(username);
        await s.tokens.revokeUser(username);
      });
      io.out(`account ${username} removed; its token no longer works`);
    },
  },
  {
    name: 'mines set-status',
    summary: 'set what camera/mineStatus answers for a mine (e.g. 生产矿井)',
    usage: '<mineId> <status>',
    options: CONFIG_OPTION,
    async run({ positionals, config, io }) {
      const [mineId, status] = positionals;
      if (!mineId || !status) throw AccountInvalid('usage: eseal mines set-status <mineId> <status>');
      const info = await withStores(config, (s) => s.mines.setStatus(mineId, status));
      io.out(`mine ${info.mineId}: ${info.status}`);
    },
  },
  {
    name: 'mines list',
    summary: 'list the mines whose status the relay knows',
    usage: '[--config FILE]',
    options: CONFIG_OPTION,
    async run({ config, io }) {
      await withStores(config, async (s) => {
        table(
          io,
          ['MINE', 'STATUS', 'SOURCE', 'UPDATED (Beijing)'],
          s.mines.list().map((m) => [m.mineId, m.status, m.source, formatJsonTime(m.updatedAt)]),
        );
      });
    },
  },
  ...opsCommands,
  ...modelCommands,
];
