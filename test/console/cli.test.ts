// `eseal console users …` through the real CLI entry, beside a running console: a user removed by
// the CLI loses its session at once, and every change is in the audit log.
import t from 'tap';
import { main } from '../../app/main.ts';
import type { CommandIO } from '../../src/cli/command.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { ConsoleClient, startTestConsole } from './fixture.ts';

function io(stdin = ''): CommandIO & { text: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (l) => out.push(l), err: (l) => err.push(l), stdin: async () => stdin, text: () => out.join('\n'), errText: () => err.join('\n') };
}

t.test('console users add, list, remove', async (t) => {
  const relay = await startTestRelay(t);
  const c = await startTestConsole(t, relay);
  const env = { ESEAL_DATA_DIR: relay.dataDir };
  const run = async (argv: string[], stdin = '') => {
    const x = io(stdin);
    const code = await main(['console', 'users', ...argv], x, env);
    return { code, out: x.text(), err: x.errText() };
  };

  const add = await run(['add', 'zhang.san', '--role', 'operator', '--password', '-'], 'from-stdin-pw\nignored\n');
  t.equal(add.code, 0, add.err);
  t.match(add.out, /console user zhang\.san added with the operator role/);
  t.equal((await run(['add', 'li_si', '--role', 'admin', '--password', 'admin-password-1'])).code, 0);
  const dup = await run(['add', 'zhang.san', '--role', 'viewer', '--password', 'another-pw-1']);
  t.equal(dup.code, 1);
  t.match(dup.err, /name: a console user "zhang.san" exists already/);
  t.match((await run(['add', 'x y', '--role', 'viewer', '--password', 'another-pw-1'])).err, /name: 1 to 32 characters/);
  t.match((await run(['add', 'wang', '--role', 'god', '--password', 'another-pw-1'])).err, /role: one of viewer, operator, admin/);
  t.match((await run(['add', 'wang', '--password', 'another-pw-1'])).err, /--role: required/);
  t.match((await run(['add', 'wang', '--role', 'viewer'])).err, /--password: required/);
  t.match((await run(['add', 'wang', '--role', 'viewer', '--password', 'short'])).err, /password: 10 to 256 characters/);

  const list = await run(['list']);
  t.match(list.out, /^NAME\s+ROLE\s+CREATED \(Beijing\)/);
  t.match(list.out, /li_si\s+admin\s+\d{4}-\d{2}-\d{2}/);
  t.match(list.out, /zhang\.san\s+operator/);
  t.notMatch(list.out, /scrypt|from-stdin-pw/, 'never a password or its hash');
  const json = JSON.parse((await run(['list', '--json'])).out);
  t.same(json.map((u: { name: string; role: string }) => [u.name, u.role]), [['li_si', 'admin'], ['zhang.san', 'operator']]);

  // the password read from standard input is the one that logs in, at the running console
  const client = new ConsoleClient(c.url);
  t.equal((await client.login('zhang.san', 'from-stdin-pw')).status, 200);
  t.equal((await client.call('GET', '/api/me')).status, 200);
  const removed = await run(['remove', 'zhang.san']);
  t.equal(removed.code, 0, removed.err);
  t.match(removed.out, /console user zhang\.san removed; 1 session\(s\) ended/);
  t.equal((await client.call('GET', '/api/me')).status, 401, 'its session ended at once');
  t.match((await run(['remove', 'zhang.san'])).err, /name: no console user "zhang.san"/);

  const admin = new ConsoleClient(c.url);
  await admin.login('li_si', 'admin-password-1');
  const audit = await admin.call('GET', '/api/audit?limit=10');
  t.equal(audit.status, 200);
  t.same(
    audit.json.data.entries.map((e: { action: string; target: string; user: string; address: string }) => `${e.action} ${e.target} by ${e.user}@${e.address}`),
    ['login li_si by li_si@127.0.0.1', 'user.remove zhang.san by cli@cli', 'login zhang.san by zhang.san@127.0.0.1', 'user.add li_si (admin) by cli@cli', 'user.add zhang.san (operator) by cli@cli'],
  );
  const page1 = await admin.call('GET', '/api/audit?limit=2');
  t.equal(page1.json.data.entries.length, 2);
  const page2 = await admin.call('GET', `/api/audit?limit=2&before=${page1.json.data.nextBefore}`);
  t.same(page2.json.data.entries.map((e: { action: string }) => e.action), ['login', 'user.add']);
  const bad = await admin.call('GET', '/api/audit?limit=5000');
  t.equal(bad.status, 400);
  t.match(bad.json.msg, /^limit: must be <= 500/);
  const html = await admin.call('GET', '/audit');
  t.equal(html.status, 200);
  t.match(html.text, /user\.remove<\/td><td>zhang\.san<\/td>/);
});
