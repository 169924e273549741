// Issue 9, finding 7 (tus): another account's HEAD, PATCH or DELETE of an upload is answered 404
// before anything of the upload is touched: the owner's chunk in flight is neither stopped nor
// delayed, and its bytes all arrive.
import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { EVIDENCE_ENDPOINTS } from '../../src/contract/index.ts';
import { TUS_PATH, formatMetadata } from '../../src/contract/tus.ts';
import { evidenceName } from '../helpers/evidence.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, relayWithMine, type TestRelay } from '../helpers/relay.ts';
import { Tus } from '../helpers/tus.ts';

function tus(relay: TestRelay, token: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer) {
  return new Tus(relay.url, token).call(method, path, headers, body);
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

t.test("another account's HEAD, PATCH and DELETE are 404 without stopping, delaying or changing the owner's chunk in flight", async (t) => {
  const { relay, mine } = await relayWithMine(t);
  await relay.ctx.accounts.add({ username: 'mine002', password: 'An0ther+pass/word=', mines: [MINE] });
  const other = new GuideMine(relay.url, 'mine002', 'An0ther+pass/word=');
  t.equal((await other.login()).status, 200);

  const e = EVIDENCE_ENDPOINTS.personVideo;
  const length = 5000;
  const created = await tus(relay, mine.token, 'POST', TUS_PATH, {
    'upload-length': String(length),
    'upload-metadata': formatMetadata({ kind: e.partName, filename: evidenceName(e, MINE) }),
  });
  t.equal(created.status, 201);
  const path = String(created.headers['location']);
  const file = join(relay.dataDir, 'tus', path.slice(TUS_PATH.length));

  // the owner's chunk: headers and its first half sent, the rest still to come on the same connection
  const chunk = Buffer.alloc(2000, 7);
  const url = new URL(relay.url);
  const owner = connect(Number(url.port), url.hostname);
  owner.on('error', () => {});
  t.teardown(() => owner.destroy());
  let answer = '';
  owner.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  const ownerClosed = new Promise<void>((resolve) => owner.on('close', () => resolve()));
  const ownerAnswered = new Promise<void>((resolve) => owner.on('data', () => answer.includes('\r\n\r\n') && resolve()));
  owner.write(
    `PATCH ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${mine.token}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n` +
      `Content-Type: application/offset+octet-stream\r\nContent-Length: ${chunk.length}\r\n\r\n`,
  );
  owner.write(chunk.subarray(0, 1000));
  await until('the first half reached the upload file', async () => (await stat(file)).size === 1000);

  const head = await tus(relay, other.token, 'HEAD', path);
  t.equal(head.status, 404, 'HEAD by another account');
  t.notOk(head.headers['upload-offset'], 'says nothing of the upload');
  const patch = await tus(relay, other.token, 'PATCH', path, { 'content-type': 'application/offset+octet-stream', 'upload-offset': '1000' }, Buffer.alloc(50, 9));
  t.equal(patch.status, 404, 'PATCH by another account');
  t.match(patch.body.msg, /no such upload of account mine002/);
  t.equal((await tus(relay, other.token, 'DELETE', path)).status, 404, 'DELETE by another account');

  // the owner's chunk goes on as if nothing had happened
  t.notOk(owner.destroyed, "the owner's connection is still open");
  owner.write(chunk.subarray(1000));
  await Promise.race([ownerAnswered, ownerClosed]);
  t.match(answer, /^HTTP\/1\.1 204 /, "the owner's chunk is answered 204");
  t.match(answer, /\r\nupload-offset: 2000\r\n/i, 'with all of its bytes');
  const after = await tus(relay, mine.token, 'HEAD', path);
  t.equal(after.status, 200);
  t.equal(after.headers['upload-offset'], '2000');
  t.same(await readFile(file), chunk, 'the bytes are the owner\'s alone');
});
