// The edge outbox on a real LMDB in a temp dir: send order by lane, retry times, dead letters,
// what survives a reopen and a kill -9, and the bounds (oldest evidence dropped, never records).
// The queue under it is an LmdbQueueStore and the clips an FsBlobStore, both also run through the
// shared contract tests (test/src/store/).
import t from 'tap';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { access, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatJsonTime } from '../../../src/contract/index.ts';
import { sm3Hex } from '../../../src/crypto/sm3.ts';
import { createLogger } from '../../../src/log.ts';
import { openOutbox, type OutboxEntry } from '../../../edge/upload/Outbox.ts';
import { evidenceName } from '../../helpers/evidence.ts';
import { makeVideo } from '../../helpers/media.ts';
import { MINE, tempDir } from '../../helpers/relay.ts';

const person = (n: number) => ({ mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: String(n).padStart(4, '0'), time: formatJsonTime() });
const online = { mineId: MINE, cameraId: '10', alarm: 1, time: formatJsonTime() };
const clipName = () => evidenceName(EVIDENCE_ENDPOINTS.personVideo, MINE);

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** the committed clips of an outbox (blob files, temp files left aside) */
async function clipFiles(box: string): Promise<string[]> {
  const all = await readdir(join(box, 'blobs'), { recursive: true, withFileTypes: true }).catch(() => []);
  return all.filter((e) => e.isFile() && /^[0-9a-f]{64}$/.test(e.name)).map((e) => e.name).sort();
}

/** a clip file goes just after its entry (queued behind it): wait for it (bounded by time, not by tries: a loaded machine is slow) */
async function eventually<T>(read: () => Promise<T>, want: T): Promise<T> {
  let got = await read();
  const end = Date.now() + 30_000;
  while (Date.now() < end && JSON.stringify(got) !== JSON.stringify(want)) {
    await new Promise((r) => setTimeout(r, 20));
    got = await read();
  }
  return got;
}

function logLines(): { log: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ level: 'info', destination }), lines };
}

t.test('lanes first (status, records, evidence), oldest first; retry times; delivered entries and clips are gone', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 1 });
  const outbox = await openOutbox({ dir: join(dir, 'outbox') });
  t.teardown(() => outbox.close());

  const clip = await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, clipName(), video, { keepSource: true });
  const rec1 = await outbox.addRecord(RECORD_ENDPOINTS.person, person(1));
  const status = await outbox.addRecord(RECORD_ENDPOINTS.cameraOnline, online);
  const rec2 = await outbox.addRecord(RECORD_ENDPOINTS.truck, { mineId: MINE, cameraId: '30', aiTypeCode: '02', outMineNumber: '0001', time: formatJsonTime() });
  t.ok(await exists(video), 'keepSource leaves the source in place');

  t.same([...outbox.entries()].map((e) => e.id), [status, rec1, rec2, clip], 'status lane, then records, then evidence');
  t.same(outbox.stats().pendingByLane, { status: 1, record: 2, evidence: 1 });
  const stored = outbox.get(clip)!;
  t.equal(stored.kind, 'evidence');
  if (stored.kind === 'evidence') {
    t.equal(sm3Hex(await readFile(stored.path)), sm3Hex(await readFile(video)), 'the clip in the outbox has the bytes of the source');
    t.ok(stored.path.startsWith(join(dir, 'outbox', 'blobs')));
  }

  const taken: OutboxEntry[] = [];
  for (let e = outbox.next(); e; e = outbox.next()) taken.push(e);
  t.same(taken.map((e) => e.id), [status, rec1, rec2, clip], 'next() hands out in the same order');
  t.equal(outbox.next(), undefined, 'nothing is handed out twice');
  t.equal(outbox.stats().inFlight, 4);

  const later = Date.now() + 60_000;
  await outbox.markFailed(rec1, 'HTTP 503 busy', later);
  outbox.release(rec2);
  t.equal(outbox.next()?.id, rec2, 'a failed entry waits for its retry time; the next one goes');
  t.equal(outbox.nextDueAt(), later, 'nextDueAt: when the waiting entry is due');
  t.equal(outbox.next({ now: later })?.id, rec1, 'due at its retry time');
  t.match(outbox.get(rec1), { attempts: 1, lastError: 'HTTP 503 busy', retryAt: later });
  t.equal(outbox.next({ lanes: ['status', 'record'] }), undefined, 'lanes limit the search');

  const clipPath = (outbox.get(clip) as { path: string }).path;
  await outbox.markDelivered(clip);
  t.equal(outbox.get(clip), undefined);
  t.notOk(await eventually(() => exists(clipPath), false), 'the clip file is deleted with its entry');
  await outbox.markDelivered(rec2);
  t.same(outbox.stats().pendingByLane, { status: 1, record: 1, evidence: 0 });
});

t.test('dead letters are kept and listed, can be requeued; everything survives a reopen; stray clips are removed', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 1 });
  const box = join(dir, 'outbox');
  let outbox = await openOutbox({ dir: box });
  const bad = await outbox.addRecord(RECORD_ENDPOINTS.person, person(7));
  const good = await outbox.addRecord(RECORD_ENDPOINTS.person, person(8));
  const clip = await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, clipName(), video, { keepSource: true });
  t.equal(outbox.next()?.id, bad);
  await outbox.deadLetter(bad, 'HTTP 400 {"code":1,"msg":"cameraId: must be 2 digits"}');
  t.same([...outbox.entries()].map((e) => e.id), [good, clip], 'a dead letter is not sent again');
  t.same(outbox.deadLetters().map((e) => [e.id, e.deadReason]), [[bad, 'HTTP 400 {"code":1,"msg":"cameraId: must be 2 digits"}']]);
  t.equal(outbox.next()?.id, good);
  await outbox.markFailed(good, 'ECONNREFUSED', 5);
  await outbox.setUploadUrl(clip, 'http://127.0.0.1:1/jy-essa/electronicSeal/fileOperator/resumable/abc');
  const before = outbox.stats();
  await outbox.close();
  await t.rejects(() => outbox.addRecord(RECORD_ENDPOINTS.person, person(1)), { code: 'ESEAL_ERR_OUTBOX_CLOSED' });

  const stray = 'ab'.repeat(32);
  await mkdir(join(box, 'blobs', 'ab', 'ab'), { recursive: true });
  await writeFile(join(box, 'blobs', 'ab', 'ab', stray), 'left by a crash between the file and the commit');
  await writeFile(join(box, 'blobs', 'tmp', '999999999.0011223344556677.part'), 'half a copy');
  outbox = await openOutbox({ dir: box });
  t.teardown(() => outbox.close());
  const clipPath = (outbox.get(clip) as { path: string }).path;
  t.same(await clipFiles(box), [basename(clipPath)], 'clips no entry names are removed at open');
  t.same(await readdir(join(box, 'blobs', 'tmp')), [], 'and half copies');
  t.same({ ...outbox.stats(), dropped: 0 }, { ...before, inFlight: 0 }, 'same counts after the reopen');
  t.match(outbox.get(good), { attempts: 1, lastError: 'ECONNREFUSED', retryAt: 5 });
  t.match(outbox.get(clip), { uploadUrl: /resumable\/abc$/ });
  t.equal(outbox.deadLetters()[0]?.id, bad);
  const third = await outbox.addRecord(RECORD_ENDPOINTS.person, person(9));
  t.ok(Number(third) > Number(clip), 'ids are never reused');

  await outbox.requeue(bad);
  t.same([...outbox.entries()].map((e) => e.id), [bad, good, third, clip], 'a requeued record is in its lane again, in seq order');
  t.equal(outbox.stats().dead, 0);
  await t.rejects(() => outbox.requeue(bad), { code: 'ESEAL_ERR_OUTBOX_STATE' });
  await t.rejects(() => outbox.markDelivered('12345'), { code: 'ESEAL_ERR_OUTBOX_NOT_FOUND' });
});

t.test('what is not a contract call or a clip is refused before anything is stored', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 1 });
  const outbox = await openOutbox({ dir: join(dir, 'outbox') });
  t.teardown(() => outbox.close());
  await t.rejects(() => outbox.addRecord(EVIDENCE_ENDPOINTS.personVideo as never, person(1)), { code: 'ESEAL_ERR_OUTBOX_INPUT', field: 'endpoint' });
  await t.rejects(() => outbox.addRecord(RECORD_ENDPOINTS.person, { mineId: MINE, nested: {} } as never), { code: 'ESEAL_ERR_OUTBOX_INPUT' });
  await t.rejects(() => outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, 'clip.mp4', video), { code: 'ESEAL_ERR_INPUT_FILE_NAME' });
  await t.rejects(() => outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, clipName(), join(dir, 'missing.mp4')), { code: 'ESEAL_ERR_OUTBOX_INPUT', field: 'sourcePath' });
  t.equal(outbox.stats().pending, 0);
  t.same(await clipFiles(join(dir, 'outbox')), []);
  t.ok(await exists(video), 'a refused clip is not moved');
});

t.test('a clip is moved in by default; the source is gone, the bytes are the same', async (t) => {
  const dir = await tempDir(t);
  const made = await makeVideo(dir, { seconds: 1 });
  const source = join(dir, 'clip-to-move.mp4');
  await writeFile(source, await readFile(made));
  const outbox = await openOutbox({ dir: join(dir, 'outbox') });
  t.teardown(() => outbox.close());
  const id = await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, clipName(), source);
  t.notOk(await exists(source));
  const e = outbox.get(id)!;
  t.equal(e.kind === 'evidence' && sm3Hex(await readFile(e.path)), sm3Hex(await readFile(made)));
  t.equal(e.bytes, (await readFile(made)).length);
});

t.test('bounded: the oldest evidence is dropped (dead letters first) with an error log; records never, they are refused', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 1 });
  const { log, lines } = logLines();
  const outbox = await openOutbox({ dir: join(dir, 'outbox'), maxItems: 4, log });
  t.teardown(() => outbox.close());
  const c1 = await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, clipName(), video, { keepSource: true });
  const c2 = await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, clipName(), video, { keepSource: true });
  const c3 = await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, clipName(), video, { keepSource: true });
  await outbox.addRecord(RECORD_ENDPOINTS.person, person(1));
  outbox.next({ lanes: ['record'] });
  const e2 = outbox.next()!;
  t.equal(e2.id, c1);
  await outbox.deadLetter(c2, 'HTTP 400');
  outbox.release(c1);

  await outbox.addRecord(RECORD_ENDPOINTS.person, person(2));
  t.equal(outbox.get(c2), undefined, 'the dead-letter clip goes first');
  t.ok(outbox.get(c1) && outbox.get(c3));
  await outbox.addRecord(RECORD_ENDPOINTS.person, person(3));
  t.equal(outbox.get(c1), undefined, 'then the oldest pending clip');
  await outbox.addRecord(RECORD_ENDPOINTS.person, person(4));
  t.equal(outbox.get(c3), undefined);
  t.equal(outbox.stats().dropped, 3);
  t.same(await eventually(() => clipFiles(join(dir, 'outbox')), []), [], 'their file too (the three were the same clip, kept once)');
  const dropLogs = lines.filter((l) => l['level'] === 50 && /dropped unsent/.test(String(l['msg'])));
  t.same(dropLogs.map((l) => l['id']), [c2, c1, c3], 'each drop is logged at error level, with what was dropped');
  t.match(dropLogs[0], { fileName: /^140421007866\d{22}\.MP4$/, endpoint: 'fileOperator/personVideo', state: 'dead' });

  await t.rejects(() => outbox.addRecord(RECORD_ENDPOINTS.person, person(5)), { code: 'ESEAL_ERR_OUTBOX_FULL' }, 'only records left: the add is refused, loudly');
  await t.rejects(() => outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, clipName(), video, { keepSource: true }), { code: 'ESEAL_ERR_OUTBOX_FULL' });
  t.equal(outbox.stats().pendingByLane.record, 4, 'no record was dropped');

  const small = await openOutbox({ dir: join(dir, 'small'), maxBytes: 1000 });
  t.teardown(() => small.close());
  await t.rejects(() => small.addEvidence(EVIDENCE_ENDPOINTS.personVideo, clipName(), video, { keepSource: true }), { code: 'ESEAL_ERR_OUTBOX_FULL' }, 'a clip larger than the whole outbox');
  t.same(await clipFiles(join(dir, 'small')), [], 'nothing of it is kept');
  t.same(await readdir(join(dir, 'small', 'blobs', 'tmp')), [], 'no staged copy either');
  t.ok(await exists(video), 'a clip refused up front is left where it was');
});

t.test('kill -9 while adding: every add that resolved is there after a reopen, with its bytes', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 1 });
  const videoSm3 = sm3Hex(await readFile(video));
  const box = join(dir, 'outbox');
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/edge/upload/outboxChild.ts', box, MINE, video], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const added = new Map<string, { kind: string; n: number }>();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^added (\d+) (record|evidence) (\d+)$/.exec(line);
      if (m) added.set(m[1]!, { kind: m[2]!, n: Number(m[3]) });
      if (added.size === 60) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    void exited.then(() => (added.size < 60 ? reject(new Error(`the child ended early after ${added.size} adds`)) : undefined));
  });
  await exited;

  const outbox = await openOutbox({ dir: box });
  t.teardown(() => outbox.close());
  const missing = [...added.keys()].filter((id) => !outbox.get(id));
  t.same(missing, [], 'no acknowledged add is lost');
  let clips = 0;
  const wrong: string[] = [];
  for (const [id, what] of added) {
    const e = outbox.get(id)!;
    if (e.kind !== what.kind) wrong.push(`${id}: ${e.kind}, added as ${what.kind}`);
    else if (e.kind === 'record' && e.body['inWellNumber'] !== String(what.n).padStart(4, '0')) wrong.push(`${id}: another record`);
    else if (e.kind === 'evidence' && sm3Hex(await readFile(e.path)) === videoSm3) clips++;
  }
  t.same(wrong, [], 'each entry is what was added');
  t.equal(clips, [...added.values()].filter((a) => a.kind === 'evidence').length, 'every acknowledged clip is whole');
  const named = new Set([...outbox.entries()].flatMap((e) => (e.kind === 'evidence' ? [basename(e.path)] : [])));
  t.same(await clipFiles(box), [...named].sort(), 'no clip without an entry, no entry without a clip');
});

t.test('status calls of one camera go in order; records and clips do not wait for each other', async (t) => {
  const dir = await tempDir(t);
  const outbox = await openOutbox({ dir: join(dir, 'outbox') });
  t.teardown(() => outbox.close());
  const off = await outbox.addRecord(RECORD_ENDPOINTS.cameraOnline, { ...online, alarm: 1 });
  const on = await outbox.addRecord(RECORD_ENDPOINTS.cameraOnline, { ...online, alarm: 0 });
  const other = await outbox.addRecord(RECORD_ENDPOINTS.cameraOnline, { ...online, cameraId: '11' });
  const r1 = await outbox.addRecord(RECORD_ENDPOINTS.person, person(1));
  const r2 = await outbox.addRecord(RECORD_ENDPOINTS.person, person(2));
  t.equal(outbox.next()?.id, off);
  t.equal(outbox.next()?.id, other, 'the same camera waits for its earlier state; another camera goes');
  await outbox.markFailed(off, 'HTTP 503', Date.now() + 60_000);
  t.equal(outbox.next({ lanes: ['status'] }), undefined, 'its later state does not overtake the one waiting for a retry');
  t.equal(outbox.next()?.id, r1);
  await outbox.markFailed(r1, 'HTTP 503', Date.now() + 60_000);
  t.equal(outbox.next()?.id, r2, 'a record waiting for its retry holds back no other record');
  await outbox.markDelivered(off);
  t.equal(outbox.next()?.id, on, 'once the earlier state is sent, the later one goes');
});

t.test('an outbox folder of the pre-release format is left alone and reported', async (t) => {
  const dir = await tempDir(t);
  const box = join(dir, 'outbox');
  await mkdir(join(box, 'clips'), { recursive: true });
  await writeFile(join(box, 'clips', '1.mp4'), 'an old clip');
  const { log, lines } = logLines();
  const outbox = await openOutbox({ dir: box, log });
  t.teardown(() => outbox.close());
  t.equal(outbox.stats().pending, 0, 'nothing of it is read');
  t.ok(await exists(join(box, 'clips', '1.mp4')), 'nothing of it is deleted');
  t.ok(lines.some((l) => l['level'] === 50 && /pre-release format/.test(String(l['msg']))), 'an error says so');
});

t.test('a corrupt clip is set aside: a marked dead letter, counted, across a reopen; a requeue clears the mark', async (t) => {
  const dir = await tempDir(t);
  const box = join(dir, 'outbox');
  const video = await makeVideo(dir, { seconds: 1 });
  let outbox = await openOutbox({ dir: box });
  const id = await outbox.addEvidence(EVIDENCE_ENDPOINTS.personVideo, clipName(), video, { keepSource: true });
  const entry = outbox.next();
  t.equal(entry?.id, id);
  t.equal(entry?.kind === 'evidence' && entry.blob, sm3Hex(await readFile(video)), 'the entry names its SM3 address');
  await outbox.setUploadUrl(id, '/files/abc');
  const { Corrupt } = await import('../../../src/store/errors.ts');
  const path = entry?.kind === 'evidence' ? entry.path : '';
  await outbox.markCorrupt(id, Corrupt('the clip does not match its SM3 address', { detail: { path } }));
  const dead = outbox.get(id);
  t.match(dead, { state: 'dead', deadReason: /^ESEAL_ERR_STORE_CORRUPT: the clip does not match/, corrupt: { code: 'ESEAL_ERR_STORE_CORRUPT', path } });
  t.equal(dead?.kind === 'evidence' && dead.uploadUrl, undefined, 'its tus upload is forgotten: a requeue starts afresh');
  t.equal(outbox.stats().corrupt, 1);
  t.equal(outbox.next(), undefined, 'never handed out again');
  await outbox.close();

  outbox = await openOutbox({ dir: box });
  t.teardown(() => outbox.close());
  t.equal(outbox.stats().corrupt, 1, 'counted after a reopen');
  t.ok(await exists(path), 'the clip is kept');
  await outbox.requeue(id);
  t.equal(outbox.stats().corrupt, 0);
  t.equal(outbox.get(id)?.kind === 'evidence' && (outbox.get(id) as { corrupt?: unknown }).corrupt, undefined, 'the mark is gone with the requeue');
});
