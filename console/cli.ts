// The console role's commands: its users (`eseal console users add|list|remove`). They write the
// console's store directly, beside a running console (LMDB serialises writers across processes);
// every change is in the audit log, by 'cli'.
import { CONFIG_OPTION, formatTable, type Command } from '../src/cli/command.ts';
import { formatJsonTime } from '../src/contract/index.ts';
import type { ConsoleConfig } from './config.ts';
import { ConsoleStore } from './ConsoleStore.ts';
import { ConsoleInvalid } from './errors.ts';
import { CONSOLE_ROLES } from './auth/roles.ts';
import { PASSWORD_MIN } from './auth/UserStore.ts';

async function withStore<T>(config: () => Promise<ConsoleConfig>, fn: (store: ConsoleStore) => Promise<T>): Promise<T> {
  const store = ConsoleStore.open((await config()).dataDir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const CLI_ACTOR = { user: 'cli', role: '', address: 'cli' };

export const commands: Command<ConsoleConfig>[] = [
  {
    name: 'users add',
    summary: 'create a console user with a role (viewer < operator < admin)',
    usage: `<name> --role ${CONSOLE_ROLES.join('|')} --password <pw | ->`,
    options: { ...CONFIG_OPTION, role: { type: 'string' }, password: { type: 'string' } },
    help: [
      '  <name>          1 to 32 characters of A-Z a-z 0-9 . _ -',
      '  --role ROLE     viewer (reads), operator (also replays and purges items, binds models), admin (also settings and the audit log)',
      `  --password PW   at least ${PASSWORD_MIN} characters; - reads it from standard input (first line)`,
      '',
      'Example: eseal console users add zhang.san --role operator --password - < pw.txt',
    ],
    async run({ positionals, values, config, io }) {
      const [name, ...extra] = positionals;
      if (!name || extra.length) throw ConsoleInvalid(`usage: eseal console users add <name> --role ${CONSOLE_ROLES.join('|')} --password <pw|->`, { field: 'name' });
      const role = values['role'];
      if (typeof role !== 'string') throw ConsoleInvalid(`--role: required, one of ${CONSOLE_ROLES.join(', ')}`, { field: 'role' });
      let password = values['password'];
      if (typeof password !== 'string') throw ConsoleInvalid('--password: required (or --password - to read it from standard input)', { field: 'password' });
      if (password === '-') password = (await io.stdin()).split(/\r?\n/)[0] ?? '';
      const user = await withStore(config, async (s) => {
        const u = await s.users.add({ name, role, password: password as string });
        await s.audit.append({ ...CLI_ACTOR, action: 'user.add', target: `${u.name} (${u.role})`, result: 'ok' });
        return u;
      });
      io.out(`console user ${user.name} added with the ${user.role} role`);
    },
  },
  {
    name: 'users list',
    summary: 'list console users and their roles (never a password)',
    usage: '[--json]',
    options: { ...CONFIG_OPTION, json: { type: 'boolean' } },
    async run({ values, config, io }) {
      const users = await withStore(config, async (s) => s.users.list());
      if (values['json']) {
        io.out(JSON.stringify(users.map((u) => ({ name: u.name, role: u.role, createdAt: u.createdAt }))));
        return;
      }
      for (const line of formatTable(['NAME', 'ROLE', 'CREATED (Beijing)'], users.map((u) => [u.name, u.role, formatJsonTime(u.createdAt)]))) io.out(line);
    },
  },
  {
    name: 'users remove',
    summary: 'remove a console user and end its sessions at once',
    usage: '<name>',
    options: CONFIG_OPTION,
    async run({ positionals, config, io }) {
      const [name, ...extra] = positionals;
      if (!name || extra.length) throw ConsoleInvalid('usage: eseal console users remove <name>', { field: 'name' });
      const ended = await withStore(config, async (s) => {
        const n = await s.users.remove(name);
        await s.audit.append({ ...CLI_ACTOR, action: 'user.remove', target: name, result: 'ok' });
        return n;
      });
      io.out(`console user ${name} removed; ${ended} session(s) ended`);
    },
  },
];
