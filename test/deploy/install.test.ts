// deploy/install.sh in a test root (ESEAL_INSTALL_ROOT): stub systemctl, firewall-cmd, useradd,
// userdel, runuser, chronyc and timedatectl on PATH record what they were asked; small fake bundles
// (a sh `bin/eseal` answering --version, status, edge status and config check, and the real
// eseal.example.yaml) stand in for the 100 MB one. The whole life (install, second install, upgrade,
// failed upgrade → rollback, uninstall, purge) runs under dash, bash and busybox sh.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, chmod, copyFile, lstat, mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const SCRIPT = join(ROOT, 'deploy', 'install.sh');
const EXAMPLE = join(ROOT, 'deploy', 'eseal.example.yaml');

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const SHELLS: [string, string[]][] = [
  ['sh', ['sh']],
  ['bash', ['bash']],
  ...(onPath('busybox') ? ([['busybox sh', ['busybox', 'sh']]] as [string, string[]][]) : []),
];

const STUBS: Record<string, string> = {
  systemctl: `[ "$1" = is-active ] && exit 0; exit 0`,
  'firewall-cmd': `[ "$1" = --state ] && [ -e "$STUB_DIR/firewalld-off" ] && { echo 'not running'; exit 252; }; exit 0`,
  useradd: `for a; do u=$a; done; echo "$u:x:$(id -u):$(id -g):eseal appliance:/data:/sbin/nologin" >> "$ESEAL_INSTALL_ROOT/etc/passwd"`,
  userdel: `grep -v "^$1:" "$ESEAL_INSTALL_ROOT/etc/passwd" > "$STUB_DIR/passwd.tmp"; cat "$STUB_DIR/passwd.tmp" > "$ESEAL_INSTALL_ROOT/etc/passwd"`,
  runuser: `while [ "$1" != -- ]; do shift; done; shift; exec "$@"`,
  chronyc: `if [ -e "$STUB_DIR/unsynced" ]; then echo 'Leap status     : Not synchronised'; else echo 'Leap status     : Normal'; fi`,
  timedatectl: `if [ -e "$STUB_DIR/utc" ]; then echo '       Time zone: UTC (UTC, +0000)'; else echo '       Time zone: Asia/Shanghai (CST, +0800)'; fi
echo '     NTP enabled: yes'
echo 'NTP synchronized: yes'`,
};

// bin/eseal of a fake bundle. `config check` prints the config's `#check key = value` lines first
// (the installer takes a key's first line), then the relay's and edge's defaults; ESEAL_FAKE_REAL_CLI
// hands it to the real CLI instead.
const FAKE_ESEAL = (version: string) => `#!/bin/sh
here=$(cd "$(dirname "$0")/.." && pwd)
case "$1" in
  --version) echo ${version} ;;
  start) echo "$*" > "$here/started"; exec sleep 600 ;;
  status)
    if [ -e "$here/BROKEN" ]; then echo '{ "running": false }'; exit 3; fi
    echo '{ "running": true }' ;;
  edge)
    [ -e "$here/BROKEN" ] && exit 1
    printf '{\\n "at": %s000,\\n "pid": 1\\n}\\n' "$(date +%s)" ;;
  config)
    if [ -n "\${ESEAL_FAKE_REAL_CLI:-}" ]; then exec "$ESEAL_FAKE_NODE" --import tsx "$ESEAL_FAKE_REAL_CLI/app/main.ts" "$@"; fi
    conf=$4
    sed -n 's/^#check //p' "$conf"
    echo "dataDir = \\"$(sed -n 's/^dataDir: *//p' "$conf" | head -n 1)\\""
    echo 'relay.listen = "0.0.0.0:8443"'
    echo 'admin.listen = "127.0.0.1:9090"'
    echo 'edge.live.host = ""'
    echo 'edge.live.basePort = 8090'
    echo 'edge.cameras = []' ;;
  *) echo "fake eseal: $*" >&2; exit 2 ;;
esac
`;

interface Lab {
  dir: string;
  root: string;
  stubDir: string;
  log: string;
  env: NodeJS.ProcessEnv;
  /** ESEAL_INSTALL_ROOT + path */
  at: (p: string) => string;
}

async function makeLab(t: Test, extraEnv: NodeJS.ProcessEnv = {}): Promise<Lab> {
  const dir = await tempDir(t, 'eseal-install-');
  const root = join(dir, 'root');
  const stubDir = join(dir, 'stubs');
  const log = join(dir, 'commands.log');
  await mkdir(join(root, 'etc', 'systemd', 'system'), { recursive: true });
  await mkdir(stubDir);
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(log, '');
  for (const [name, body] of Object.entries(STUBS)) {
    await writeFile(join(stubDir, name), `#!/bin/sh\necho "${name} $*" >> "$STUB_LOG"\n${body}\n`);
    await chmod(join(stubDir, name), 0o755);
  }
  const env = {
    ...process.env,
    PATH: `${stubDir}:${process.env['PATH']}`,
    ESEAL_INSTALL_ROOT: root,
    STUB_LOG: log,
    STUB_DIR: stubDir,
    ESEAL_HEALTH_TIMEOUT: '2',
    ESEAL_HEALTH_INTERVAL: '1',
    ...extraEnv,
  };
  return { dir, root, stubDir, log, env, at: (p) => join(root, p) };
}

async function fakeBundle(lab: Lab, version: string, opts: { broken?: boolean; exampleExtra?: string } = {}): Promise<string> {
  const top = join(lab.dir, 'bundles', version, `eseal-${version}`);
  await mkdir(join(top, 'bin'), { recursive: true });
  await writeFile(join(top, 'bin', 'eseal'), FAKE_ESEAL(version));
  await chmod(join(top, 'bin', 'eseal'), 0o755);
  await copyFile(EXAMPLE, join(top, 'eseal.example.yaml'));
  if (opts.exampleExtra) await appendFile(join(top, 'eseal.example.yaml'), opts.exampleExtra);
  if (opts.broken) await writeFile(join(top, 'BROKEN'), '');
  const tarball = join(lab.dir, `eseal-${version}-linux-x64.tar.gz`);
  const r = spawnSync('tar', ['-czf', tarball, '-C', join(lab.dir, 'bundles', version), `eseal-${version}`]);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  return tarball;
}

interface Run {
  code: number | null;
  out: string;
  err: string;
  /** the stub commands run during this call, one per line */
  commands: string[];
}

async function install(lab: Lab, shell: string[], args: string[]): Promise<Run> {
  const before = (await readFile(lab.log, 'utf8')).length;
  const child = spawn(shell[0]!, [...shell.slice(1), SCRIPT, ...args], { env: lab.env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const commands = (await readFile(lab.log, 'utf8')).slice(before).split('\n').filter(Boolean);
  return { code, out, err, commands };
}

const linkOf = (lab: Lab, name: string) => readlink(lab.at(`opt/eseal/${name}`)).catch(() => undefined);
const modeOf = async (p: string) => (await stat(p)).mode & 0o777;
const firewallOpened = (r: Run) => r.commands.filter((c) => c.startsWith('firewall-cmd --permanent --add-port=')).map((c) => c.slice(36)).sort();
const firewallClosed = (r: Run) => r.commands.filter((c) => c.startsWith('firewall-cmd --permanent --remove-port=')).map((c) => c.slice(39)).sort();

// two cameras: the first on edge.live.basePort (8090), the second on its own livePort
const EDGE_CAMERAS = `#check edge.cameras = [{"name":"a","cameraId":"10","url":"rtsp://x/1","analyses":{"person":{"line":[[0.05,0.6],[0.95,0.6]],"towards":[0.5,0.9]}}},{"name":"b","cameraId":"20","url":"rtsp://x/2","livePort":9100}]\n`;

for (const [name, shell] of SHELLS) {
  t.test(`${name}: install, second install, upgrade, failed upgrade → rollback, uninstall, purge`, async (t) => {
    const lab = await makeLab(t);
    const v1 = await fakeBundle(lab, '1.0.0', { exampleExtra: EDGE_CAMERAS });
    const v2 = await fakeBundle(lab, '1.1.0', { exampleExtra: EDGE_CAMERAS });
    const v3 = await fakeBundle(lab, '1.2.0', { broken: true, exampleExtra: EDGE_CAMERAS });

    // install: code, link, user, data dir, config from the example, units, firewall; not started
    // (the configuration is the example's: the operator edits it first)
    const first = await install(lab, shell, [v1, '--roles', 'edge,relay', '--data', '/data/eseal']);
    t.equal(first.code, 0, first.err);
    t.ok(existsSync(lab.at('opt/eseal/1.0.0/bin/eseal')), 'the bundle is unpacked under /opt/eseal/<version>');
    t.equal(await linkOf(lab, 'current'), '1.0.0', 'current → 1.0.0');
    t.equal(await linkOf(lab, 'previous'), undefined, 'no previous version yet');
    t.match(first.commands.filter((c) => c.startsWith('useradd')), [/^useradd -r -M -d \/data\/eseal -s \S*(nologin|false) .*eseal$/]);
    t.match(await readFile(lab.at('etc/passwd'), 'utf8'), /^eseal:/m);
    t.equal(await modeOf(lab.at('data/eseal')), 0o700, 'the data directory is 0700');
    t.equal((await stat(lab.at('data/eseal'))).uid, process.getuid!(), "owned by the eseal user (the stub's uid)");
    const config = await readFile(lab.at('etc/eseal/eseal.yaml'), 'utf8');
    t.match(config, /^dataDir: \/data\/eseal$/m, 'the config names the chosen data directory');
    t.equal(config.replace(/^dataDir:.*$/m, ''), (await readFile(EXAMPLE, 'utf8')).replace(/^dataDir:.*$/m, '') + EDGE_CAMERAS, 'otherwise the example');
    t.equal(await modeOf(lab.at('etc/eseal/eseal.yaml')), 0o640);
    t.equal(await modeOf(lab.at('etc/eseal/eseal-edge.env')), 0o600, 'secrets file for the edge, root only');
    for (const role of ['relay', 'edge']) {
      const unit = await readFile(lab.at(`etc/systemd/system/eseal-${role}.service`), 'utf8');
      t.match(unit, `\nExecStart=/opt/eseal/current/bin/eseal start --roles ${role} --config /etc/eseal/eseal.yaml\n`);
      for (const line of ['User=eseal', 'Restart=always', 'LimitNOFILE=65536', 'StandardOutput=journal', 'NoNewPrivileges=yes', 'PrivateTmp=yes', 'ProtectSystem=full', 'ProtectHome=yes', 'ReadWriteDirectories=/data/eseal', 'CapabilityBoundingSet=', `EnvironmentFile=-/etc/eseal/eseal-${role}.env`, 'WantedBy=multi-user.target'])
        t.match(unit, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'), `${role}: ${line}`);
      // newer than systemd 219 (CentOS 7): unknown there
      t.notMatch(unit, /ReadWritePaths|ProtectSystem=strict|AmbientCapabilities|TasksMax|ProtectKernel|MemoryDenyWriteExecute/, `${role}: only what systemd 219 knows`);
    }
    t.notOk(existsSync(lab.at('etc/systemd/system/eseal-gb28181.service')), 'no unit for a role not chosen');
    t.same(
      first.commands.filter((c) => c.startsWith('systemctl')),
      ['systemctl daemon-reload', 'systemctl enable eseal-relay.service', 'systemctl enable eseal-edge.service'],
      'enabled, not started',
    );
    t.same(firewallOpened(first), ['8090/tcp', '8443/tcp', '9100/tcp'], 'exactly the relay port and the two cameras');
    t.match(first.out, /not started: first edit/);
    t.notMatch(first.err, /WARNING/, 'clock synchronised, on Beijing time: no warning');

    // second install of the same bundle: the edited config stays, the user is not made again, started
    await appendFile(lab.at('etc/eseal/eseal.yaml'), '# edited by the operator\n');
    const edited = await readFile(lab.at('etc/eseal/eseal.yaml'), 'utf8');
    const second = await install(lab, shell, [v1]);
    t.equal(second.code, 0, second.err);
    t.equal(await readFile(lab.at('etc/eseal/eseal.yaml'), 'utf8'), edited, 'an existing config is never overwritten');
    t.same(second.commands.filter((c) => c.startsWith('useradd')), [], 'the user exists already');
    t.ok(second.commands.includes('systemctl restart eseal-relay.service') && second.commands.includes('systemctl restart eseal-edge.service'), 'both roles (re)started');
    t.ok(second.commands.includes('runuser -u eseal -- ' + lab.at('opt/eseal/current/bin/eseal') + ' status --config ' + lab.at('etc/eseal/eseal.yaml') + ' --json'), 'health checked as the eseal user');
    t.match(second.out, /version 1\.0\.0 is running and healthy \(relay, edge\)/);
    t.equal(await linkOf(lab, 'current'), '1.0.0');

    // upgrade: data and config kept, current moves, the old version stays as previous
    await writeFile(lab.at('data/eseal/queue.mdb'), 'the queue');
    const up = await install(lab, shell, [v2]);
    t.equal(up.code, 0, up.err);
    t.equal(await linkOf(lab, 'current'), '1.1.0', 'current → 1.1.0');
    t.equal(await linkOf(lab, 'previous'), '1.0.0', 'previous → 1.0.0');
    t.ok(existsSync(lab.at('opt/eseal/1.0.0/bin/eseal')), 'the old version is kept');
    t.equal(await readFile(lab.at('data/eseal/queue.mdb'), 'utf8'), 'the queue', 'data kept');
    t.equal(await readFile(lab.at('etc/eseal/eseal.yaml'), 'utf8'), edited, 'configuration kept');
    t.ok(up.commands.includes('systemctl restart eseal-relay.service'), 'the new version started');
    t.match(up.out, /version 1\.1\.0 is running and healthy/);

    // failed upgrade: 1.2.0 never becomes healthy → back to 1.1.0, restarted, exit 3
    const bad = await install(lab, shell, [v3]);
    t.equal(bad.code, 3, 'exit 3: not healthy');
    t.equal(await linkOf(lab, 'current'), '1.1.0', 'current back to 1.1.0');
    t.notOk(existsSync(lab.at('opt/eseal/1.2.0')), 'the failed version removed');
    t.equal(bad.commands.filter((c) => c === 'systemctl restart eseal-relay.service').length, 2, 'restarted on 1.2.0, then on 1.1.0 again');
    t.match(bad.err, /rolling back to version 1\.1\.0/);
    t.match(bad.err, /rolled back to 1\.1\.0, which is running/);
    t.equal(await readFile(lab.at('data/eseal/queue.mdb'), 'utf8'), 'the queue', 'data kept');

    // uninstall: units, code and firewall openings go; data and configuration stay
    const un = await install(lab, shell, ['--uninstall']);
    t.equal(un.code, 0, un.err);
    t.notOk(existsSync(lab.at('etc/systemd/system/eseal-relay.service')) || existsSync(lab.at('etc/systemd/system/eseal-edge.service')), 'units removed');
    t.ok(un.commands.includes('systemctl disable --now eseal-relay.service') && un.commands.includes('systemctl disable --now eseal-edge.service'));
    t.notOk(existsSync(lab.at('opt/eseal')), 'code removed');
    t.same(firewallClosed(un), ['8090/tcp', '8443/tcp', '9100/tcp'], 'ports closed');
    t.equal(await readFile(lab.at('data/eseal/queue.mdb'), 'utf8'), 'the queue', 'data kept');
    t.equal(await readFile(lab.at('etc/eseal/eseal.yaml'), 'utf8'), edited, 'configuration kept');
    t.match(await readFile(lab.at('etc/passwd'), 'utf8'), /^eseal:/m, 'user kept');

    // reinstall over the kept data and configuration (starts at once: the config is the operator's)
    const again = await install(lab, shell, [v2]);
    t.equal(again.code, 0, again.err);
    t.same(again.commands.filter((c) => c.startsWith('systemctl restart')), ['systemctl restart eseal-relay.service', 'systemctl restart eseal-console.service'], 'the default roles, relay and its console, started');

    // purge: data, configuration and the user go too
    const purge = await install(lab, shell, ['--uninstall', '--purge']);
    t.equal(purge.code, 0, purge.err);
    t.notOk(existsSync(lab.at('data/eseal')), 'data removed');
    t.notOk(existsSync(lab.at('etc/eseal')), 'configuration removed');
    t.notOk(existsSync(lab.at('opt/eseal')), 'code removed');
    t.ok(purge.commands.includes('userdel eseal'));
    t.notMatch(await readFile(lab.at('etc/passwd'), 'utf8'), /^eseal:/m);
  });
}

t.test('the clock not synchronised and not on Beijing time: warnings, the install goes on', async (t) => {
  const lab = await makeLab(t);
  await writeFile(join(lab.stubDir, 'unsynced'), '');
  await writeFile(join(lab.stubDir, 'utc'), '');
  const r = await install(lab, ['sh'], [await fakeBundle(lab, '1.0.0')]);
  t.equal(r.code, 0, r.err);
  t.ok(r.commands.includes('chronyc tracking'));
  t.match(r.err, /WARNING: the clock is not synchronised/);
  t.match(r.err, /WARNING: the time zone is UTC, not Beijing time: timedatectl set-timezone Asia\/Shanghai/);
});

t.test('firewalld not running: the ports to open are named, nothing is asked of it', async (t) => {
  const lab = await makeLab(t);
  await writeFile(join(lab.stubDir, 'firewalld-off'), '');
  const r = await install(lab, ['sh'], [await fakeBundle(lab, '1.0.0')]);
  t.equal(r.code, 0, r.err);
  t.same(firewallOpened(r), []);
  t.match(r.err, /WARNING: firewalld is not running: open these ports by hand .*: 8443\/tcp/);
  // uninstall then closes nothing: it opened nothing
  const un = await install(lab, ['sh'], ['--uninstall']);
  t.same(firewallClosed(un), []);
});

t.test('gb28181: SIP over UDP and TCP and the media range, from its configuration', async (t) => {
  const lab = await makeLab(t);
  await mkdir(lab.at('etc/eseal'), { recursive: true });
  await writeFile(lab.at('etc/eseal/eseal.yaml'), 'dataDir: /srv/eseal\n#check gb28181.sip.port = 5062\n#check gb28181.media.ports = "31000-31100"\n');
  const r = await install(lab, ['sh'], [await fakeBundle(lab, '1.0.0'), '--roles', 'gb28181,relay']);
  t.equal(r.code, 0, r.err);
  t.same(firewallOpened(r), ['31000-31100/tcp', '31000-31100/udp', '5062/tcp', '5062/udp', '8443/tcp']);
  t.match(await readFile(lab.at('etc/systemd/system/eseal-gb28181.service'), 'utf8'), /ExecStart=\/opt\/eseal\/current\/bin\/eseal start --roles gb28181 /);
  t.equal(await modeOf(lab.at('srv/eseal')), 0o700, "the config's dataDir wins");
});

t.test('ports read through the real `eseal config check`; a role the bundle lacks is refused; roles dropped close their ports', async (t) => {
  const lab = await makeLab(t, { ESEAL_FAKE_REAL_CLI: ROOT, ESEAL_FAKE_NODE: process.execPath });
  await mkdir(lab.at('etc/eseal'), { recursive: true });
  await writeFile(
    lab.at('etc/eseal/eseal.yaml'),
    `dataDir: /data/eseal
relay:
  listen: 0.0.0.0:9443
edge:
  mineId: "140421007866"
  report: { url: "https://127.0.0.1:9443", username: mine001 }
  live: { basePort: 9000 }
  cameras:
    - { name: a, cameraId: "10", url: "rtsp://x/1", analyses: { belt: { roi: [[0.15, 0.35], [0.85, 0.35], [0.85, 0.75], [0.15, 0.75]], direction: right } } }
    - { name: b, cameraId: "20", url: "rtsp://x/2", livePort: 9100 }
    - { name: c, cameraId: "30", url: "rtsp://x/3" }
`,
  );
  const bundle = await fakeBundle(lab, '1.0.0');
  const r = await install(lab, ['sh'], [bundle, '--roles', 'relay,edge']);
  t.equal(r.code, 0, r.err);
  t.same(firewallOpened(r), ['9000/tcp', '9002/tcp', '9100/tcp', '9443/tcp'], 'relay.listen, basePort + index, livePort');

  const only = await install(lab, ['sh'], [bundle, '--roles', 'relay']);
  t.equal(only.code, 0, only.err);
  t.notOk(existsSync(lab.at('etc/systemd/system/eseal-edge.service')), "the edge's unit removed");
  t.ok(only.commands.includes('systemctl disable --now eseal-edge.service'));
  t.same(firewallClosed(only), ['9000/tcp', '9002/tcp', '9100/tcp'], "the edge's ports closed");

  // the real CLI checks the bridge's part: it will not run without a devices' password
  const gb = await install(lab, ['sh'], [bundle, '--roles', 'relay,gb28181']);
  t.equal(gb.code, 1);
  t.match(gb.err, /gb28181\.password/);
  t.notOk(existsSync(lab.at('etc/systemd/system/eseal-gb28181.service')));
  await appendFile(lab.at('etc/eseal/eseal.yaml'), 'gb28181:\n  password: "device-secret-1"\n  media: { ports: "32000-32100" }\n');
  const gbOk = await install(lab, ['sh'], [bundle, '--roles', 'relay,gb28181']);
  t.equal(gbOk.code, 0, gbOk.err);
  t.same(firewallOpened(gbOk), ['32000-32100/tcp', '32000-32100/udp', '5060/tcp', '5060/udp', '9443/tcp'], "the bridge's SIP port and media range, read by the real CLI");

  // the console on the office network opens its port; on loopback (its default) none
  const consoleLoop = await install(lab, ['sh'], [bundle, '--roles', 'relay,console']);
  t.equal(consoleLoop.code, 0, consoleLoop.err);
  t.ok(existsSync(lab.at('etc/systemd/system/eseal-console.service')), "the console's unit, found by its admin.* keys");
  t.notOk(firewallOpened(consoleLoop).includes('9090/tcp'), 'no opening for a console on 127.0.0.1:9090');
  await appendFile(lab.at('etc/eseal/eseal.yaml'), 'admin:\n  listen: 0.0.0.0:9191\n');
  const consoleLan = await install(lab, ['sh'], [bundle, '--roles', 'relay,console']);
  t.equal(consoleLan.code, 0, consoleLan.err);
  t.ok(firewallOpened(consoleLan).includes('9191/tcp'), "admin.listen's port opened when it is not loopback");

  // a role the bundle's CLI does not know is refused (the fake CLI prints no gb28181 keys)
  const old = await makeLab(t);
  const lacking = await install(old, ['sh'], [await fakeBundle(old, '1.0.0'), '--roles', 'relay,gb28181']);
  t.equal(lacking.code, 1);
  t.match(lacking.err, /version 1\.0\.0 has no gb28181 role/);
  t.notOk(existsSync(old.at('etc/systemd/system/eseal-gb28181.service')));
});

t.test('--rollback goes back to the previous version and can undo itself; old versions are pruned', async (t) => {
  const lab = await makeLab(t);
  const r1 = await install(lab, ['sh'], [await fakeBundle(lab, '1.0.0'), '--no-start']);
  t.equal(r1.code, 0, r1.err);
  t.equal((await install(lab, ['sh'], [await fakeBundle(lab, '1.1.0')])).code, 0);
  const back = await install(lab, ['sh'], ['--rollback']);
  t.equal(back.code, 0, back.err);
  t.equal(await linkOf(lab, 'current'), '1.0.0');
  t.equal(await linkOf(lab, 'previous'), '1.1.0');
  t.ok(back.commands.includes('systemctl restart eseal-relay.service'));
  t.ok((await lstat(lab.at('opt/eseal/current'))).isSymbolicLink());
  const forth = await install(lab, ['sh'], ['--rollback']);
  t.equal(forth.code, 0, forth.err);
  t.equal(await linkOf(lab, 'current'), '1.1.0', 'a second --rollback undoes the first');
  t.equal(await linkOf(lab, 'previous'), '1.0.0');

  // a healthy upgrade keeps the version it replaced and removes the older ones
  const next = await install(lab, ['sh'], [await fakeBundle(lab, '1.2.0')]);
  t.equal(next.code, 0, next.err);
  t.equal(await linkOf(lab, 'previous'), '1.1.0');
  t.ok(existsSync(lab.at('opt/eseal/1.1.0/bin/eseal')) && existsSync(lab.at('opt/eseal/1.2.0/bin/eseal')));
  t.notOk(existsSync(lab.at('opt/eseal/1.0.0')), 'the version before the previous one is removed');
  t.match(next.out, /removed the old version 1\.0\.0/);
});

t.test('refusals: not a bundle, a bad role, a relative data directory', async (t) => {
  const lab = await makeLab(t);
  const junk = join(lab.dir, 'eseal-9.9.9-linux-x64.tar.gz');
  spawnSync('tar', ['-czf', junk, '-C', lab.dir, 'stubs']);
  const notBundle = await install(lab, ['sh'], [junk]);
  t.equal(notBundle.code, 1);
  t.match(notBundle.err, /does not unpack to eseal-9\.9\.9\//);
  const bundle = await fakeBundle(lab, '1.0.0');
  t.equal((await install(lab, ['sh'], [bundle, '--roles', 'relay,nvr'])).code, 2);
  const rel = await install(lab, ['sh'], [bundle, '--data', 'data']);
  t.equal(rel.code, 2);
  t.match(rel.err, /--data: an absolute path/);
  t.notOk(existsSync(lab.at('opt/eseal/current')), 'nothing switched');
  t.same((await install(lab, ['sh'], [])).code, 2, 'usage');
});
