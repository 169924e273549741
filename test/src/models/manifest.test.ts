import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual, promisify } from 'node:util';
import fc from 'fast-check';
import smCrypto from 'sm-crypto';
import t from 'tap';
import { generateSm2KeyPair, publicKeyToPem, publicKeyToSpkiBase64 } from '../../../src/crypto/sm2.ts';
import { ManifestBadSignature, ManifestMalformed, ManifestUnsigned, ManifestWrongKey } from '../../../src/models/errors.ts';
import {
  MANIFEST_FORMAT,
  canonicalJson,
  parseManifest,
  signManifest,
  signedBytes,
  verifyManifest,
  type UnsignedManifest,
} from '../../../src/models/manifest.ts';
import { tempDir } from '../../helpers/relay.ts';

const SM3_A = 'a'.repeat(64);
const SM3_B = '0123456789abcdef'.repeat(4);

function body(): UnsignedManifest {
  return {
    format: MANIFEST_FORMAT,
    issuedAt: '2025-01-31T08:00:00.000Z',
    publisher: 'eseal-relay@test 省',
    models: [
      {
        name: 'default',
        version: '2025.01.31',
        file: `${SM3_A}.onnx`,
        bytes: 1234,
        sm3: SM3_A,
        inputSize: 512,
        layout: 'nchw',
        decoder: 'centernet',
        classes: { '0': 'person', '2': 'vehicle' },
        normalisation: { mean: [0, 0, 0], std: [255, 255, 255] },
      },
      {
        name: 'night',
        version: '1',
        file: `${SM3_B}.onnx`,
        bytes: 99,
        sm3: SM3_B,
        inputSize: 320,
        layout: 'nhwc',
        decoder: 'boxes',
        classes: { '1': 'vehicle' },
        normalisation: { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] },
      },
    ],
  };
}

const province = generateSm2KeyPair();
const stranger = generateSm2KeyPair();

/** every leaf path of a JSON value, e.g. ['models', 0, 'classes', '2'] */
function leaves(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof v !== 'object' || v === null) return [path];
  return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, Array.isArray(v) ? Number(k) : k]));
}

function tampered(v: unknown): unknown {
  if (typeof v === 'string') return v.length ? (v[0] === 'a' ? 'b' : 'a') + v.slice(1) : 'x';
  if (typeof v === 'number') return v + 1;
  return 'x';
}

function setAt(obj: unknown, path: (string | number)[], value: unknown): void {
  let o = obj as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1]!] = value;
}

t.test('sign and verify round trip, through JSON text and any key form', async (t) => {
  const signed = signManifest(body(), province.privateKeyHex);
  t.equal(signed.signature.algorithm, 'SM2-with-SM3');
  t.equal(signed.signature.publicKey, province.publicKeyHex);
  t.match(signed.signature.value, /^30[0-9a-f]+$/, 'DER signature');
  const text = JSON.stringify(signed, null, 2);
  const back = verifyManifest(JSON.parse(text), province.publicKeyHex);
  t.same(back.models, body().models);
  t.same(verifyManifest(JSON.parse(text), publicKeyToSpkiBase64(province.publicKeyHex)).issuedAt, body().issuedAt, 'SPKI form of the trusted key');
  t.same(parseManifest(text).signature, signed.signature);
  // key order of the JSON text does not matter: the signature covers the canonical form
  const reordered = JSON.parse(JSON.stringify({ signature: signed.signature, models: signed.models.map((m) => Object.fromEntries(Object.entries(m).reverse())), publisher: signed.publisher, issuedAt: signed.issuedAt, format: signed.format }));
  t.ok(verifyManifest(reordered, province.publicKeyHex));
  // unknown members are allowed and covered by the signature
  const extended = signManifest({ ...body(), notes: 'winter model' } as UnsignedManifest, province.privateKeyHex);
  t.ok(verifyManifest(JSON.parse(JSON.stringify(extended)), province.publicKeyHex));
  t.throws(() => verifyManifest({ ...JSON.parse(JSON.stringify(extended)), notes: 'summer' }, province.publicKeyHex), { code: ManifestBadSignature.code });
});

t.test('tampering any field of a signed manifest is refused', async (t) => {
  const signed = JSON.parse(JSON.stringify(signManifest(body(), province.privateKeyHex))) as Record<string, unknown>;
  const paths = leaves(signed).filter((p) => p[0] !== 'signature');
  t.ok(paths.length > 25, `${paths.length} fields`);
  for (const path of paths) {
    const copy = structuredClone(signed);
    let old: unknown = copy;
    for (const k of path) old = (old as Record<string | number, unknown>)[k];
    setAt(copy, path, tampered(old));
    t.throws(() => verifyManifest(copy, province.publicKeyHex), { code: ManifestBadSignature.code }, `${path.join('.')} changed`);
  }
  // a model dropped, a model added
  const fewer = structuredClone(signed);
  (fewer['models'] as unknown[]).pop();
  t.throws(() => verifyManifest(fewer, province.publicKeyHex), { code: ManifestBadSignature.code });
  const sigFlip = structuredClone(signed) as { signature: { value: string } };
  const v = sigFlip.signature.value;
  sigFlip.signature.value = v.slice(0, -2) + (v.endsWith('00') ? '01' : '00');
  t.throws(() => verifyManifest(sigFlip, province.publicKeyHex), { code: ManifestBadSignature.code }, 'signature bytes changed');
});

t.test('unsigned, wrong key, and a signature by another key under the trusted key are refused', async (t) => {
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e as { code: string; field?: string; message: string };
    }
    throw new Error('did not throw');
  };
  const unsigned = err(() => verifyManifest(body(), province.publicKeyHex));
  t.equal(unsigned.code, ManifestUnsigned.code);
  t.equal(unsigned.field, 'signature');
  const foreign = signManifest(body(), stranger.privateKeyHex);
  const wrong = err(() => verifyManifest(foreign, province.publicKeyHex));
  t.equal(wrong.code, ManifestWrongKey.code);
  t.match(wrong.message, /eseal models key/);
  // an attacker copies the trusted public key into their own signature
  const forged = { ...foreign, signature: { ...foreign.signature, publicKey: province.publicKeyHex } };
  t.equal(err(() => verifyManifest(forged, province.publicKeyHex)).code, ManifestBadSignature.code);
  t.equal(err(() => verifyManifest({ ...foreign, signature: { ...foreign.signature, algorithm: 'RSA' } }, stranger.publicKeyHex)).field, 'signature.algorithm');
  t.equal(err(() => verifyManifest('nope', province.publicKeyHex)).code, ManifestMalformed.code);
});

t.test('malformed fields are named by their path', async (t) => {
  const cases: [(b: Record<string, any>) => void, string][] = [
    [(b) => (b['format'] = 'eseal-models/2'), 'format'],
    [(b) => (b['issuedAt'] = 'yesterday'), 'issuedAt'],
    [(b) => (b['models'][1]['bytes'] = -1), 'models[1].bytes'],
    [(b) => (b['models'][0]['file'] = 'model.onnx'), 'models[0].file'],
    [(b) => (b['models'][0]['sm3'] = 'ABC'), 'models[0].sm3'],
    [(b) => (b['models'][0]['decoder'] = 'yolo'), 'models[0].decoder'],
    [(b) => (b['models'][0]['classes'] = { '0': 'cat' }), 'models[0].classes.0'],
    [(b) => (b['models'][0]['normalisation']['std'] = [1, 0, 1]), 'models[0].normalisation.std'],
    [(b) => (b['models'][1]['name'] = 'default'), 'models[1].name'],
    [(b) => (b['models'][0]['name'] = 'has space'), 'models[0].name'],
  ];
  for (const [spoil, field] of cases) {
    const b = structuredClone(body()) as unknown as Record<string, any>;
    spoil(b);
    // signed as is (bypassing signManifest's own check): the signature holds, the field does not
    const value = smCrypto.sm2.doSignature(signedBytes(b), province.privateKeyHex, { hash: true, der: true, publicKey: province.publicKeyHex });
    const m = { ...b, signature: { algorithm: 'SM2-with-SM3', publicKey: province.publicKeyHex, value } };
    t.throws(() => verifyManifest(m, province.publicKeyHex), { code: ManifestMalformed.code, field }, field);
    t.throws(() => parseManifest(JSON.stringify(b)), { code: ManifestMalformed.code, field });
    t.throws(() => signManifest(b as unknown as UnsignedManifest, province.privateKeyHex), { code: ManifestMalformed.code, field });
  }
  t.throws(() => parseManifest('{"format":'), { code: ManifestMalformed.code, field: 'manifest' });
});

t.test('every malformed field at once, each with its path and rule', async (t) => {
  const b = structuredClone(body()) as unknown as Record<string, any>;
  b['models'][0]['inputSize'] = 8;
  b['models'][1]['layout'] = 'chw';
  b['models'][1]['classes'] = {};
  try {
    parseManifest(JSON.stringify(b));
    t.fail('accepted');
  } catch (err) {
    t.match(err, { code: ManifestMalformed.code, field: 'models[0].inputSize' });
    t.equal(
      (err as Error).message,
      'model manifest: models[0].inputSize: must be between 16 and 4096, got 8; models[1].layout: must be one of nchw, nhwc, got "chw"; ' +
        'models[1].classes: at least 1 key (class ids 0 to 9999, each mapped to person or vehicle), got 0',
    );
  }
});

// values that survive JSON text unchanged (so no -0, which JSON cannot carry)
const jsonValue = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);

function shuffleKeys(v: unknown, rnd: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, rnd));
  if (typeof v !== 'object' || v === null) return v;
  const entries = Object.entries(v);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return Object.fromEntries(entries.map(([k, x]) => [k, shuffleKeys(x, rnd)]));
}

t.test('canonical JSON: stable under key order, valid JSON of the same value, no whitespace of its own', async (t) => {
  fc.assert(
    fc.property(jsonValue, fc.integer(), (v, seed) => {
      let s = seed;
      const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
      const c = canonicalJson(v);
      if (canonicalJson(shuffleKeys(v, rnd)) !== c) return false;
      if (canonicalJson(JSON.parse(c)) !== c) return false;
      if (!isDeepStrictEqual(JSON.parse(c), v)) return false;
      // no whitespace of its own: as long as JSON.stringify's compact text (keys in another order)
      return c.length === JSON.stringify(v).length;
    }),
    { numRuns: 300 },
  );
  t.equal(canonicalJson({ b: [1, { d: 'x', c: null }], a: true, é: 1.5, A: -2 }), '{"A":-2,"a":true,"b":[1,{"c":null,"d":"x"}],"é":1.5}');
  // integer-like keys are sorted as text too (JavaScript enumerates them first)
  t.equal(canonicalJson({ b: 1, '10': 2, '': 3, '9': 4 }), '{"":3,"10":2,"9":4,"b":1}');
  t.throws(() => canonicalJson({ a: NaN }));
  t.throws(() => canonicalJson(1n));
});

t.test('a signature still verifies after any reordering of the manifest keys', async (t) => {
  const signed = signManifest(body(), province.privateKeyHex);
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      let s = seed;
      const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
      return verifyManifest(JSON.parse(JSON.stringify(shuffleKeys(signed, rnd))), province.publicKeyHex).models.length === 2;
    }),
    { numRuns: 15 },
  );
  t.pass();
});

t.test('openssl verifies the signature (SM2, SM3, default distid)', async (t) => {
  const run = promisify(execFile);
  const version = await run('openssl', ['version']).catch(() => undefined);
  if (!version || !/OpenSSL 3\./.test(version.stdout)) {
    t.pass('skipped: no OpenSSL 3 CLI here');
    return;
  }
  const dir = await tempDir(t);
  const signed = signManifest(body(), province.privateKeyHex);
  await writeFile(join(dir, 'body.json'), signedBytes(signed));
  await writeFile(join(dir, 'sig.der'), Buffer.from(signed.signature.value, 'hex'));
  await writeFile(join(dir, 'pub.pem'), publicKeyToPem(province.publicKeyHex));
  const args = ['dgst', '-sm3', '-verify', join(dir, 'pub.pem'), '-sigopt', 'distid:1234567812345678', '-signature', join(dir, 'sig.der'), join(dir, 'body.json')];
  const ok = await run('openssl', args);
  t.match(ok.stdout, /Verified OK/);
  await writeFile(join(dir, 'body.json'), Buffer.concat([signedBytes(signed), Buffer.from(' ')]));
  await t.rejects(run('openssl', args), 'a changed body does not verify');
});
