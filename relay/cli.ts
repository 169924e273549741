// The relay role's commands: accounts, mines, its SM2 key pair, and (cliOps, cliModels) status,
// queue and models.
import { CONFIG_OPTION, formatTable, type Command, type CommandIO } from '../src/cli/command.ts';
import { formatJsonTime } from '../src/contract/index.ts';
import { AccountInvalid } from './errors.ts';
import { openRelayStores, type RelayStores } from './RelayContext.ts';
import { opsCommands } from './cliOps.ts';
import { loadOrCreateSm2KeyPair, rotateSm2KeyPair } from '../src/crypto/keyFiles.ts';
import { publicKeyToSpkiBase64 } from '../src/crypto/sm2.ts';
import { modelCommands } from './cliModels.ts';
import { verifyCommands } from './cliVerify.ts';
import type { RelayConfig } from './config.ts';

async function withStores<T>(config: () => Promise<RelayConfig>, fn: (stores: RelayStores) => Promise<T>): Promise<T> {
  const stores = await openRelayStores(await config());
  try {
    return await fn(stores);
  } finally {
    await stores.close();
  }
}

function table(io: CommandIO, header: string[], rows: string[][]): void {
  for (const line of formatTable(header, rows)) io.out(line);
}

export const commands: Command<RelayConfig>[] = [
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
    summary: 'remove a mine account and revoke all its tokens at once',
    usage: '<username>',
    options: CONFIG_OPTION,
    async run({ positionals, config, io }) {
      const [username] = positionals;
      if (!username) throw AccountInvalid('usage: eseal accounts remove <username>');
      await withStores(config, async (s) => {
        await s.accounts.remove(username);
        await s.tokens.revokeUser(username);
      });
      io.out(`account ${username} removed; no token of it works any more`);
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
  {
    name: 'keys show',
    summary: "print the relay's SM2 public key, in both formats mines may expect",
    usage: '[--config FILE]',
    options: CONFIG_OPTION,
    help: ['GET /sm2 serves one of these (relay.publicKeyFormat): hex 04‖x‖y for sm-crypto, base64 SubjectPublicKeyInfo for hutool.'],
    async run({ config, io }) {
      const cfg = await config();
      const ring = await loadOrCreateSm2KeyPair(cfg.dataDir);
      io.out(`hex (sm-crypto):        ${ring.current.publicKeyHex}`);
      io.out(`base64 SPKI (hutool):   ${publicKeyToSpkiBase64(ring.current.publicKeyHex)}`);
      io.out(`created:                ${new Date(ring.current.createdAt).toISOString()}`);
      if (ring.previous) io.out(`previous key still accepted for logins: ${ring.previous.publicKeyHex.slice(0, 18)}…`);
    },
  },
  {
    name: 'keys rotate',
    summary: 'make a new SM2 key pair; the previous one keeps decrypting logins until the next rotation',
    usage: '[--config FILE]',
    options: CONFIG_OPTION,
    async run({ config, io }) {
      const cfg = await config();
      const ring = await rotateSm2KeyPair(cfg.dataDir);
      io.out(`new public key (hex): ${ring.current.publicKeyHex}`);
      io.out('a running relay serves it within a second; devices that cached the old key can still log in');
    },
  },
  ...opsCommands,
  ...modelCommands,
  ...verifyCommands,
];
