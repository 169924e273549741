// The relay's reading of SM2 ciphertexts as clients send them (src/crypto/sm2ClientVariants.ts).
import t from 'tap';
import fc from 'fast-check';
import smCrypto from 'sm-crypto';
import {
  generateSm2KeyPair,
  sm2Encrypt,
  type Sm2CipherEncoding,
  type Sm2CipherMode,
  type Sm2EncryptOptions,
} from '../../../src/crypto/sm2.ts';
import { normaliseCiphertextText, SM2_MAX_CIPHERTEXT_TEXT, sm2DecryptAny } from '../../../src/crypto/sm2ClientVariants.ts';
import { ESEAL_ERR_CRYPTO_DECRYPT, ESEAL_ERR_CRYPTO_KEY_FORMAT } from '../../../src/crypto/errors.ts';

const decryptError = { code: ESEAL_ERR_CRYPTO_DECRYPT.code };
const MODES: Sm2CipherMode[] = ['C1C3C2', 'C1C2C3', 'DER'];
const ENCODINGS: Sm2CipherEncoding[] = ['hex', 'base64'];
const VARIANTS: Sm2EncryptOptions[] = MODES.flatMap((mode) =>
  ENCODINGS.flatMap((encoding) => [false, true].map((with04) => ({ mode, encoding, with04 }))),
);
const key = generateSm2KeyPair();
const other = generateSm2KeyPair();

function bytesOf(text: string, encoding: Sm2CipherEncoding): Buffer {
  return Buffer.from(text, encoding);
}

t.test('round trip in every variant', async (t) => {
  for (const opts of VARIANTS) {
    const message = `密码 ${opts.mode} ${opts.encoding} ${opts.with04}`;
    const ct = sm2Encrypt(message, key.publicKeyHex, opts);
    const raw = bytesOf(ct, opts.encoding);
    if (opts.mode === 'DER') t.equal(raw[0], 0x30, 'DER starts with a SEQUENCE');
    else t.equal(raw.length, (opts.with04 ? 65 : 64) + 32 + Buffer.byteLength(message), `${opts.mode} length`);
    if (opts.mode !== 'DER' && opts.with04) t.equal(raw[0], 0x04);
    const { plaintext, variant } = sm2DecryptAny(ct, key.privateKeyHex);
    t.equal(plaintext.toString('utf8'), message);
    t.same(variant, { ...opts, with04: opts.mode === 'DER' ? false : opts.with04, keyIndex: 0 }, JSON.stringify(opts));
  }
});

t.test('base64 whose + became a space in a query string', async (t) => {
  let ct = '';
  do ct = sm2Encrypt('p@ss+word', key.publicKeyHex, { mode: 'C1C3C2', encoding: 'base64', with04: true });
  while (!ct.includes('+'));
  const mangled = new URLSearchParams(`password=${ct}`).get('password')!;
  t.ok(mangled.includes(' '), 'the query string parser turned + into a space');
  t.equal(sm2DecryptAny(mangled, key.privateKeyHex).plaintext.toString(), 'p@ss+word');
});

t.test('base64 ending in a + that became a space (a trailing space is not white space to drop)', async (t) => {
  let ct = '';
  do ct = sm2Encrypt('pw', key.publicKeyHex, { mode: 'C1C3C2', encoding: 'base64', with04: true });
  while (!ct.endsWith('+'));
  const mangled = new URLSearchParams(`password=${ct}&grant_type=password`).get('password')!;
  t.ok(mangled.endsWith(' '), 'arrives with a trailing space');
  t.equal(sm2DecryptAny(mangled, key.privateKeyHex).plaintext.toString(), 'pw');
});

t.test('base64 URL-encoded twice', async (t) => {
  let ct = '';
  do ct = sm2Encrypt('twice', key.publicKeyHex, { mode: 'C1C2C3', encoding: 'base64', with04: false });
  while (!/[+/=]/.test(ct));
  const onWire = encodeURIComponent(encodeURIComponent(ct));
  const afterFramework = new URLSearchParams(`password=${onWire}`).get('password')!;
  t.match(afterFramework, /%2[BbFf]|%3[Dd]/, 'still escaped after one decoding');
  const { plaintext, variant } = sm2DecryptAny(afterFramework, key.privateKeyHex);
  t.equal(plaintext.toString(), 'twice');
  t.equal(variant.mode, 'C1C2C3');
});

t.test('wrapped, armoured and padded text', async (t) => {
  const ct = sm2Encrypt('wrapped', key.publicKeyHex, { mode: 'DER', encoding: 'base64', with04: false });
  const lines = ct.match(/.{1,16}/g)!.join('\r\n');
  t.equal(sm2DecryptAny(`  ${lines}\n`, key.privateKeyHex).plaintext.toString(), 'wrapped');
  t.equal(sm2DecryptAny(`-----BEGIN SM2 CIPHERTEXT-----\n${lines}\n-----END SM2 CIPHERTEXT-----`, key.privateKeyHex).plaintext.toString(), 'wrapped');
  const hexCt = sm2Encrypt('upper', key.publicKeyHex, { mode: 'C1C3C2', encoding: 'hex', with04: true });
  t.equal(sm2DecryptAny(hexCt.toUpperCase(), key.privateKeyHex).plaintext.toString(), 'upper');
  t.same(normaliseCiphertextText(' ab cd '), ['+ab+cd+', 'ab+cd', 'abcd']);
  t.same(normaliseCiphertextText('ab%252Bcd'), ['ab+cd']);
});

t.test('sm-crypto ciphertext decrypts (its default C1C3C2, and mode 0 = C1C2C3)', async (t) => {
  const c1 = smCrypto.sm2.doEncrypt('from sm-crypto', key.publicKeyHex);
  const r1 = sm2DecryptAny(c1, key.privateKeyHex);
  t.equal(r1.plaintext.toString(), 'from sm-crypto');
  t.same(r1.variant, { mode: 'C1C3C2', encoding: 'hex', with04: false, keyIndex: 0 });
  const c0 = smCrypto.sm2.doEncrypt('from sm-crypto', key.publicKeyHex, 0);
  const r0 = sm2DecryptAny(c0, key.privateKeyHex);
  t.equal(r0.plaintext.toString(), 'from sm-crypto');
  t.equal(r0.variant.mode, 'C1C2C3');
  // hutool style: sm-crypto ciphertext with 04 and in base64
  const b64 = Buffer.from(`04${c1}`, 'hex').toString('base64');
  t.same(sm2DecryptAny(b64, key.privateKeyHex).variant, { mode: 'C1C3C2', encoding: 'base64', with04: true, keyIndex: 0 });
});

t.test('tampering is detected', async (t) => {
  const opts: Sm2EncryptOptions = { mode: 'C1C3C2', encoding: 'hex', with04: false };
  const raw = Buffer.from(sm2Encrypt('secret', key.publicKeyHex, opts), 'hex');
  const flip = (i: number) => {
    const altered = Buffer.from(raw);
    altered[i] = altered[i]! ^ 0x01;
    return altered.toString('hex');
  };
  const c3 = t.throws(() => sm2DecryptAny(flip(64), key.privateKeyHex), decryptError, 'C3 altered') as Error;
  t.match(c3.message, /C3/);
  t.throws(() => sm2DecryptAny(flip(raw.length - 1), key.privateKeyHex), decryptError, 'C2 altered');
  const c1 = t.throws(() => sm2DecryptAny(flip(63), key.privateKeyHex), decryptError, 'C1 moved off the curve') as Error;
  t.match(c1.message, /not SM2 ciphertext/);
  t.throws(() => sm2DecryptAny(raw.subarray(0, raw.length - 1).toString('hex'), key.privateKeyHex), decryptError, 'truncated');
  // sm-crypto answers the same tampering with an empty string, which must never pass as a password
  t.equal(smCrypto.sm2.doDecrypt(flip(64), key.privateKeyHex), '');
});

t.test('C1 at infinity or off the curve', async (t) => {
  const zeros = Buffer.concat([Buffer.alloc(64), Buffer.alloc(40, 1)]).toString('hex');
  t.throws(() => sm2DecryptAny(zeros, key.privateKeyHex), decryptError);
  t.throws(() => sm2DecryptAny(`04${zeros}`, key.privateKeyHex), decryptError);
  const ff = Buffer.concat([Buffer.alloc(64, 0xff), Buffer.alloc(40, 1)]).toString('hex');
  t.throws(() => sm2DecryptAny(ff, key.privateKeyHex), decryptError, 'coordinates ≥ p');
});

t.test('a ciphertext for another key', async (t) => {
  const ct = sm2Encrypt('not yours', other.publicKeyHex, { mode: 'C1C3C2', encoding: 'base64', with04: true });
  const err = t.throws(() => sm2DecryptAny(ct, key.privateKeyHex, { field: 'password' }), decryptError) as Error & { field?: string };
  t.equal(err.field, 'password');
  t.match(err.message, /^password: .*GET \/sm2/);
});

t.test('key ring: current first, then previous', async (t) => {
  const previous = other;
  const current = key;
  const ring = [current.privateKeyHex, previous.privateKeyHex];
  const old = sm2Encrypt('old client', previous.publicKeyHex, { mode: 'C1C3C2', encoding: 'hex', with04: false });
  const fresh = sm2Encrypt('new client', current.publicKeyHex, { mode: 'C1C3C2', encoding: 'hex', with04: false });
  t.same(sm2DecryptAny(old, ring).variant.keyIndex, 1);
  t.equal(sm2DecryptAny(old, ring).plaintext.toString(), 'old client');
  t.same(sm2DecryptAny(fresh, ring).variant.keyIndex, 0);
  t.throws(() => sm2DecryptAny(old, [current.privateKeyHex]), decryptError, 'without the previous key it fails');
});

t.test('empty plaintext is a result, not a failure', async (t) => {
  for (const opts of VARIANTS) {
    const ct = sm2Encrypt('', key.publicKeyHex, opts);
    const { plaintext } = sm2DecryptAny(ct, key.privateKeyHex);
    t.ok(Buffer.isBuffer(plaintext));
    t.equal(plaintext.length, 0, JSON.stringify(opts));
  }
  const fromSmCrypto = smCrypto.sm2.doEncrypt('', key.publicKeyHex);
  t.equal(sm2DecryptAny(fromSmCrypto, key.privateKeyHex).plaintext.length, 0);
  // The same empty ciphertext with a wrong C3 is an error, while sm-crypto returns "" for both.
  const wrong = fromSmCrypto.slice(0, 128) + 'f'.repeat(64);
  t.equal(smCrypto.sm2.doDecrypt(wrong, key.privateKeyHex), '');
  t.throws(() => sm2DecryptAny(wrong, key.privateKeyHex), decryptError);
});

t.test('inputs that are not ciphertext at all', async (t) => {
  for (const text of ['', '   ', 'not base64 !!!', '%%%', 'abc', '0'.repeat(SM2_MAX_CIPHERTEXT_TEXT + 2)]) {
    t.throws(() => sm2DecryptAny(text, key.privateKeyHex), decryptError, JSON.stringify(text.slice(0, 20)));
  }
  t.throws(() => sm2DecryptAny('00', []), { code: ESEAL_ERR_CRYPTO_KEY_FORMAT.code }, 'no keys');
  t.throws(() => sm2DecryptAny('00', 'zz'), { code: ESEAL_ERR_CRYPTO_KEY_FORMAT.code }, 'bad private key');
  t.throws(() => sm2DecryptAny('00', '0'), { code: ESEAL_ERR_CRYPTO_KEY_FORMAT.code }, 'private key 0');
});

t.test('property: random plaintext × random variant round-trips', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...VARIANTS), (bytes, opts) => {
      const message = Buffer.from(bytes);
      const { plaintext, variant } = sm2DecryptAny(sm2Encrypt(message, key.publicKeyHex, opts), [other.privateKeyHex, key.privateKeyHex]);
      // With no C2 bytes, C1C3C2 and C1C2C3 are the same bytes: either answer is right.
      const sameMode = variant.mode === opts.mode || (message.length === 0 && opts.mode !== 'DER' && variant.mode !== 'DER');
      return plaintext.equals(message) && sameMode && variant.encoding === opts.encoding && variant.keyIndex === 1;
    }),
    { numRuns: 150 },
  );
  t.pass();
});

t.test('property: garbage never decrypts and always throws the typed error', async (t) => {
  // A valid C1 makes the garbage reach the C3 check instead of failing early.
  const validC1 = Buffer.from(sm2Encrypt('', key.publicKeyHex, { mode: 'C1C3C2', encoding: 'hex', with04: true }), 'hex').subarray(0, 65);
  const garbage = fc.oneof(
    fc.string({ maxLength: 400 }),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 400 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')),
    fc.uint8Array({ minLength: 32, maxLength: 200 }).map((b) => Buffer.concat([validC1, b]).toString('hex')),
    fc.uint8Array({ minLength: 32, maxLength: 200 }).map((b) => Buffer.concat([validC1.subarray(1), b]).toString('base64')),
    fc.uint8Array({ minLength: 32, maxLength: 200 }).map((b) => `30${Buffer.from(b).toString('hex')}`),
  );
  fc.assert(
    fc.property(garbage, (text) => {
      try {
        sm2DecryptAny(text, [key.privateKeyHex, other.privateKeyHex]);
        return false;
      } catch (err) {
        return ESEAL_ERR_CRYPTO_DECRYPT.is(err);
      }
    }),
    { numRuns: 600 },
  );
  t.pass();
});
