import t from 'tap';
import { readdirSync, readFileSync, statSync, writeFileSync, utimesSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import {
  forgetPreviousSm2Key,
  loadOrCreateSecretKey,
  loadOrCreateSm2KeyPair,
  ringPrivateKeys,
  rotateSm2KeyPair,
} from '../../../src/crypto/keyFiles.ts';
import { parsePrivateKey, sm2Encrypt } from '../../../src/crypto/sm2.ts';
import { sm2DecryptAny } from '../../../src/crypto/sm2ClientVariants.ts';
import { openSecret, sealSecret } from '../../../src/crypto/sm4.ts';
import { ESEAL_ERR_CRYPTO_KEY_FILE } from '../../../src/crypto/errors.ts';

const mode = (path: string) => statSync(path).mode & 0o777;
const tempFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

t.test('first call creates the key files, second returns the same keys', async (t) => {
  const dir = join(t.testdir({}), 'data'); // does not exist yet
  const ring = await loadOrCreateSm2KeyPair(dir);
  t.match(ring.current.privateKeyHex, /^[0-9a-f]{64}$/);
  t.match(ring.current.publicKeyHex, /^04[0-9a-f]{128}$/);
  t.type(ring.current.createdAt, Date);
  t.equal(ring.previous, undefined);
  t.equal(mode(join(dir, 'sm2.key')), 0o600, 'private key 0600');
  t.equal(mode(join(dir, 'sm2.pub')), 0o644, 'public key 0644');
  t.equal(readFileSync(join(dir, 'sm2.pub'), 'utf8').trim(), ring.current.publicKeyHex);
  const pem = readFileSync(join(dir, 'sm2.key'), 'utf8');
  t.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
  t.same(parsePrivateKey(pem), { privateKeyHex: ring.current.privateKeyHex, publicKeyHex: ring.current.publicKeyHex });

  const again = await loadOrCreateSm2KeyPair(dir);
  t.same(again, ring);
  t.same(tempFiles(dir), [], 'no temporary files left');
});

t.test('concurrent first starts agree on one key', async (t) => {
  const dir = t.testdir({});
  const rings = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSm2KeyPair(dir)));
  t.equal(new Set(rings.map((r) => r.current.privateKeyHex)).size, 1);
  t.equal(parsePrivateKey(readFileSync(join(dir, 'sm2.key'), 'utf8')).privateKeyHex, rings[0]!.current.privateKeyHex);
  t.same(tempFiles(dir), [], 'no temporary files left');
});

t.test('rotation keeps the previous key, which still decrypts', async (t) => {
  const dir = t.testdir({});
  const first = await loadOrCreateSm2KeyPair(dir);
  const oldCreatedAt = new Date('2024-01-02T03:04:05Z');
  utimesSync(join(dir, 'sm2.key'), oldCreatedAt, oldCreatedAt);
  const before = await loadOrCreateSm2KeyPair(dir);
  t.equal(before.current.createdAt.getTime(), oldCreatedAt.getTime(), 'createdAt is the key file’s mtime');
  const oldClient = sm2Encrypt('old', first.current.publicKeyHex, { mode: 'C1C3C2', encoding: 'hex', with04: false });

  const rotated = await rotateSm2KeyPair(dir);
  t.not(rotated.current.privateKeyHex, first.current.privateKeyHex);
  t.equal(rotated.previous?.privateKeyHex, first.current.privateKeyHex);
  t.equal(rotated.previous?.publicKeyHex, first.current.publicKeyHex);
  t.equal(rotated.previous?.createdAt.getTime(), oldCreatedAt.getTime(), 'the previous key keeps its creation time');
  t.ok(rotated.current.createdAt.getTime() > oldCreatedAt.getTime());
  t.equal(mode(join(dir, 'sm2.previous.key')), 0o600);
  t.equal(mode(join(dir, 'sm2.key')), 0o600);
  t.equal(readFileSync(join(dir, 'sm2.pub'), 'utf8').trim(), rotated.current.publicKeyHex);
  t.same(await loadOrCreateSm2KeyPair(dir), rotated, 'a restart sees the same ring');

  const keys = ringPrivateKeys(rotated);
  t.same(keys, [rotated.current.privateKeyHex, first.current.privateKeyHex]);
  const decrypted = sm2DecryptAny(oldClient, keys);
  t.equal(decrypted.plaintext.toString(), 'old');
  t.equal(decrypted.variant.keyIndex, 1);

  const twice = await rotateSm2KeyPair(dir);
  t.equal(twice.previous?.privateKeyHex, rotated.current.privateKeyHex, 'a second rotation drops the oldest key');
  t.throws(() => sm2DecryptAny(oldClient, ringPrivateKeys(twice)), { code: 'ESEAL_ERR_CRYPTO_DECRYPT' });

  await forgetPreviousSm2Key(dir);
  t.equal((await loadOrCreateSm2KeyPair(dir)).previous, undefined);
  await forgetPreviousSm2Key(dir); // idempotent
  t.same(tempFiles(dir), [], 'no temporary files left');
});

t.test('the private key is the source of truth', async (t) => {
  const dir = t.testdir({});
  const ring = await loadOrCreateSm2KeyPair(dir);
  writeFileSync(join(dir, 'sm2.pub'), `04${'ab'.repeat(64)}\n`);
  t.same(await loadOrCreateSm2KeyPair(dir), ring);
  t.equal(readFileSync(join(dir, 'sm2.pub'), 'utf8').trim(), ring.current.publicKeyHex, 'stale sm2.pub rewritten');

  // a crash between writing sm2.previous.key and sm2.key leaves previous == current
  writeFileSync(join(dir, 'sm2.previous.key'), readFileSync(join(dir, 'sm2.key')), { mode: 0o600 });
  t.equal((await loadOrCreateSm2KeyPair(dir)).previous, undefined);

  chmodSync(join(dir, 'sm2.key'), 0o644);
  await loadOrCreateSm2KeyPair(dir);
  t.equal(mode(join(dir, 'sm2.key')), 0o600, 'a private key readable by others is narrowed');
});

t.test('a corrupt key file is an error and is left alone', async (t) => {
  const dir = t.testdir({ 'sm2.key': 'not a key\n', 'secret.key': 'short\n' });
  await t.rejects(loadOrCreateSm2KeyPair(dir), { code: ESEAL_ERR_CRYPTO_KEY_FILE.code });
  t.equal(readFileSync(join(dir, 'sm2.key'), 'utf8'), 'not a key\n');
  await t.rejects(loadOrCreateSecretKey(dir), { code: ESEAL_ERR_CRYPTO_KEY_FILE.code });
  t.equal(readFileSync(join(dir, 'secret.key'), 'utf8'), 'short\n');
});

t.test('the SM4 at-rest key', async (t) => {
  const dir = t.testdir({});
  const [a, b] = await Promise.all([loadOrCreateSecretKey(dir), loadOrCreateSecretKey(dir)]);
  t.equal(a.length, 32);
  t.same(a, b, 'concurrent first starts agree');
  t.equal(mode(join(dir, 'secret.key')), 0o600);
  const sealed = sealSecret(a, 'upstream secret');
  t.equal(openSecret(await loadOrCreateSecretKey(dir), sealed).toString(), 'upstream secret', 'same key after a restart');
  t.same(tempFiles(dir), [], 'no temporary files left');
});
