// The container image's build context (deploy/container/build.sh) made from a stand-in bundle: the
// tar files hold what the Containerfile expects, with the owners and modes the image needs, the
// root they make runs the bundle's launcher with only the static busybox as /bin/sh, and the
// Containerfile uses nothing Docker 1.13 lacks. The seccomp profile for Docker 1.13 hosts answers
// clone3 with ENOSYS (SCMP_ACT_TRACE) and lets nothing else through that Docker refuses.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/tempDir.ts';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const HERE = join(ROOT, 'deploy', 'container');
const BUILD = join(HERE, 'build.sh');

/** A stand-in bundle: eseal-<version>/bin/eseal, a sh script like the real launcher. */
async function fakeBundle(dir: string, version = '9.8.7'): Promise<string> {
  const top = join(dir, 'src', `eseal-${version}`);
  await mkdir(join(top, 'bin'), { recursive: true });
  await mkdir(join(top, 'runtime', 'lib'), { recursive: true });
  await writeFile(join(top, 'bin', 'eseal'), '#!/bin/sh\nroot=$(cd "${0%/*}/.." && pwd -P)\necho "eseal from $root: $*"\n');
  await chmod(join(top, 'bin', 'eseal'), 0o755);
  await writeFile(join(top, 'MANIFEST.json'), JSON.stringify({ version }));
  const tarball = join(dir, `eseal-${version}-linux-x64.tar.gz`);
  await run('tar', ['-czf', tarball, '-C', join(dir, 'src'), `eseal-${version}`]);
  return tarball;
}

async function buildSh(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return run('sh', [BUILD, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
  );
}

interface Entry {
  mode: string;
  owner: string;
  path: string;
}
/** `tar -tv --numeric-owner`: mode, uid/gid and path of each entry. */
async function listing(tarFile: string): Promise<Map<string, Entry>> {
  const { stdout } = await run('tar', ['-tvf', tarFile, '--numeric-owner']);
  const entries = new Map<string, Entry>();
  for (const line of stdout.trim().split('\n')) {
    const [mode, owner, , , , ...rest] = line.split(/\s+/);
    const path = rest.join(' ').replace(/^\.\//, '').replace(/\/$/, '');
    entries.set(path, { mode: mode!, owner: owner!, path });
  }
  return entries;
}

t.test('build.sh makes the context the Containerfile expects from a bundle tarball', async (t) => {
  const dir = await tempDir(t, 'eseal-container-');
  const tarball = await fakeBundle(dir);
  const context = join(dir, 'context');
  const { code, out } = await buildSh([tarball, context]);
  t.equal(code, 0, out);
  t.match(out, `docker build -t eseal:9.8.7 -f ${context}/Containerfile ${context}`);
  t.same((await readdir(context)).sort(), ['Containerfile', 'data.tar', 'rootfs.tar', 'seccomp-clone3-enosys.json']);
  t.equal(await readFile(join(context, 'Containerfile'), 'utf8'), await readFile(join(HERE, 'Containerfile'), 'utf8'));

  const rootfs = await listing(join(context, 'rootfs.tar'));
  for (const e of rootfs.values()) if (e.path !== '') t.equal(e.owner, '0/0', `${e.path} owned by root`);
  t.match(rootfs.get('bin/sh'), { mode: '-rwxr-xr-x' });
  t.match(rootfs.get('tmp'), { mode: 'drwxrwxrwt' });
  t.match(rootfs.get('opt/eseal/bin/eseal'), { mode: /^-rwx/ });
  t.ok(rootfs.has('opt/eseal/MANIFEST.json'), 'the bundle under /opt/eseal, its version folder dropped');
  t.notOk([...rootfs.keys()].some((p) => p.includes('eseal-9.8.7')));
  t.same(
    [...rootfs.keys()].filter((p) => p !== '' && !p.startsWith('opt')).sort(),
    ['bin', 'bin/sh', 'etc', 'etc/group', 'etc/passwd', 'tmp'],
    'nothing of a distribution but sh',
  );
  const data = await listing(join(context, 'data.tar'));
  t.same([...data.keys()], ['data']);
  t.match(data.get('data'), { mode: 'drwx------', owner: '10001/10001' });

  // the root those archives make runs the launcher with busybox's sh, as the image's ENTRYPOINT does
  const root = join(dir, 'root');
  await mkdir(root);
  await run('tar', ['-xf', join(context, 'rootfs.tar'), '-C', root]);
  t.match(await readFile(join(root, 'etc', 'passwd'), 'utf8'), /^eseal:x:10001:10001:/m);
  const chroot = ['/usr/sbin/chroot', root, '/opt/eseal/bin/eseal', 'start'];
  const [cmd, args] = process.getuid?.() === 0 ? ['env', ['-i', ...chroot]] : ['unshare', ['--map-root-user', 'env', '-i', ...chroot]];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  child.stdout.on('data', (d) => (said += d));
  child.stderr.on('data', (d) => (said += d));
  const exit = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.equal(exit, 0, said);
  t.equal(said.trim(), 'eseal from /opt/eseal: start');
});

t.test('the Containerfile uses only what Docker 1.13 has, and agrees with build.sh', async (t) => {
  const file = (await readFile(join(HERE, 'Containerfile'), 'utf8'))
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
  const instructions = file
    .split('\n')
    .filter((l) => /^[A-Z]+\s/.test(l))
    .map((l) => l.split(/\s+/)[0]);
  t.same(instructions.filter((i) => i === 'FROM'), ['FROM'], 'one stage (multi-stage builds came in 17.05)');
  t.match(file, /^FROM scratch$/m);
  t.notMatch(file, /--chown|--from|--mount|^ARG .*\n+FROM/m, 'no COPY --chown (17.09), no BuildKit options');
  for (const i of instructions) t.ok(['FROM', 'ADD', 'ENV', 'USER', 'WORKDIR', 'VOLUME', 'EXPOSE', 'ENTRYPOINT', 'CMD'].includes(i!), `${i} exists in Docker 1.13`);
  t.match(file, /^ADD rootfs\.tar \/$/m);
  t.match(file, /^ADD data\.tar \/$/m);
  t.match(file, /^USER 10001:10001$/m);
  t.match(file, /^ENTRYPOINT \["\/opt\/eseal\/bin\/eseal"\]$/m);
  t.match(file, /ESEAL_DATA_DIR=\/data/);
});

t.test('build.sh refuses what is not a bundle, and a busybox that is not static', async (t) => {
  const dir = await tempDir(t, 'eseal-container-');
  await mkdir(join(dir, 'x', 'something-else'), { recursive: true });
  await run('tar', ['-czf', join(dir, 'other.tar.gz'), '-C', join(dir, 'x'), 'something-else']);
  const notBundle = await buildSh([join(dir, 'other.tar.gz'), join(dir, 'c1')]);
  t.equal(notBundle.code, 1);
  t.match(notBundle.out, /is not an eseal bundle \(its first entry is 'something-else', not eseal-<version>\/\)/);
  const missing = await buildSh([join(dir, 'nope.tar.gz')]);
  t.equal(missing.code, 1);
  t.match(missing.out, /no such bundle/);
  const tarball = await fakeBundle(dir);
  const dynamic = await buildSh([tarball, join(dir, 'c2')], { ESEAL_BUSYBOX: process.execPath });
  t.equal(dynamic.code, 1);
  t.match(dynamic.out, /is not statically linked: the image has no libc for it \(apt-get install busybox-static\)/);
  const usage = await buildSh([]);
  t.equal(usage.code, 2);
  t.match(usage.out, /^usage: /m);
});

t.test('the seccomp profile answers clone3 with ENOSYS and still refuses what Docker refuses', async (t) => {
  interface Rule {
    names: string[];
    action: string;
    args?: { index: number; value: number; valueTwo: number; op: string }[];
  }
  const profile = JSON.parse(await readFile(join(HERE, 'seccomp-clone3-enosys.json'), 'utf8')) as {
    defaultAction: string;
    architectures: string[];
    syscalls: Rule[];
  };
  // allow by default: a libseccomp that cannot name clone3 (CentOS 7's 2.3.1) lets it reach kernel 3.10, which answers ENOSYS
  t.equal(profile.defaultAction, 'SCMP_ACT_ALLOW');
  t.ok(profile.architectures.includes('SCMP_ARCH_X86_64'));
  const clone3 = profile.syscalls.filter((r) => r.names.includes('clone3'));
  t.equal(clone3.length, 1, 'one rule for clone3');
  // SCMP_ACT_TRACE with no tracer: the kernel fails the call with ENOSYS, on engines without errnoRet too
  t.equal(clone3[0]!.action, 'SCMP_ACT_TRACE');
  const refused = new Set(profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ERRNO' && !r.args?.length).flatMap((r) => r.names));
  for (const s of ['mount', 'umount2', 'pivot_root', 'ptrace', 'kexec_load', 'init_module', 'finit_module', 'bpf', 'unshare', 'setns', 'keyctl', 'reboot', 'open_by_handle_at']) {
    t.ok(refused.has(s), `${s} refused`);
  }
  const CLONE_NEWUSER = 0x10000000;
  t.ok(
    profile.syscalls.some((r) => r.names.includes('clone') && r.action === 'SCMP_ACT_ERRNO' && r.args?.some((a) => a.op === 'SCMP_CMP_MASKED_EQ' && a.value === CLONE_NEWUSER && a.valueTwo === CLONE_NEWUSER)),
    'clone with CLONE_NEWUSER refused',
  );
  t.notOk(profile.syscalls.some((r) => r.names.includes('clone') && !r.args?.length), 'plain clone (threads, fork) is not refused');
});
