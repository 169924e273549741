// The edge's verifying read of a clip: the bytes asked for, each byte hashed once whatever the
// reads, and the piece that ends the clip withheld when the clip is not what was staged.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { sm3Hex } from '../../../src/crypto/sm3.ts';
import { verifiedClip } from '../../../edge/upload/verifiedClip.ts';
import { tempDir } from '../../helpers/tempDir.ts';

/** What a read yields until it ends or fails. */
async function drain(stream: Readable): Promise<{ bytes: Buffer; error?: { code?: string; message: string } }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream) chunks.push(c as Buffer);
    return { bytes: Buffer.concat(chunks) };
  } catch (err) {
    return { bytes: Buffer.concat(chunks), error: err as { code?: string; message: string } };
  }
}

async function clipFile(t: Test, size = 300 * 1024): Promise<{ path: string; bytes: Buffer; sm3: string }> {
  const dir = await tempDir(t);
  const bytes = randomBytes(size);
  const path = join(dir, 'clip');
  await writeFile(path, bytes);
  return { path, bytes, sm3: sm3Hex(bytes) };
}

t.test('an intact clip: whole, from an offset, and read again (a tus checksum pass, then the body)', async (t) => {
  const c = await clipFile(t);
  const clip = verifiedClip({ path: c.path, sm3: c.sm3, size: c.bytes.length });
  t.same((await drain(clip.open(0))).bytes, c.bytes, 'the whole clip');
  t.same((await drain(clip.open(100_000))).bytes, c.bytes.subarray(100_000), 'from an offset, read again');
  t.equal(clip.failure, undefined);

  const resumed = verifiedClip({ path: c.path, sm3: c.sm3, size: c.bytes.length });
  const tail = await drain(resumed.open(c.bytes.length - 10));
  t.same(tail.bytes, c.bytes.subarray(-10), 'a resumed read yields only what is asked for');
  t.equal(resumed.failure, undefined, 'its prefix was hashed from disk and matches');
});

t.test('bytes in the middle altered: the read fails before the piece that ends the clip', async (t) => {
  const c = await clipFile(t);
  const altered = Buffer.from(c.bytes);
  randomBytes(64).copy(altered, 150_000);
  await writeFile(c.path, altered);
  const clip = verifiedClip({ path: c.path, sm3: c.sm3, size: c.bytes.length });
  const r = await drain(clip.open(0));
  t.equal(r.error?.code, 'ESEAL_ERR_STORE_CORRUPT');
  t.ok(r.bytes.length < c.bytes.length, `the clip's end was withheld (${r.bytes.length} of ${c.bytes.length} bytes)`);
  t.equal(clip.failure?.code, 'ESEAL_ERR_STORE_CORRUPT');
  t.match(clip.failure?.detail, { path: c.path, sm3: c.sm3 });
  t.equal((await drain(clip.open(0))).error?.code, 'ESEAL_ERR_STORE_CORRUPT', 'every later read fails at once');
});

t.test('a resumed read finds an alteration before its offset', async (t) => {
  const c = await clipFile(t);
  const altered = Buffer.from(c.bytes);
  altered[10] = altered[10]! ^ 0xff;
  await writeFile(c.path, altered);
  const clip = verifiedClip({ path: c.path, sm3: c.sm3, size: c.bytes.length });
  const r = await drain(clip.open(200_000));
  t.equal(r.error?.code, 'ESEAL_ERR_STORE_CORRUPT');
  t.ok(r.bytes.length < c.bytes.length - 200_000, 'the end was withheld');
});

t.test('truncated, emptied, gone: each fails as corrupt', async (t) => {
  for (const [what, alter] of [
    ['truncated', (p: string) => truncate(p, 1000)],
    ['zero-length', (p: string) => truncate(p, 0)],
    ['deleted', (p: string) => rm(p)],
  ] as const) {
    const c = await clipFile(t);
    await alter(c.path);
    const clip = verifiedClip({ path: c.path, sm3: c.sm3, size: c.bytes.length });
    const r = await drain(clip.open(0));
    t.equal(r.error?.code, 'ESEAL_ERR_STORE_CORRUPT', what);
    t.match(r.error?.message, what === 'deleted' ? /is gone/ : /bytes long/, what);
  }
});

t.test('a file longer than staged: only the staged bytes are read, and they match', async (t) => {
  const c = await clipFile(t);
  await writeFile(c.path, Buffer.concat([c.bytes, Buffer.from('trailing')]));
  const clip = verifiedClip({ path: c.path, sm3: c.sm3, size: c.bytes.length });
  t.same((await drain(clip.open(0))).bytes, c.bytes);
  t.equal(clip.failure, undefined);
});
