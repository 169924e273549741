// Cross-checks against the openssl CLI (3.x), which speaks GM/T 0009 DER ciphertext and PKCS#8 /
// SPKI SM2 keys. Skipped, with the reason logged, where the local openssl cannot do SM2.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateSm2KeyPair,
  parsePrivateKey,
  parsePublicKey,
  privateKeyToPkcs8Pem,
  publicKeyToPem,
  publicKeyToSpkiDer,
  sm2Encrypt,
} from '../../../src/crypto/sm2.ts';
import { sm2DecryptAny } from '../../../src/crypto/sm2ClientVariants.ts';

function openssl(args: string[], input?: Buffer | string): { ok: boolean; stdout: Buffer; stderr: string } {
  const r = spawnSync('openssl', args, { input, maxBuffer: 1 << 20 });
  return { ok: r.status === 0, stdout: r.stdout ?? Buffer.alloc(0), stderr: `${r.error?.message ?? ''}${r.stderr?.toString() ?? ''}` };
}

const dir = t.testdir({});
const key = generateSm2KeyPair();
const pubPath = join(dir, 'pub.pem');
const keyPath = join(dir, 'key.pem');
writeFileSync(pubPath, publicKeyToPem(key.publicKeyHex));
writeFileSync(keyPath, privateKeyToPkcs8Pem(key.privateKeyHex), { mode: 0o600 });

function sm2Support(): string | null {
  const version = openssl(['version']);
  if (!version.ok) return `no openssl CLI (${version.stderr.trim()})`;
  const probeKey = openssl(['genpkey', '-algorithm', 'SM2']);
  if (!probeKey.ok) return `${version.stdout.toString().trim()} cannot make SM2 keys: ${probeKey.stderr.trim()}`;
  writeFileSync(join(dir, 'probe.pem'), probeKey.stdout);
  const probe = openssl(['pkeyutl', '-encrypt', '-inkey', join(dir, 'probe.pem'), '-in', '-'], 'probe');
  if (!probe.ok) return `${version.stdout.toString().trim()} cannot SM2-encrypt: ${probe.stderr.trim()}`;
  return null;
}

const unsupported = sm2Support();
if (unsupported !== null) t.comment(`skipping openssl SM2 cross-checks: ${unsupported}`);
const skip = unsupported ?? false;

t.test('openssl reads our SPKI public key', { skip }, async (t) => {
  const der = openssl(['pkey', '-pubin', '-in', pubPath, '-outform', 'DER']);
  t.ok(der.ok, der.stderr);
  t.same(der.stdout, publicKeyToSpkiDer(key.publicKeyHex), 'openssl re-encodes the same bytes');
  const text = openssl(['pkey', '-pubin', '-in', pubPath, '-text', '-noout']);
  t.match(text.stdout.toString(), /ASN1 OID: SM2/);
});

t.test('openssl reads our PKCS#8 private key', { skip }, async (t) => {
  const pub = openssl(['pkey', '-in', keyPath, '-pubout']);
  t.ok(pub.ok, pub.stderr);
  t.equal(parsePublicKey(pub.stdout.toString()), key.publicKeyHex);
  const text = openssl(['pkey', '-in', keyPath, '-text', '-noout']);
  t.match(text.stdout.toString().replace(/[\s:]/g, ''), key.privateKeyHex, 'same private scalar');
});

t.test('we read openssl’s SM2 keys (PKCS#8 and SEC1)', { skip }, async (t) => {
  const made = openssl(['genpkey', '-algorithm', 'SM2']);
  t.ok(made.ok, made.stderr);
  const pair = parsePrivateKey(made.stdout.toString());
  const pub = openssl(['pkey', '-pubout'], made.stdout);
  t.equal(parsePublicKey(pub.stdout.toString()), pair.publicKeyHex);
  const sec1 = openssl(['ec'], made.stdout);
  t.ok(sec1.ok, sec1.stderr);
  t.same(parsePrivateKey(sec1.stdout.toString()), pair);
});

t.test('ciphertext from openssl pkeyutl -encrypt decrypts (DER)', { skip }, async (t) => {
  for (const message of ['a', 'password123', '电子封条密码', 'x'.repeat(300)]) {
    const ct = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', pubPath, '-in', '-'], message);
    t.ok(ct.ok, ct.stderr);
    t.equal(ct.stdout[0], 0x30, 'GM/T 0009 SEQUENCE');
    for (const encoding of ['base64', 'hex'] as const) {
      const { plaintext, variant } = sm2DecryptAny(ct.stdout.toString(encoding), key.privateKeyHex);
      t.equal(plaintext.toString('utf8'), message);
      t.same(variant, { mode: 'DER', encoding, with04: false, keyIndex: 0 });
    }
  }
});

t.test('openssl pkeyutl -decrypt reads what sm2Encrypt makes in DER mode', { skip }, async (t) => {
  for (const message of ['b', 'p@ss+word/=', '煤矿', 'y'.repeat(257)]) {
    for (const encoding of ['base64', 'hex'] as const) {
      const ct = sm2Encrypt(message, key.publicKeyHex, { mode: 'DER', encoding, with04: false });
      const ctPath = join(dir, 'ct.der');
      writeFileSync(ctPath, Buffer.from(ct, encoding));
      const plain = openssl(['pkeyutl', '-decrypt', '-inkey', keyPath, '-in', ctPath]);
      t.ok(plain.ok, plain.stderr);
      t.equal(plain.stdout.toString('utf8'), message);
    }
  }
  t.ok(readFileSync(keyPath, 'utf8').startsWith('-----BEGIN PRIVATE KEY-----'));
});
