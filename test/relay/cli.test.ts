import t from 'tap';
import { main } from '../../app/main.ts';
import type { CommandIO } from '../../src/cli/command.ts';
import { tempDir } from '../helpers/relay.ts';

function io(stdin = ''): CommandIO & { text: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    stdin: async () => stdin,
    text: () => out.join('\n'),
    errText: () => err.join('\n'),
  };
}

t.test('accounts, mines and keys through the CLI', async (t) => {
  const dataDir = await tempDir(t);
  const env = { ESEAL_DATA_DIR: dataDir };
  const run = async (argv: string[], stdin = '') => {
    const x = io(stdin);
    const code = await main(argv, x, env);
    return { code, out: x.text(), err: x.errText() };
  };

  const add = await run(['accounts', 'add', 'mine001', '--password', '-', '--mine', '140421007866,140421007867', '--org', 'XX煤矿'], 'pw-from-stdin\n');
  t.equal(add.code, 0, add.err);
  t.match(add.out, /account mine001 added for mines 140421007866, 140421007867/);
  const dup = await run(['accounts', 'add', 'mine001', '--password', 'x', '--mine', '140421007866']);
  t.equal(dup.code, 1);
  t.match(dup.err, /account "mine001" exists already/);
  const badMine = await run(['accounts', 'add', 'mine002', '--password', 'x', '--mine', '1404']);
  t.equal(badMine.code, 1);
  t.match(badMine.err, /mine: each must be a 12-character mine code or \*, got "1404"/);
  const noPw = await run(['accounts', 'add', 'mine002', '--mine', '140421007866']);
  t.match(noPw.err, /--password: required/);
  const list = await run(['accounts', 'list']);
  t.match(list.out, /^USERNAME\s+MODE\s+ORG\s+MINES/);
  t.match(list.out, /mine001\s+local\s+XX煤矿\s+140421007866,140421007867/);
  t.notMatch(list.out, /pw-from-stdin|scrypt/, 'never a password or its hash');

  t.equal((await run(['mines', 'set-status', '140421007866', '生产矿井'])).code, 0);
  t.match((await run(['mines', 'list'])).out, /140421007866\s+生产矿井\s+operator/);
  t.match((await run(['mines', 'set-status', '1404', 'x'])).err, /mineId: must be 12 characters/);

  const keys = await run(['keys', 'show']);
  const hex = /hex \(sm-crypto\):\s+(04[0-9a-f]{128})/.exec(keys.out)?.[1];
  t.ok(hex, 'hex key shown');
  t.match(keys.out, /base64 SPKI \(hutool\):\s+MFkw/);
  const rotated = await run(['keys', 'rotate']);
  t.notMatch(rotated.out, new RegExp(hex!), 'a new key');
  t.match((await run(['keys', 'show'])).out, /previous key still accepted/);

  t.equal((await run(['accounts', 'remove', 'mine001'])).code, 0);
  t.match((await run(['accounts', 'remove', 'mine001'])).err, /no account "mine001"/);

  const cfg = await run(['config', 'check']);
  t.match(cfg.out, new RegExp(`dataDir = "${dataDir.replace(/[/\\.]/g, '\\$&')}"`));
  t.match(cfg.out, /relay\.client\.secret = \(hidden\)/);
});

t.test('help for every command, and clear usage errors', async (t) => {
  const x = io();
  t.equal(await main(['--help'], x, {}), 0);
  const overview = x.text();
  const names = [...overview.matchAll(/^ {2}(\S+(?: \S+)?)\s{2,}/gm)].map((m) => m[1]!);
  t.ok(names.length >= 9, `${names.length} commands listed`);
  for (const name of names) {
    const h = io();
    t.equal(await main([...name.split(' '), '--help'], h, {}), 0, name);
    t.match(h.text(), new RegExp(`^Usage: eseal ${name}`), `${name} --help`);
  }
  const unknown = io();
  t.equal(await main(['frobnicate'], unknown, {}), 2);
  t.match(unknown.errText(), /unknown command "frobnicate"/);
  const group = io();
  t.equal(await main(['accounts'], group, {}), 2);
  t.match(group.errText(), /say which: add, list, remove/);
  const badOpt = io();
  t.equal(await main(['accounts', 'list', '--nope'], badOpt, {}), 2);
  t.match(badOpt.errText(), /Unknown option '--nope'/);
  const badCfg = io();
  t.equal(await main(['config', 'check'], badCfg, { ESEAL_RELAY_LISTEN: 'nowhere' }), 1);
  t.match(badCfg.errText(), /relay\.listen: must be host:port/);
});
