import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { fsyncDir, removeDurable, writeFileDurable } from '../../../src/store/fsync.ts';
import { tempDir } from '../../helpers/tempDir.ts';

t.test('writeFileDurable writes, replaces, and leaves no temp file', async (t) => {
  const dir = await tempDir(t, 'eseal-fsync-');
  const path = join(dir, 'admin.token');
  await writeFileDurable(path, 'first\n');
  t.equal(await readFile(path, 'utf8'), 'first\n');
  await writeFileDurable(path, Buffer.from('second\n'), { mode: 0o600 });
  t.equal(await readFile(path, 'utf8'), 'second\n', 'replaced');
  t.equal((await stat(path)).mode & 0o777, 0o600, 'mode as asked, whatever the umask');
  t.strictSame(await readdir(dir), ['admin.token'], 'no temp file left');
  await writeFileDurable(path, '');
  t.equal(await readFile(path, 'utf8'), '', 'empty content');
  t.equal((await stat(path)).mode & 0o777, 0o644, 'default mode 0644');
});

t.test('a failed writeFileDurable keeps the old file and removes its temp file', async (t) => {
  const dir = await tempDir(t, 'eseal-fsync-');
  const path = join(dir, 'cert.pem');
  await writeFileDurable(path, 'old');
  // a directory where the file should go makes the rename fail after the temp file was written
  const blocked = join(dir, 'blocked');
  await mkdir(blocked);
  await writeFile(join(blocked, 'inside'), 'x');
  await t.rejects(writeFileDurable(blocked, 'new'), { code: 'ESEAL_ERR_STORE_IO', message: /writing a file durably/ });
  t.strictSame((await readdir(dir)).sort(), ['blocked', 'cert.pem'], 'no temp file left after the failure');
  t.equal(await readFile(path, 'utf8'), 'old');
  await t.rejects(writeFileDurable(join(dir, 'no-such-dir', 'f'), 'x'), { code: 'ESEAL_ERR_STORE_IO' });
});

t.test('removeDurable and fsyncDir', async (t) => {
  const dir = await tempDir(t, 'eseal-fsync-');
  const path = join(dir, 'f');
  await writeFile(path, 'x');
  t.equal(await removeDurable(path), true);
  t.equal(await removeDurable(path), false, 'nothing to remove');
  t.strictSame(await readdir(dir), []);
  await fsyncDir(dir);
  await t.rejects(fsyncDir(join(dir, 'missing')), { code: 'ESEAL_ERR_STORE_IO', message: /ENOENT/ });
});
