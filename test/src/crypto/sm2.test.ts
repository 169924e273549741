// The SM2 cipher itself (src/crypto/sm2.ts): keys, encryption, decryption of a ciphertext split into
// its parts. The variants clients send are read in sm2ClientVariants.test.ts.
import t from 'tap';
import fc from 'fast-check';
import smCrypto from 'sm-crypto';
import {
  generateSm2KeyPair,
  multiplyPoint,
  SM2_G,
  SM2_C3_BYTES,
  sm2Decrypter,
  sm2Encrypt,
  sm2PointFromXY,
  type Sm2CiphertextParts,
  type Sm2EncryptOptions,
} from '../../../src/crypto/sm2.ts';

const key = generateSm2KeyPair();
const other = generateSm2KeyPair();
const C1C3C2: Sm2EncryptOptions = { mode: 'C1C3C2', encoding: 'hex', with04: false };

/** The parts of a C1C3C2 ciphertext without 04, split by hand. */
function partsOf(ciphertextHex: string): Sm2CiphertextParts {
  const raw = Buffer.from(ciphertextHex, 'hex');
  const c1 = sm2PointFromXY(raw.subarray(0, 64));
  if (c1 === null) throw new Error('C1 is not on the curve');
  return { c1, c3: raw.subarray(64, 64 + SM2_C3_BYTES), c2: raw.subarray(64 + SM2_C3_BYTES) };
}

t.test('generated keys are well-formed and random', async (t) => {
  t.match(key.privateKeyHex, /^[0-9a-f]{64}$/);
  t.match(key.publicKeyHex, /^04[0-9a-f]{128}$/);
  t.equal(smCrypto.sm2.getPublicKeyFromPrivateKey(key.privateKeyHex), key.publicKeyHex, 'public key = [d]G (sm-crypto agrees)');
  t.ok(smCrypto.sm2.verifyPublicKey(key.publicKeyHex));
  t.not(key.privateKeyHex, other.privateKeyHex);
});

t.test('a fresh C1 every time', async (t) => {
  const opts: Sm2EncryptOptions = { mode: 'C1C3C2', encoding: 'hex', with04: false };
  t.not(sm2Encrypt('same', key.publicKeyHex, opts), sm2Encrypt('same', key.publicKeyHex, opts));
});

t.test('sm-crypto decrypts what sm2Encrypt makes', async (t) => {
  const ct = sm2Encrypt('to sm-crypto', key.publicKeyHex, { mode: 'C1C3C2', encoding: 'hex', with04: false });
  t.equal(smCrypto.sm2.doDecrypt(ct, key.privateKeyHex), 'to sm-crypto');
  const ct0 = sm2Encrypt('to sm-crypto', key.publicKeyHex, { mode: 'C1C2C3', encoding: 'hex', with04: false });
  t.equal(smCrypto.sm2.doDecrypt(ct0, key.privateKeyHex, 0), 'to sm-crypto');
  // a long message spans several KDF blocks
  const long = 'x'.repeat(100) + '尾';
  t.equal(smCrypto.sm2.doDecrypt(sm2Encrypt(long, key.publicKeyHex, { mode: 'C1C3C2', encoding: 'hex', with04: false }), key.privateKeyHex), long);
});

t.test('the decrypter opens the parts with the right key, and gives null otherwise', async (t) => {
  const parts = partsOf(sm2Encrypt('密码', key.publicKeyHex, C1C3C2));
  t.equal(sm2Decrypter(key.privateKeyHex)(parts)?.toString('utf8'), '密码');
  t.equal(sm2Decrypter(other.privateKeyHex)(parts), null, 'another key');
  const alteredC3 = Buffer.from(parts.c3);
  alteredC3[0] = alteredC3[0]! ^ 1;
  t.equal(sm2Decrypter(key.privateKeyHex)({ ...parts, c3: alteredC3 }), null, 'C3 altered');
  t.equal(sm2Decrypter(key.privateKeyHex)({ ...parts, c3: parts.c3.subarray(1) }), null, 'C3 too short');
  t.equal(sm2Decrypter(key.privateKeyHex)({ ...parts, c1: { x: parts.c1.x, y: parts.c1.y + 1n } }), null, 'C1 off the curve');
  const empty = sm2Decrypter(key.privateKeyHex)(partsOf(sm2Encrypt('', key.publicKeyHex, C1C3C2)));
  t.ok(Buffer.isBuffer(empty) && empty.length === 0, 'an empty plaintext is a Buffer, not null');
  t.throws(() => sm2Decrypter('zz'), { code: 'ESEAL_ERR_CRYPTO_KEY_FORMAT' }, 'the key is checked at once');
});

t.test('C1 from x‖y: on the curve, not (0, 0), coordinates below p', async (t) => {
  const raw = Buffer.from(sm2Encrypt('', key.publicKeyHex, C1C3C2), 'hex');
  t.ok(sm2PointFromXY(raw.subarray(0, 64)));
  t.equal(sm2PointFromXY(Buffer.alloc(64)), null, 'infinity written as (0, 0)');
  t.equal(sm2PointFromXY(Buffer.alloc(64, 0xff)), null, 'coordinates ≥ p');
  t.equal(sm2PointFromXY(raw.subarray(0, 63)), null, 'short');
  const moved = Buffer.from(raw.subarray(0, 64));
  moved[63] = moved[63]! ^ 1;
  t.equal(sm2PointFromXY(moved), null, 'off the curve');
});

t.test('sm-crypto ciphertext opens with the decrypter', async (t) => {
  t.equal(sm2Decrypter(key.privateKeyHex)(partsOf(smCrypto.sm2.doEncrypt('from sm-crypto', key.publicKeyHex)))?.toString(), 'from sm-crypto');
});

t.test('property: encrypt then decrypt the parts gives the plaintext back', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const message = Buffer.from(bytes);
      return sm2Decrypter(key.privateKeyHex)(partsOf(sm2Encrypt(message, key.publicKeyHex, C1C3C2)))?.equals(message) === true;
    }),
    { numRuns: 100 },
  );
  t.pass();
});

t.test('the BigInt scalar product (used where OpenSSL refuses ECDH on SM2) agrees with OpenSSL', async (t) => {
  for (let i = 0; i < 12; i++) {
    const { privateKeyHex, publicKeyHex } = generateSm2KeyPair();
    const d = BigInt(`0x${privateKeyHex}`);
    const p = multiplyPoint(d, SM2_G);
    t.equal(`04${p.x.toString(16).padStart(64, '0')}${p.y.toString(16).padStart(64, '0')}`, publicKeyHex, `[d]G, key ${i}`);
  }
  // [a]([b]G) = [b]([a]G) = [ab mod n]G
  const a = 0x1234567890abcdefn;
  const b = 0xfedcba0987654321n;
  const ab = multiplyPoint(a, multiplyPoint(b, SM2_G));
  t.same(multiplyPoint(b, multiplyPoint(a, SM2_G)), ab);
  t.same(multiplyPoint((a * b) % 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n, SM2_G), ab);
  t.same(multiplyPoint(1n, SM2_G), SM2_G);
});
