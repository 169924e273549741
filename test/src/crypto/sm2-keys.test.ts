import t from 'tap';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import smCrypto from 'sm-crypto';
import {
  generateSm2KeyPair,
  impliedEncryptOptions,
  parsePrivateKey,
  parsePublicKey,
  privateKeyToPkcs8Pem,
  publicKeyFromPrivateKey,
  publicKeyToPem,
  publicKeyToSpkiBase64,
  publicKeyToSpkiDer,
} from '../../../src/crypto/sm2.ts';
import { ESEAL_ERR_CRYPTO_KEY_FORMAT } from '../../../src/crypto/errors.ts';
import { derBitString, derExplicit, derInteger, derOctetString, derOid, derSequence, derToPem } from '../../../src/crypto/asn1.ts';

const keyError = { code: ESEAL_ERR_CRYPTO_KEY_FORMAT.code };
const key = generateSm2KeyPair();

t.test('public key: hex → SPKI → hex', async (t) => {
  const spki = publicKeyToSpkiBase64(key.publicKeyHex);
  t.match(spki, /^MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE/, 'id-ecPublicKey + SM2 curve prefix, as hutool writes it');
  t.equal(parsePublicKey(spki), key.publicKeyHex);
  t.equal(parsePublicKey(publicKeyToPem(key.publicKeyHex)), key.publicKeyHex);
  t.equal(parsePublicKey(key.publicKeyHex.slice(2)), key.publicKeyHex, 'hex without 04');
  t.equal(parsePublicKey(key.publicKeyHex.toUpperCase()), key.publicKeyHex);
  t.equal(parsePublicKey(smCrypto.sm2.compressPublicKeyHex(key.publicKeyHex)), key.publicKeyHex, 'compressed');
  t.equal(parsePublicKey(Buffer.from(key.publicKeyHex, 'hex').toString('base64')), key.publicKeyHex, 'base64 of the raw point');
  t.equal(parsePublicKey(`\n ${spki.match(/.{1,20}/g)!.join('\n')} \n`), key.publicKeyHex, 'wrapped base64');
});

t.test('SPKI loads in Node crypto', async (t) => {
  const der = publicKeyToSpkiDer(key.publicKeyHex);
  const keyObject = createPublicKey({ key: der, format: 'der', type: 'spki' });
  t.equal(keyObject.type, 'public');
  t.same(keyObject.export({ type: 'spki', format: 'der' }), der, 'Node re-exports the same bytes');
  t.ok(createPublicKey(publicKeyToPem(key.publicKeyHex)));
});

t.test('private key: PKCS#8 PEM round trip', async (t) => {
  const pem = privateKeyToPkcs8Pem(key.privateKeyHex);
  t.match(pem, /^-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg/);
  t.same(parsePrivateKey(pem), key);
  const keyObject = createPrivateKey(pem);
  t.equal(keyObject.type, 'private', 'Node loads it');
  t.same(createPublicKey(keyObject).export({ type: 'spki', format: 'der' }), publicKeyToSpkiDer(key.publicKeyHex), 'and derives the same public key');
  t.same(parsePrivateKey(key.privateKeyHex), key, 'bare hex');
  t.equal(publicKeyFromPrivateKey(key.privateKeyHex), key.publicKeyHex);
});

t.test('SEC1 "EC PRIVATE KEY" PEM', async (t) => {
  // Built by hand: Node 20 aborts when exporting an SM2 KeyObject as SEC1.
  const ecPrivateKey = derSequence(
    derInteger(1),
    derOctetString(Buffer.from(key.privateKeyHex, 'hex')),
    derExplicit(0, derOid('1.2.156.10197.1.301')),
    derExplicit(1, derBitString(Buffer.from(key.publicKeyHex, 'hex'))),
  );
  t.same(parsePrivateKey(derToPem(ecPrivateKey, 'EC PRIVATE KEY')), key);
  t.same(parsePrivateKey(derToPem(ecPrivateKey, 'SM2 PRIVATE KEY')), key, 'the label openssl ec writes');
  const noCurve = derSequence(derInteger(1), derOctetString(Buffer.from(key.privateKeyHex, 'hex')));
  t.throws(() => parsePrivateKey(derToPem(noCurve, 'EC PRIVATE KEY')), keyError, 'SEC1 without a curve');
});

t.test('keys that are not SM2 keys are refused', async (t) => {
  const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const p256Spki = p256.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  t.throws(() => parsePublicKey(p256Spki), keyError, 'P-256 public key');
  t.throws(() => parsePrivateKey(p256.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), keyError, 'P-256 private key');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  t.throws(() => parsePublicKey(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString()), keyError, 'RSA-1024 (the guide example)');
  const offCurve = `04${'11'.repeat(64)}`;
  t.throws(() => parsePublicKey(offCurve), keyError, 'point off the curve');
  t.throws(() => parsePublicKey(`04${'00'.repeat(64)}`), keyError, 'point at infinity');
  t.throws(() => parsePublicKey('hello'), keyError);
  t.throws(() => parsePublicKey(key.publicKeyHex.slice(0, 100)), keyError, 'truncated hex');
  t.throws(() => parsePublicKey(publicKeyToSpkiBase64(key.publicKeyHex).slice(0, 60)), keyError, 'truncated SPKI');
  t.throws(() => parsePrivateKey('f'.repeat(64)), keyError, 'private key ≥ n');
  t.throws(() => parsePrivateKey('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----'), keyError);
  // a PKCS#8 whose embedded public key belongs to another private key
  const mixed = privateKeyToPkcs8Pem(key.privateKeyHex);
  const other = generateSm2KeyPair();
  const der = Buffer.from(mixed.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const pubAt = der.indexOf(Buffer.from(key.publicKeyHex, 'hex'));
  Buffer.from(other.publicKeyHex, 'hex').copy(der, pubAt);
  const forged = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
  t.throws(() => parsePrivateKey(forged), keyError, 'embedded public key mismatch');
});

t.test('the encryption format a peer’s key implies', async (t) => {
  t.same(impliedEncryptOptions(key.publicKeyHex), { mode: 'C1C3C2', encoding: 'hex', with04: false });
  t.same(impliedEncryptOptions(publicKeyToSpkiBase64(key.publicKeyHex)), { mode: 'C1C3C2', encoding: 'base64', with04: true });
  t.throws(() => impliedEncryptOptions('nonsense'), keyError);
});
