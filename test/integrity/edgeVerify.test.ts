// `eseal edge verify` (issue 14, item 3): the scrub of the edge's outbox finds each kind of damage
// (a clip altered in the middle, truncated, emptied, deleted; a clip no entry names), reports it
// as text and as JSON in the shape of the relay's `eseal verify`, and `--repair` moves the bad
// clips to quarantine (never deleting them) and sets their entries aside; the outbox is whole
// after, and the intact clips are still there to send.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../app/main.ts';
import type { CommandIO } from '../../src/cli/command.ts';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { openOutbox } from '../../edge/upload/Outbox.ts';
import type { OutboxVerifyReport } from '../../edge/upload/verifyOutbox.ts';
import { box, makeVideo } from '../helpers/media.ts';
import { tempDir } from '../helpers/relay.ts';
import { personClipName, personRecord } from '../edge/upload/uploadSetup.ts';

async function run(argv: string[], dataDir: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIO = { out: (l) => out.push(l), err: (l) => err.push(l), stdin: async () => '' };
  const code = await main(argv, io, { ESEAL_DATA_DIR: dataDir });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.test('eseal edge verify finds each kind of damage; --repair quarantines and sets aside, deletes nothing', async (t) => {
  const dataDir = await tempDir(t);
  const dir = join(dataDir, 'edge', 'outbox');
  const video = await readFile(await makeVideo(dataDir, { seconds: 2 }));

  // six clips and a record; the clips are then damaged on disk with the edge stopped
  const kinds = ['middle', 'truncated', 'zero-length', 'deleted', 'intact', 'intact'] as const;
  const clips: { kind: (typeof kinds)[number]; id: string; sm3: string; path: string; bytes: Buffer }[] = [];
  let outbox = await openOutbox({ dir });
  for (const [i, kind] of kinds.entries()) {
    const bytes = Buffer.concat([video, box('free', [randomBytes(16)])]);
    const source = join(dataDir, `clip${i}.mp4`);
    await writeFile(source, bytes);
    const id = await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, personClipName(Date.now() - i * 1000), source);
    const entry = outbox.get(id);
    clips.push({ kind, id, sm3: sm3Hex(bytes), path: entry?.kind === 'evidence' ? entry.path : '', bytes });
  }
  await outbox.addRecord(RECORD_ENDPOINTS.person, personRecord(1));
  await outbox.close();
  const altered = new Map<string, Buffer>();
  for (const c of clips) {
    if (c.kind === 'middle') {
      const bytes = Buffer.from(c.bytes);
      randomBytes(64).copy(bytes, Math.floor(bytes.length / 2));
      await writeFile(c.path, bytes);
      altered.set(c.sm3, bytes);
    } else if (c.kind === 'truncated') {
      await truncate(c.path, 1000);
      altered.set(c.sm3, c.bytes.subarray(0, 1000));
    } else if (c.kind === 'zero-length') {
      await truncate(c.path, 0);
      altered.set(c.sm3, Buffer.alloc(0));
    } else if (c.kind === 'deleted') await rm(c.path);
  }
  // a clip no entry names, under its own (right) address
  const orphanBytes = Buffer.concat([video, box('free', [randomBytes(16)])]);
  const orphan = sm3Hex(orphanBytes);
  const orphanPath = join(dir, 'blobs', orphan.slice(0, 2), orphan.slice(2, 4), orphan);
  await mkdir(join(orphanPath, '..'), { recursive: true });
  await writeFile(orphanPath, orphanBytes);
  altered.set(orphan, orphanBytes);

  const byKind = (r: OutboxVerifyReport, kind: string) => r.damage.filter((d) => d.kind === kind);
  const clipOf = (kind: string) => clips.find((c) => c.kind === kind)!;

  const json = await run(['edge', 'verify', '--json'], dataDir);
  t.equal(json.code, 1, 'exit status 1: damage found');
  const report = JSON.parse(json.out) as OutboxVerifyReport;
  t.match(report, { dir, items: 7, blobs: 6, summary: { mismatches: 3, missingBlobs: 1, itemsWithoutBlob: 1, orphanBlobs: 1, setAside: 0 } });
  t.same(
    byKind(report, 'mismatch').map((d) => [d.sm3, d.path, d.item]).sort(),
    clips.filter((c) => ['middle', 'truncated', 'zero-length'].includes(c.kind)).map((c) => [c.sm3, c.path, c.id]).sort(),
    'each altered clip: a mismatch, with its address, path and entry',
  );
  const deleted = clipOf('deleted');
  t.same(byKind(report, 'missingBlob').map((d) => [d.sm3, d.path, d.item]), [[deleted.sm3, deleted.path, deleted.id]], 'the deleted clip: missing');
  t.same(byKind(report, 'itemWithoutBlob').map((d) => [d.sm3, d.item]), [[deleted.sm3, deleted.id]], 'its entry: without its clip');
  t.same(byKind(report, 'orphanBlob').map((d) => [d.sm3, d.path, d.item]), [[orphan, orphanPath, null]], 'the orphan clip');
  t.match(byKind(report, 'mismatch').find((d) => d.item === clipOf('zero-length').id)?.detail, /^its 0 bytes \(\d+ staged\) hash to [0-9a-f]{64}$/);
  t.ok(existsSync(orphanPath) && existsSync(clipOf('middle').path), 'a check alone moves nothing');

  const text = await run(['edge', 'verify'], dataDir);
  t.equal(text.code, 1);
  t.match(text.out, /damage: {4}3 corrupt clips \(SM3 mismatch\), 1 missing clips \(1 entries without their clip\), 1 orphan clips/);
  t.match(text.out, /eseal edge verify --repair/, 'says what to do');

  const repaired = await run(['edge', 'verify', '--repair', '--json'], dataDir);
  t.equal(repaired.code, 1, 'damage was found (and repaired)');
  const r = JSON.parse(repaired.out) as OutboxVerifyReport;
  t.match(r.repair, { quarantined: 4, marked: 4 }, 'three corrupt clips and the orphan moved; four entries set aside');
  for (const d of [...byKind(r, 'mismatch'), ...byKind(r, 'orphanBlob')]) {
    t.ok(d.quarantined?.startsWith(join(dir, 'quarantine')), `${d.sm3.slice(0, 8)} in quarantine`);
    t.same(await readFile(d.quarantined!), altered.get(d.sm3), 'with its bytes as found: nothing deleted');
    t.notOk(existsSync(d.path), 'and no longer in the blob store');
  }

  outbox = await openOutbox({ dir });
  t.teardown(() => outbox.close());
  const dead = outbox.deadLetters();
  t.same(dead.map((d) => d.id).sort(), clips.filter((c) => c.kind !== 'intact').map((c) => c.id).sort(), 'the damaged clips are dead letters');
  for (const d of dead) {
    t.equal(d.kind === 'evidence' && d.corrupt?.code, 'ESEAL_ERR_STORE_CORRUPT');
    t.match(d.deadReason, /^ESEAL_ERR_STORE_CORRUPT: the clip .* (does not match its SM3 address: its \d+ bytes .*|is gone); found by eseal edge verify$/);
  }
  const middleDead = dead.find((d) => d.id === clipOf('middle').id);
  t.match(middleDead?.kind === 'evidence' && middleDead.corrupt?.path, /\/quarantine\/\d{4}-\d{2}-\d{2}\//, 'the mark names where the bad file is now');
  t.equal(outbox.stats().corrupt, 4, 'counted');
  t.equal(outbox.stats().pending, 3, 'the intact clips and the record still wait to be sent');
  for (const c of clips.filter((c) => c.kind === 'intact')) t.same(await readFile(c.path), c.bytes, 'an intact clip untouched');
  // what eseal edge status shows from the status file a running edge writes with these counts
  const status = { at: Date.now(), pid: process.pid, mineState: 'producing', cameras: [], uploader: { delivered: 0, deadLettered: 0, retried: 0, corrupt: 0, pausedUntil: 0, inFlight: [], outbox: outbox.stats() } };
  await writeFile(join(dataDir, 'edge', 'status.json'), JSON.stringify(status));
  const shown = await run(['edge', 'status'], dataDir);
  t.match(shown.out, /CORRUPT: {3}4 clips set aside: not what the edge recorded \(ESEAL_ERR_STORE_CORRUPT\); run eseal edge verify/, 'eseal edge status shows the count');
  await outbox.close();

  const after = await run(['edge', 'verify', '--json'], dataDir);
  t.equal(after.code, 0, 'after the repair the outbox is whole');
  t.match(JSON.parse(after.out), { damage: [], summary: { mismatches: 0, missingBlobs: 0, itemsWithoutBlob: 0, orphanBlobs: 0, setAside: 4 } });
});

t.test('--repair refuses while the edge is running; no outbox is an error', async (t) => {
  const dataDir = await tempDir(t);
  t.equal((await run(['edge', 'verify'], dataDir)).code, 1, 'no outbox');
  const outbox = await openOutbox({ dir: join(dataDir, 'edge', 'outbox') });
  await outbox.close();
  // a status file as a running edge writes it: this test's parent is alive
  await writeFile(join(dataDir, 'edge', 'status.json'), JSON.stringify({ at: Date.now(), pid: process.ppid }));
  const refused = await run(['edge', 'verify', '--repair'], dataDir);
  t.equal(refused.code, 1);
  t.match(refused.err, /the edge is running \(pid \d+\): stop it before eseal edge verify --repair/);
  const check = await run(['edge', 'verify'], dataDir);
  t.equal(check.code, 0, 'a check alone runs beside it: an empty outbox is whole');
});
