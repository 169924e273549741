// `eseal verify` on a store with each kind of damage: it finds each one, says so in its exit code,
// and --repair quarantines and sets aside without deleting any evidence.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../app/main.ts';
import type { CommandIO } from '../../src/cli/command.ts';
import { tempDir } from '../helpers/tempDir.ts';
import { blobPath, damage, storeVideo, withContext, type StoredVideo } from './store.ts';
import type { AuditReport } from '../../relay/integrity/StoreAudit.ts';
import type { TusUpload } from '../../relay/tus/TusStore.ts';

function io(): CommandIO & { text: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (l) => out.push(l), err: (l) => err.push(l), stdin: async () => '', text: () => out.join('\n'), errText: () => err.join('\n') };
}

async function verify(dataDir: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const x = io();
  const code = await main(['verify', ...args], x, { ESEAL_DATA_DIR: dataDir });
  return { code, out: x.text(), err: x.errText() };
}

const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

t.test('eseal verify finds each kind of damage; --repair quarantines and sets aside, never deletes evidence', async (t) => {
  const dir = await tempDir(t);
  const v: Record<string, StoredVideo> = {};
  let orphan = '';
  await withContext(dir, async (ctx) => {
    for (const name of ['good1', 'middle', 'truncated', 'zero', 'missing', 'good2']) v[name] = await storeVideo(ctx);
    // a video no item refers to (its item was lost)
    const staged = await ctx.blobs.stage(Readable.from([randomBytes(30_000)]), { maxBytes: 1 << 20 });
    orphan = (await staged.commit()).id;
    // a resumable upload still receiving whose file is gone
    const tus = ctx.root.openDB<TusUpload, string>({ name: 'tus-uploads' });
    const base = { v: 1 as const, account: 'mine001', endpoint: 'fileOperator/personVideo', contentType: 'video/mp4', length: 5000, offset: 1000, requestId: 'r', from: '127.0.0.1', state: 'receiving' as const };
    await tus.put('a'.repeat(32), { ...base, id: 'a'.repeat(32), fileName: v.good1!.fileName, createdAt: Date.now() - 3600_000, expiresAt: Date.now() + 3600_000 });
  });
  // a file under tus/ without a record
  await mkdir(join(dir, 'tus'), { recursive: true });
  await writeFile(join(dir, 'tus', 'b'.repeat(32)), randomBytes(700));

  const clean = await verify(dir, '--json', '--grace-seconds', '0');
  const before: AuditReport = JSON.parse(clean.out);
  t.equal(before.summary.mismatches + before.summary.missingBlobs, 0, 'the videos are intact');

  await damage.middle(v.middle!.path);
  await damage.truncated(v.truncated!.path);
  await damage.zeroLength(v.zero!.path);
  await damage.missing(v.missing!.path);
  const evidence = new Map<string, string>();
  for (const x of [v.middle!, v.truncated!, v.zero!]) evidence.set(x.blob, await sha(x.path));
  evidence.set(orphan, await sha(blobPath(dir, orphan)));

  // a fresh orphan is not called one (an upload commits its video a moment before its item)
  const young = JSON.parse((await verify(dir, '--json')).out) as AuditReport;
  t.equal(young.summary.orphanBlobs, 0, 'a video younger than the grace period is no orphan');
  t.equal(young.summary.tusFilesWithoutRecord, 0, 'nor a fresh tus file');

  const found = await verify(dir, '--json', '--grace-seconds', '0');
  t.equal(found.code, 4, 'exit code 4: damage found');
  const r: AuditReport = JSON.parse(found.out);
  t.equal(r.v, 1);
  t.same(r.summary, { database: 0, mismatches: 3, missingBlobs: 1, itemsWithoutBlob: 1, orphanBlobs: 1, tusFilesWithoutRecord: 1, tusRecordsWithoutFile: 1 });
  t.equal(r.scanned.items, 6);
  t.equal(r.scanned.blobs, 6, 'five videos left of six, and the orphan');
  const of = (kind: string) => r.damage.filter((d) => d.kind === kind);
  t.same(of('mismatch').map((d) => d.sm3).sort(), [v.middle!.blob, v.truncated!.blob, v.zero!.blob].sort());
  const zero = of('mismatch').find((d) => d.sm3 === v.zero!.blob)!;
  t.match(zero, { item: v.zero!.seq, path: v.zero!.path, size: 0, mineId: '140421007866', fileName: v.zero!.fileName, state: 'ready' });
  t.not(zero.actualSm3, zero.sm3);
  t.match(of('missingBlob'), [{ sm3: v.missing!.blob, item: v.missing!.seq, items: [v.missing!.seq], path: v.missing!.path }]);
  t.match(of('itemWithoutBlob'), [{ sm3: v.missing!.blob, item: v.missing!.seq, fileName: v.missing!.fileName }]);
  t.match(of('orphanBlob'), [{ sm3: orphan, item: null, path: blobPath(dir, orphan) }]);
  t.match(of('tusFileWithoutRecord'), [{ upload: 'b'.repeat(32), path: join(dir, 'tus', 'b'.repeat(32)) }]);
  t.match(of('tusRecordWithoutFile'), [{ upload: 'a'.repeat(32), state: 'receiving' }]);
  t.notOk(r.damage.some((d) => d.action), 'without --repair nothing is changed');
  t.equal((await stat(v.middle!.path)).isFile(), true);

  const human = await verify(dir, '--grace-seconds', '0');
  t.equal(human.code, 4);
  t.match(human.out, /SM3 mismatches \(video altered, truncated or emptied\)\s+3/);
  t.match(human.out, /missing videos\s+1/);
  t.match(human.out, /orphan videos \(no item refers to them\)\s+1/);
  t.match(human.out, new RegExp(`mismatch:  item ${v.zero!.seq} \\(ready\\)`));
  t.match(human.out, /eseal verify --repair moves corrupt and orphan videos to quarantine/);

  const repaired = await verify(dir, '--json', '--repair', '--grace-seconds', '0');
  t.equal(repaired.code, 4, 'the damage was there: still 4');
  const rr: AuditReport = JSON.parse(repaired.out);
  t.equal(rr.repair, true);
  const day = (await readdir(join(dir, 'quarantine')))[0]!;
  t.match(day, /^\d{4}-\d{2}-\d{2}$/);
  for (const [id, digest] of evidence) {
    const moved = join(dir, 'quarantine', day, id);
    t.equal(await sha(moved), digest, `${id.slice(0, 8)}… kept, byte for byte, in quarantine`);
    await t.rejects(stat(blobPath(dir, id)), { code: 'ENOENT' }, 'and no longer in the blob store');
    const note = JSON.parse(await readFile(`${moved}.json`, 'utf8'));
    t.equal(note.sm3, id);
    t.equal(note.from, blobPath(dir, id));
  }
  await withContext(dir, async (ctx) => {
    for (const x of [v.middle!, v.truncated!, v.zero!]) {
      const item = ctx.queue.get(x.seq)!;
      t.equal(item.state, 'dead', `item ${x.seq} set aside`);
      t.match(item.deadReason, /^ESEAL_ERR_STORE_CORRUPT: the stored video .* does not match its SM3 address/);
      t.match(item.deadReason, x.path);
      t.match(item.deadReason, join(dir, 'quarantine', day, x.blob));
    }
    t.match(ctx.queue.get(v.missing!.seq), { state: 'dead', deadReason: /^ESEAL_ERR_STORE_CORRUPT: the stored video .* is missing/ });
    t.equal(ctx.queue.get(v.good1!.seq)!.state, 'ready', 'intact videos go on');
    t.equal(ctx.queue.get(v.good2!.seq)!.state, 'ready');
    t.equal(ctx.root.openDB({ name: 'tus-uploads' }).get('a'.repeat(32)), undefined, 'the record without a file removed');
  });
  await t.rejects(stat(join(dir, 'tus', 'b'.repeat(32))), { code: 'ENOENT' }, 'the tus file without a record removed');

  // what was repaired (moved to quarantine, items set aside) is not reported again
  const again = await verify(dir, '--json', '--grace-seconds', '0');
  t.equal(again.code, 0, again.out);
  const ra: AuditReport = JSON.parse(again.out);
  t.same(ra.summary, { database: 0, mismatches: 0, missingBlobs: 0, itemsWithoutBlob: 0, orphanBlobs: 0, tusFilesWithoutRecord: 0, tusRecordsWithoutFile: 0 });
});

t.test('eseal verify reports a damaged database without opening it', async (t) => {
  const dir = await tempDir(t);
  await withContext(dir, async (ctx) => {
    await storeVideo(ctx);
  });
  const db = join(dir, 'db', 'data.mdb');
  const bytes = await readFile(db);
  await writeFile(db, bytes.subarray(0, 4096 * 3));
  const r = await verify(dir, '--json');
  t.equal(r.code, 4);
  const report: AuditReport = JSON.parse(r.out);
  t.ok(report.summary.database > 0);
  t.match(report.damage[0], { kind: 'database', path: db, detail: /truncated|beyond the end/ });
  const human = await verify(dir);
  t.match(human.out, /restore .* from the last backup/);
});
