// A damaged database: `eseal start` refuses, says what is wrong and what to do, and leaves the
// files as they were; it never starts empty over a database that is lost while videos are on disk.
import t, { type Test } from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { open as openLmdbRaw } from 'lmdb';
import { EsealChild } from '../../tools/esealChild.ts';
import { startRelayChild } from '../helpers/relayChild.ts';
import { tempDir } from '../helpers/tempDir.ts';
import { lmdbOptions } from '../../src/store/lmdb/open.ts';
import { storeVideo, withContext } from './store.ts';

async function digest(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** `eseal start` on `dataDir`: how it ended and what it said. */
async function start(t: Test, dataDir: string, env: Record<string, string> = {}): Promise<{ code: number | null; text: string }> {
  const child = EsealChild.spawn({
    args: ['start'],
    env: { ...process.env, ESEAL_DATA_DIR: dataDir, ESEAL_RELAY_LISTEN: '127.0.0.1:0', ESEAL_RELAY_TLS: 'off', ESEAL_LOG_LEVEL: 'info', ESEAL_ADMIN_LISTEN: '127.0.0.1:0', ...env },
    stderr: 'pipe',
    keepLines: 200,
    maxLineLength: 4000,
    guard: (kill) => t.teardown(kill),
  });
  const end = await child.exited;
  return { code: end.code, text: child.lines.join('\n') };
}

t.test('eseal start refuses a damaged database, names it and what to do, and leaves it as it was', async (t) => {
  const pristine = await tempDir(t);
  // a relay data dir with a queue of a few hundred items (so the tables span many pages) and videos
  await withContext(pristine, async (ctx) => {
    for (let i = 0; i < 5; i++) await storeVideo(ctx, randomBytes(2000));
    await ctx.accounts.add({ username: 'mine001', password: 'S3cret+pass', mines: ['140421007866'] });
    for (let i = 0; i < 300; i++) {
      await ctx.queue.append({ key: `k${i % 7}`, lane: 'record', payload: { v: 1, endpoint: 'infoReport/person', account: 'mine001', mineId: '140421007866', cameraId: '10', receivedAt: Date.now(), requestId: `r${i}`, from: '127.0.0.1', flags: [], record: { pad: 'x'.repeat(300) } as never } });
    }
  });
  const pageSize = 4096;
  const cases: { name: string; damage: (db: string) => Promise<void>; expect: RegExp }[] = [
    {
      name: 'truncated to half',
      damage: async (db) => {
        const fh = await open(join(db, 'data.mdb'), 'r+');
        await fh.truncate(Math.floor((await fh.stat()).size / 2 / pageSize) * pageSize);
        await fh.close();
      },
      expect: /truncated/,
    },
    {
      name: 'header overwritten',
      damage: async (db) => {
        const fh = await open(join(db, 'data.mdb'), 'r+');
        await fh.write(Buffer.alloc(pageSize), 0, pageSize, 0);
        await fh.close();
      },
      expect: /header of the file was overwritten/,
    },
    {
      name: 'garbage over the pages after the header',
      damage: async (db) => {
        const fh = await open(join(db, 'data.mdb'), 'r+');
        const { size } = await fh.stat();
        await fh.write(randomBytes(size - 2 * pageSize), 0, size - 2 * pageSize, 2 * pageSize);
        await fh.close();
      },
      expect: /overwritten|impossible|beyond the end|holds something else/,
    },
    {
      name: 'cut to a few bytes',
      damage: async (db) => {
        const fh = await open(join(db, 'data.mdb'), 'r+');
        await fh.truncate(100);
        await fh.close();
      },
      expect: /cut short/,
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const dir = await tempDir(t);
      await cp(pristine, dir, { recursive: true });
      const db = join(dir, 'db');
      await c.damage(db);
      const before = await digest(join(db, 'data.mdb'));
      const { code, text } = await start(t, dir);
      t.not(code, 0, 'refused to start');
      t.match(text, /the database \S*data\.mdb is damaged/, 'names the file');
      t.match(text, c.expect, 'says what is wrong');
      t.match(text, /restore .* from the last backup/, 'says what to do');
      t.match(text, /eseal verify/);
      t.notMatch(text, /relay listening/);
      t.equal(await digest(join(db, 'data.mdb')), before, 'data.mdb untouched');
    });
  }
});

t.test('a lost database: refused while videos are on disk, unless a fresh start is asked for', async (t) => {
  const dir = await tempDir(t);
  await withContext(dir, async (ctx) => {
    await storeVideo(ctx);
  });
  await rm(join(dir, 'db', 'data.mdb'));
  const missing = await start(t, dir);
  t.not(missing.code, 0);
  t.match(missing.text, /data\.mdb is missing, yet .* holds stored videos/);
  t.match(missing.text, /restore .* from the last backup/);
  t.match(missing.text, /ESEAL_DATABASE_ALLOW_FRESH=yes/);
  await t.rejects(stat(join(dir, 'db', 'data.mdb')), { code: 'ENOENT' }, 'no empty database was made');

  await writeFile(join(dir, 'db', 'data.mdb'), '');
  const empty = await start(t, dir);
  t.not(empty.code, 0);
  t.match(empty.text, /data\.mdb is empty \(0 bytes\)/);
  t.equal((await stat(join(dir, 'db', 'data.mdb'))).size, 0, 'left as it was');

  // the operator says the database is lost for good: an empty queue, the videos stay
  const relay = await startRelayChild(t, { dataDir: dir, env: { ESEAL_DATABASE_ALLOW_FRESH: 'yes' } });
  t.match(relay.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  relay.child.kill('SIGTERM');
  await relay.exited;

  // a fresh install (nothing on disk) starts without being asked
  const fresh = await tempDir(t);
  const first = await startRelayChild(t, { dataDir: fresh });
  first.child.kill('SIGTERM');
  await first.exited;
});

t.test('a database of an unknown schema or of something else is refused', async (t) => {
  const dir = await tempDir(t);
  await withContext(dir, async (ctx) => {
    await storeVideo(ctx);
  });
  // a newer eseal wrote it
  const root = openLmdbRaw(join(dir, 'db'), lmdbOptions());
  await root.openDB({ name: 'relay-schema' }).put('version', 99);
  await root.close();
  const newer = await start(t, dir);
  t.not(newer.code, 0);
  t.match(newer.text, /has schema 99, written by a newer eseal; this one knows schema 1/);

  // another role's database (an edge outbox) where the relay's should be
  const other = await tempDir(t);
  const foreign = openLmdbRaw(join(other, 'db'), lmdbOptions());
  await foreign.openDB({ name: 'outbox' }).put(1, { clip: 'x' });
  await foreign.close();
  const wrong = await start(t, other);
  t.not(wrong.code, 0);
  t.match(wrong.text, /is not a relay's: it holds the tables outbox/);
});

t.test('a lock file LMDB would crash on is refused with what to do', async (t) => {
  const dir = await tempDir(t);
  await withContext(dir, async (ctx) => {
    await storeVideo(ctx);
  });
  const lock = join(dir, 'db', 'lock.mdb');
  await rm(lock);
  await mkdir(lock);
  const { code, text } = await start(t, dir);
  t.not(code, 0, 'refused (LMDB itself would end with SIGSEGV)');
  t.match(text, /lock\.mdb is not a regular file \(a directory\)/);
  t.match(text, /move .*lock\.mdb aside/);
});
