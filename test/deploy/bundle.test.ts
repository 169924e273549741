// The offline bundle runs with nothing from the host but the kernel: `npm run bundle`, unpacked into
// an empty root holding only a static busybox as /bin/sh, entered by chroot with an empty
// environment. There it adds an account, starts, and takes a mine's SM2 login, a record and a video
// from outside, which it forwards to the national simulator (outside too); its edge runs the
// ONNX detector and ffmpeg over a clip; and its GB/T 28181 bridge, whose media worker is a second
// Node started through the bundle's loader, plays a device's channel to ffmpeg outside.
import t, { type Test } from 'tap';
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatEvidenceFileName, formatJsonTime } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { ffmpegPath } from '../../src/media/ffmpeg.ts';
import { SimDevice } from '../../sim/device/SimDevice.ts';
import { quickClip } from '../helpers/edge.ts';
import { FAST_FORWARD, NATIONAL_PW, NATIONAL_USER, startSim, waitFor } from '../helpers/forwarding.ts';
import { makeVideo } from '../helpers/media.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE } from '../helpers/relay.ts';
import { tempDir } from '../helpers/tempDir.ts';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const CACHE = join(ROOT, '.bundle-cache');
const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const HOME = `/eseal-${version}`;

// building (compile, copy, convert the detector, pack 100 MB) takes a minute or two on 2 cores
t.setTimeout(15 * 60_000);

/** A static busybox: the host's if it has Debian's busybox-static, else taken from that package. */
async function staticBusybox(): Promise<string> {
  const host = '/bin/busybox';
  if (existsSync(host) && (await run('file', ['-L', host]).then((r) => /statically linked/.test(r.stdout), () => false))) return host;
  const dir = join(CACHE, 'debs');
  await mkdir(dir, { recursive: true });
  if (!(await readdir(dir)).some((f) => f.startsWith('busybox-static_'))) await run('apt-get', ['download', 'busybox-static'], { cwd: dir });
  const deb = (await readdir(dir)).find((f) => f.startsWith('busybox-static_'))!;
  const into = join(dir, 'busybox-root');
  await run('dpkg-deb', ['-x', join(dir, deb), into]);
  return join(into, 'bin', 'busybox');
}

/** chroot needs root; elsewhere a user namespace gives it. */
function chrootCommand(root: string, argv: string[]): [string, string[]] {
  const chroot = ['/usr/sbin/chroot', root, ...argv];
  return process.getuid?.() === 0 ? ['env', ['-i', ...chroot]] : ['unshare', ['--map-root-user', 'env', '-i', ...chroot]];
}

async function inRoot(root: string, argv: string[], stdin?: string): Promise<{ code: number | null; out: string }> {
  const [cmd, args] = chrootCommand(root, argv);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  child.stdin.end(stdin ?? '');
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, out };
}

const built = (async () => {
  const out = await tempDir(t, 'eseal-bundle-out-');
  const started = Date.now();
  await run('npm', ['run', 'bundle', '--silent'], { cwd: ROOT, env: { ...process.env, ESEAL_BUNDLE_OUT: out }, maxBuffer: 16 * 1024 * 1024 });
  const tarball = join(out, `eseal-${version}-linux-x64.tar.gz`);
  t.comment(`npm run bundle: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return tarball;
})();

/** A root with only /bin/sh (busybox) and the unpacked bundle. */
async function emptyRoot(t: Test): Promise<string> {
  const tarball = await built;
  const root = await tempDir(t, 'eseal-root-');
  await mkdir(join(root, 'bin'));
  await copyFile(await staticBusybox(), join(root, 'bin', 'sh'));
  await chmod(join(root, 'bin', 'sh'), 0o755);
  await run('tar', ['-xzf', tarball, '-C', root]);
  return root;
}

t.test('the bundle holds what it says and leaves out the build tools', async (t) => {
  const root = await emptyRoot(t);
  t.same((await readdir(root)).sort(), ['bin', `eseal-${version}`]);
  const manifest = JSON.parse(await readFile(join(root, HOME, 'MANIFEST.json'), 'utf8')) as {
    version: string;
    node: { version: string };
    libc: { package: string }[];
    npm: { name: string; license: string }[];
  };
  t.equal(manifest.version, version);
  t.same(manifest.libc.map((l) => l.package), ['libc6', 'libstdc++6', 'libgcc-s1']);
  const names = manifest.npm.map((p) => p.name);
  for (const dev of ['typescript', 'tsx', 'tap', '@tensorflow/tfjs', 'fast-check']) t.notOk(names.includes(dev), `no ${dev}`);
  for (const prod of ['fastify', 'lmdb', 'onnxruntime-node', '@ffmpeg-installer/linux-x64']) t.ok(names.includes(prod), `has ${prod}`);
  t.ok(manifest.npm.every((p) => p.license), 'every package with its licence');
  for (const file of ['bin/eseal', 'install.sh', 'eseal.example.yaml', 'runtime/bin/node', 'runtime/lib/ld-linux-x86-64.so.2', 'runtime/lib/libc.so.6', 'licenses/node.LICENSE', 'licenses/libc6.copyright']) {
    t.ok(existsSync(join(root, HOME, file)), file);
  }
  const { code, out } = await inRoot(root, [`${HOME}/bin/eseal`, '--version']);
  t.equal(code, 0, out);
  t.equal(out.trim(), version);
});

t.test('in an empty root: accounts add, start, a mine logs in with SM2 and sends a record and a video, forwarded upstream', async (t) => {
  const root = await emptyRoot(t);
  const sim = await startSim(t);
  await mkdir(join(root, 'etc', 'eseal'), { recursive: true });
  await writeFile(
    join(root, 'etc', 'eseal', 'eseal.yaml'),
    [
      'dataDir: /var/lib/eseal',
      'log: { level: info }',
      'relay: { listen: "127.0.0.1:0", tls: { mode: "off" } }',
      'admin: { listen: "127.0.0.1:0" }',
      `upstream: { url: "${sim.url}" }`,
      'forward:',
      `  retry: { baseSeconds: ${FAST_FORWARD['forward.retry.baseSeconds']}, maxSeconds: ${FAST_FORWARD['forward.retry.maxSeconds']} }`,
      '',
    ].join('\n'),
  );
  const config = ['--config', '/etc/eseal/eseal.yaml'];
  const add = await inRoot(root, [`${HOME}/bin/eseal`, 'accounts', 'add', NATIONAL_USER, '--password', '-', '--mine', MINE, '--upstream-password', NATIONAL_PW, ...config], 'Local+Pass/1\n');
  t.equal(add.code, 0, add.out);

  const [cmd, args] = chrootCommand(root, [`${HOME}/bin/eseal`, 'start', ...config]);
  const started = Date.now();
  const relay = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => relay.once('close', resolve));
  t.teardown(() => relay.kill('SIGKILL'));
  const lines: string[] = [];
  relay.stderr.on('data', (d) => lines.push(String(d)));
  let consoleUrl: (url: string) => void = () => {};
  const consoleAt = new Promise<string>((resolve) => (consoleUrl = resolve));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: relay.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.includes('"relay listening"')) resolve((JSON.parse(line) as { url: string }).url);
      if (line.includes('"console role running"')) consoleUrl((JSON.parse(line) as { console: string }).console);
    });
    void exited.then((code) => reject(new Error(`the relay ended (${code}) before listening:\n${lines.join('\n')}`)));
  });
  t.comment(`start in the empty root: ${Date.now() - started} ms to "relay listening"`);

  const mine = new GuideMine(url, NATIONAL_USER, 'Local+Pass/1');
  t.equal((await mine.login()).status, 200, 'SM2 login against the local account');
  const record = { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: '0003', time: formatJsonTime() };
  t.same((await mine.record(RECORD_ENDPOINTS.person, record)).body, { code: 0, msg: 'success', data: true });
  const video = await makeVideo(await tempDir(t), { seconds: 2 });
  const name = formatEvidenceFileName('count', { mineId: MINE, cameraId: '20', aiTypeCode: '01', count: '0003', time: Date.now() });
  t.same((await mine.upload(EVIDENCE_ENDPOINTS.personVideo, video, { fileName: name })).body, { code: 0, msg: 'success', data: true });

  await waitFor(() => sim.stats().received === 2, 60_000, 'the record and the video at the national simulator');
  t.same(sim.received({ endpoint: 'infoReport/person' })[0]?.record, record);
  t.equal(sim.received({ endpoint: 'fileOperator/personVideo' })[0]?.file?.sm3, sm3Hex(await readFile(video)));

  // the console runs beside it by default, with its pages' assets and ECharts from the bundle (pruned to one file)
  const consoleBase = await consoleAt;
  const login = await fetch(`${consoleBase}/login`);
  t.equal(login.status, 200, 'the console login page');
  const charts = await fetch(`${consoleBase}/assets/echarts.min.js`);
  t.equal(charts.status, 200, 'ECharts served from the bundle');
  t.ok((await charts.text()).length > 500_000, 'the whole minified ECharts');
  t.equal((await fetch(`${consoleBase}/assets/console.css`)).status, 200, "the console's stylesheet");
  t.notOk(existsSync(join(root, HOME, 'app', 'node_modules', 'echarts', 'lib')), 'ECharts pruned to its one served file');

  relay.kill('SIGTERM');
  t.equal(await exited, 0, 'stops cleanly on SIGTERM');
  t.ok(existsSync(join(root, 'var', 'lib', 'eseal')), 'its data inside the root');
});

t.test("in an empty root: the edge's ONNX detector and ffmpeg over a clip (eseal edge eval)", async (t) => {
  const root = await emptyRoot(t);
  const { clip } = await quickClip('persons-basic');
  await mkdir(join(root, 'clips'));
  await copyFile(clip, join(root, 'clips', 'persons.mp4'));
  await copyFile(clip.replace(/\.mp4$/, '.truth.json'), join(root, 'clips', 'persons.truth.json'));
  const { code, out } = await inRoot(root, [`${HOME}/bin/eseal`, 'edge', 'eval', '/clips/persons.mp4', '--target', '90']);
  t.equal(code, 0, out);
  t.match(out, /person\s+\d+\s+[1-9]\d*\s+\d+\s+\d+\s+(9\d|100)\.\d%\s+(9\d|100)\.\d%/, 'persons counted by the detector, at ≥ 90% precision and recall');
  t.notMatch(out, /telemetry/i, 'no onnxruntime telemetry');
});

/** A port free for both TCP and UDP on 127.0.0.1 (SIP listens on both). */
async function freeSipPort(): Promise<number> {
  for (;;) {
    const server = createServer();
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise((resolve) => server.close(resolve));
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (ok) return port;
  }
}

t.test('in an empty root: the GB/T 28181 bridge registers a device and its media worker plays a channel to ffmpeg', async (t) => {
  const root = await emptyRoot(t);
  const sipPort = await freeSipPort();
  const httpPort = await freeSipPort();
  const mediaFirst = 40_000 + 2 * Math.floor(Math.random() * 4000);
  await mkdir(join(root, 'etc', 'eseal'), { recursive: true });
  await writeFile(
    join(root, 'etc', 'eseal', 'eseal.yaml'),
    [
      'dataDir: /var/lib/eseal',
      'log: { level: info }',
      'roles: [gb28181]',
      'gb28181:',
      '  password: "device-pw-1"',
      `  sip: { listen: "127.0.0.1:${sipPort}", publicHost: "127.0.0.1" }`,
      `  media: { ports: "${mediaFirst}-${mediaFirst + 40}", host: "127.0.0.1", publicHost: "127.0.0.1", lingerSeconds: 0 }`,
      `  http: { listen: "127.0.0.1:${httpPort}" }`,
      '',
    ].join('\n'),
  );
  const [cmd, args] = chrootCommand(root, [`${HOME}/bin/eseal`, 'start', '--config', '/etc/eseal/eseal.yaml']);
  const bridge = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => bridge.once('close', resolve));
  t.teardown(() => bridge.kill('SIGKILL'));
  const lines: string[] = [];
  bridge.stderr.on('data', (d) => lines.push(String(d)));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: bridge.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.includes('"gb28181 role running"')) resolve();
    });
    void exited.then((code) => reject(new Error(`the bridge ended (${code}) before running:\n${lines.join('\n')}`)));
  });

  const device = await SimDevice.start({
    server: { host: '127.0.0.1', port: sipPort },
    serverId: '34020000002000000001',
    domain: '3402000000',
    deviceId: '34020000001320000001',
    password: 'device-pw-1',
    channelCount: 1,
  });
  t.teardown(() => device.close());
  const channel = device.channels[0]!.id;
  const token = (await readFile(join(root, 'var', 'lib', 'eseal', 'gb28181', 'view.token'), 'utf8')).trim();
  const url = `http://127.0.0.1:${httpPort}/live/34020000001320000001/${channel}.mp4?token=${token}`;
  // the catalog arrives just after the registration: the channel may be unknown for a moment
  let decoded = '';
  for (let attempt = 0; attempt < 20 && !/frame=\s*[1-9]\d/.test(decoded); attempt++) {
    decoded = await new Promise<string>((resolve) => {
      execFile(ffmpegPath(), ['-hide_banner', '-nostats', '-loglevel', 'info', '-stats', '-i', url, '-frames:v', '25', '-f', 'null', '-'], { timeout: 60_000 }, (_err, _out, err) => resolve(String(err)));
    });
  }
  t.match(decoded, /frame=\s*25\b/, `ffmpeg decoded 25 frames of the channel through the bundle's media worker:\n${decoded.slice(-400)}`);
  t.ok(lines.some((l) => l.includes('live stream')), 'the bridge logged the live stream');
  bridge.kill('SIGTERM');
  t.equal(await exited, 0, 'stops cleanly on SIGTERM (its media worker too)');
});
