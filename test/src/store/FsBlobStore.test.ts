import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { FsBlobStore } from '../../../src/store/fs/FsBlobStore.ts';
import { blobStoreContract } from '../../contracts/blobStoreContract.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'eseal-blobs-'));
}

await blobStoreContract(t, 'FsBlobStore', async () => {
  const dir = await tempDir();
  const tmp = join(dir, 'tmp');
  return {
    open: () => FsBlobStore.open(dir),
    leftovers: async () => readdir(tmp).catch(() => []),
    async tempBytes() {
      const names = await readdir(tmp).catch(() => []);
      if (names.length !== 1) return undefined;
      return (await stat(join(tmp, names[0]!)).catch(() => undefined))?.size;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

t.test('a committed blob lies at <dir>/<id[0..2]>/<id[2..4]>/<id>', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await FsBlobStore.open(dir);
  t.teardown(() => store.close());
  const bytes = Buffer.from('电子封条 evidence');
  const staged = await store.stage(Readable.from([bytes]), { maxBytes: 100 });
  t.ok(staged.tempPath.startsWith(join(dir, 'tmp') + '/'), 'staged in the store’s own tmp/');
  t.strictSame(await readFile(staged.tempPath), bytes, 'the temp file is readable before commit (for probing)');
  const { id } = await staged.commit();
  t.equal(id, createHash('sm3').update(bytes).digest('hex'));
  const path = join(dir, id.slice(0, 2), id.slice(2, 4), id);
  t.strictSame(await readFile(path), bytes);
  t.equal((await stat(path)).mode & 0o777 & ~0o027, 0o640 & ~0o027, 'not world-readable');
});

t.test('open() removes what dead processes left in tmp/ and keeps what live ones are writing', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await (await FsBlobStore.open(dir)).close();
  const tmp = join(dir, 'tmp');
  const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // a process id that has exited
  const live = process.ppid; // the test runner: alive
  const files = {
    dead: `${gone}.aa11.part`,
    liveRecent: `${live}.bb22.part`,
    liveAncient: `${live}.cc33.part`,
    ownPidNotInUse: `${process.pid}.dd44.part`,
    junk: 'something-else.txt',
  };
  for (const name of Object.values(files)) await writeFile(join(tmp, name), 'partial upload');
  await mkdir(join(tmp, 'a-directory'));
  const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
  await utimes(join(tmp, files.liveAncient), old, old);
  // a blob this process is staging right now must survive another open() of the same directory
  const first = await FsBlobStore.open(dir);
  const staged = await first.stage(Readable.from([Buffer.from('in progress')]), { maxBytes: 100 });
  const second = await FsBlobStore.open(dir);
  t.strictSame(
    (await readdir(tmp)).sort(),
    [files.liveRecent, staged.tempPath.slice(tmp.length + 1)].sort(),
    'only the live process’s recent file and our own staged blob are left',
  );
  await staged.commit();
  t.equal(await second.has(staged.id), true, 'the staged blob committed fine');
  await first.close();
  await second.close();
});

t.test('error messages say what happened and what to do', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await FsBlobStore.open(dir);
  t.teardown(() => store.close());
  const err = await store.stage(Readable.from([Buffer.alloc(11)]), { maxBytes: 10 }).catch((e: unknown) => e);
  t.match(err, { code: 'ESEAL_ERR_STORE_TOO_LARGE', statusCode: 413, message: /larger than 10 bytes/, detail: { maxBytes: 10 } });
  const broken = new Readable({ read() { this.destroy(new Error('socket hang up')); } });
  const err2 = await store.stage(broken, { maxBytes: 10 }).catch((e: unknown) => e);
  t.match(err2, { code: 'ESEAL_ERR_STORE_SOURCE', message: /socket hang up.*nothing of it was kept/ });
  t.match((err2 as Error).cause, { message: 'socket hang up' }, 'the source’s error is the cause');
  await t.rejects(FsBlobStore.open(''), { code: 'ESEAL_ERR_STORE_INVALID' });
});

/** A small tmpfs can be mounted in a private mount namespace (root, or CAP_SYS_ADMIN). */
function canMountTmpfs(): boolean {
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$1"', 'sh', tmpdir()]);
  return probe.status === 0;
}

const mountable = canMountTmpfs();
t.test('a full disk: ENOSPC is refused with NO_SPACE, nothing half-written is kept (2 MiB tmpfs)', {
  skip: mountable ? false : 'needs `unshare -m` and mount (root or CAP_SYS_ADMIN) for a small tmpfs in a private namespace',
}, async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const child = fileURLToPath(new URL('./noSpace.child.ts', import.meta.url));
  const script = 'mount -t tmpfs -o size=2m tmpfs "$1" && exec "$2" --import tsx "$3" "$1"';
  const proc = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', dir, process.execPath, child], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let errText = '';
  proc.stdout.on('data', (c: Buffer) => (out += c));
  proc.stderr.on('data', (c: Buffer) => (errText += c));
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  t.equal(code, 0, `child ran (${errText.trim().split('\n').slice(-3).join(' | ')})`);
  const report = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, any>;
  t.match(report.blobError, { code: 'ESEAL_ERR_STORE_NO_SPACE', message: /no space left.*free disk space/i }, 'blob: NO_SPACE');
  t.strictSame(report.tempLeft, [], 'blob: the temp file was removed');
  t.equal(report.smallIntact, true, 'blob: what was stored before is intact');
  t.match(report.queueError, { code: 'ESEAL_ERR_STORE_NO_SPACE' }, 'queue: NO_SPACE once the disk is full');
  t.ok(report.appended > 100, `queue: ${report.appended} items appended before the disk was full`);
  t.equal(report.afterReopen, report.appended, 'queue: every acknowledged item is there after a reopen');
  t.equal(report.queueIntact, true, 'queue: with its exact payload, nothing more');
  t.match(report.plainPutError, { message: /Commit failed/ }, 'a plain put to another table is refused too');
  // (code 0 above: neither failure ended the process through a promise lmdb-js rejected unheld)
});
