// SM2 public-key encryption (GM/T 0003.4) and the key encodings integrators use. Reading the
// ciphertext variants clients send (encodings, layouts, mangling in transit) is sm2ClientVariants.ts.
//
// Curve arithmetic: Node's OpenSSL knows the SM2 curve (`crypto.getCurves()` lists "SM2"), and its
// ECDH gives x([k]P) natively, about twenty times faster than sm-crypto's jsbn arithmetic. SM2 also
// needs y([k]P); we get it from a second native product, x([k+1]P) = x([k]P + P), which fixes y by the
// chord rule with one modular inverse (see `recoverY`). The KDF and the C3 check are ours (SM3 over
// Node's OpenSSL), so a failed check is told apart from an empty plaintext.
//
// OpenSSL 3.5 (Node 24 and later) no longer derives ECDH secrets with SM2 keys. Where the native
// product is refused, [k]Q is computed here in Jacobian coordinates with BigInt (a few ms per login,
// which is rare: one per token), so the relay runs on every Node the bundle may carry.

import { createECDH, randomBytes, timingSafeEqual, type ECDH } from 'node:crypto';
import {
  decodeDer,
  derBitString,
  derExplicit,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  derToPem,
  derUnsignedInteger,
  expectTag,
  isTag,
  pemToDer,
  readBitString,
  readInteger,
  readOctetString,
  readOid,
  readSequence,
  type Asn1Node,
} from './asn1.ts';
import { ESEAL_ERR_CRYPTO_ASN1, ESEAL_ERR_CRYPTO_KEY_FORMAT } from './errors.ts';
import type { EsealErrorOptions } from '../errors.ts';
import { createSm3, sm3 } from './sm3.ts';

// GM/T 0003.5 recommended curve parameters.
const P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
const A = 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn;
const B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;
const N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;

export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_SM2_CURVE = '1.2.156.10197.1.301';

const FIELD_BYTES = 32;
/** length of C3, the SM3 hash that vouches for the plaintext */
export const SM2_C3_BYTES = 32;

export interface Sm2KeyPair {
  privateKeyHex: string;
  /** uncompressed 04‖x‖y, 130 hex characters */
  publicKeyHex: string;
}

export type Sm2CipherMode = 'C1C3C2' | 'C1C2C3' | 'DER';
export type Sm2CipherEncoding = 'hex' | 'base64';

export interface Sm2EncryptOptions {
  mode: Sm2CipherMode;
  encoding: Sm2CipherEncoding;
  /** whether C1 keeps its 0x04 prefix (ignored for DER, whose C1 is two INTEGERs) */
  with04: boolean;
}

/** An affine point; the ones this module hands out are on the SM2 curve. */
export interface Sm2Point {
  readonly x: bigint;
  readonly y: bigint;
}

// ---------------------------------------------------------------------------------------------
// Field and curve helpers (public values only, except the shared point in recoverY)

function mod(a: bigint, m: bigint = P): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function modPow(base: bigint, exponent: bigint, m: bigint = P): bigint {
  let result = 1n;
  let b = mod(base, m);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if ((e & 1n) === 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

function modInverse(a: bigint): bigint {
  return modPow(a, P - 2n);
}

function curveRhs(x: bigint): bigint {
  return mod(x * x * x + A * x + B);
}

function isOnCurve(pt: Sm2Point): boolean {
  return pt.x >= 0n && pt.x < P && pt.y >= 0n && pt.y < P && mod(pt.y * pt.y) === curveRhs(pt.x);
}

function toBytes32(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(2 * FIELD_BYTES, '0'), 'hex');
}

function toBigint(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function encodePoint(pt: Sm2Point): Buffer {
  return Buffer.concat([Buffer.from([4]), toBytes32(pt.x), toBytes32(pt.y)]);
}

function pointHex(pt: Sm2Point): string {
  return encodePoint(pt).toString('hex');
}

/** y for x on the curve, with the parity asked for; null when x is not on the curve. */
function liftX(x: bigint, odd: boolean): Sm2Point | null {
  if (x < 0n || x >= P) return null;
  const rhs = curveRhs(x);
  const y = modPow(rhs, (P + 1n) / 4n); // P ≡ 3 (mod 4)
  if (mod(y * y) !== rhs) return null;
  return { x, y: ((y & 1n) === 1n) === odd ? y : mod(-y) };
}

/**
 * y of R = [k]Q from x(R) and x(R + Q): with λ = (yR − yQ)/(xR − xQ) the chord rule gives
 * λ² = x(R+Q) + xR + xQ, and squaring λ(xR − xQ) = yR − yQ with yR² = xR³ + a·xR + b leaves
 * yR = (xR³ + a·xR + b + yQ² − λ²(xR − xQ)²) / (2·yQ). No square root, one inverse.
 */
function recoverY(xR: bigint, xRplusQ: bigint, q: Sm2Point): Sm2Point {
  const dx = mod(xR - q.x);
  if (dx === 0n || q.y === 0n) throw new Error('SM2: degenerate scalar product');
  const lambda2 = mod(xRplusQ + xR + q.x);
  const y = mod((curveRhs(xR) + q.y * q.y - lambda2 * dx * dx) * modInverse(2n * q.y));
  const r = { x: xR, y };
  if (!isOnCurve(r)) throw new Error('SM2: recovered point is not on the curve');
  return r;
}

// ---- [k]Q in BigInt, where OpenSSL refuses ECDH on SM2 --------------------------------------

export const SM2_G: Sm2Point = Object.freeze({ x: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n, y: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n });

/** (X, Y, Z) for the affine (X/Z², Y/Z³); Z = 0 is the point at infinity. */
interface Jacobian {
  X: bigint;
  Y: bigint;
  Z: bigint;
}

const INFINITY: Jacobian = { X: 1n, Y: 1n, Z: 0n };

function jacobianDouble(p: Jacobian): Jacobian {
  if (p.Z === 0n || p.Y === 0n) return INFINITY;
  const yy = mod(p.Y * p.Y);
  const s = mod(4n * p.X * yy);
  const zz = mod(p.Z * p.Z);
  const m = mod(3n * (p.X - zz) * (p.X + zz)); // a = −3
  const x = mod(m * m - 2n * s);
  return { X: x, Y: mod(m * (s - x) - 8n * yy * yy), Z: mod(2n * p.Y * p.Z) };
}

function jacobianAdd(p: Jacobian, q: Jacobian): Jacobian {
  if (p.Z === 0n) return q;
  if (q.Z === 0n) return p;
  const pz2 = mod(p.Z * p.Z);
  const qz2 = mod(q.Z * q.Z);
  const u1 = mod(p.X * qz2);
  const u2 = mod(q.X * pz2);
  const s1 = mod(p.Y * qz2 * q.Z);
  const s2 = mod(q.Y * pz2 * p.Z);
  const h = mod(u2 - u1);
  const r = mod(s2 - s1);
  if (h === 0n) return r === 0n ? jacobianDouble(p) : INFINITY;
  const hh = mod(h * h);
  const hhh = mod(h * hh);
  const v = mod(u1 * hh);
  const x = mod(r * r - hhh - 2n * v);
  return { X: x, Y: mod(r * (v - x) - s1 * hhh), Z: mod(p.Z * q.Z * h) };
}

/** [k]Q by a Montgomery ladder: the same doubling and addition for every bit of k (exported for its tests). */
export function multiplyPoint(k: bigint, q: Sm2Point): Sm2Point {
  let r0 = INFINITY;
  let r1: Jacobian = { X: q.x, Y: q.y, Z: 1n };
  for (let bit = BigInt(N.toString(2).length - 1); bit >= 0n; bit--) {
    if (((k >> bit) & 1n) === 1n) {
      r0 = jacobianAdd(r0, r1);
      r1 = jacobianDouble(r1);
    } else {
      r1 = jacobianAdd(r0, r1);
      r0 = jacobianDouble(r0);
    }
  }
  if (r0.Z === 0n) throw new Error('SM2: scalar product is the point at infinity');
  const zi = modInverse(r0.Z);
  const zi2 = mod(zi * zi);
  return { x: mod(r0.X * zi2), y: mod(r0.Y * zi2 * zi) };
}

/** Whether this Node's OpenSSL computes ECDH on the SM2 curve (3.0 does; 3.5 refuses). */
const NATIVE_SM2_ECDH = ((): boolean => {
  try {
    const probe = createECDH('SM2');
    probe.generateKeys();
    probe.computeSecret(encodePoint(SM2_G));
    return true;
  } catch {
    return false;
  }
})();

/** A scalar k in [1, n−2] ready to multiply points: two native ECDH contexts, k and k+1 (or BigInt). */
interface Scalar {
  /** [k]G, uncompressed */
  readonly publicKey: Buffer;
  times(q: Sm2Point): Sm2Point;
}

function prepareScalar(k: bigint): Scalar {
  if (k < 1n || k > N - 2n) throw new RangeError('SM2 scalar out of range');
  if (!NATIVE_SM2_ECDH) {
    return { publicKey: encodePoint(multiplyPoint(k, SM2_G)), times: (q) => multiplyPoint(k, q) };
  }
  const ecdhK: ECDH = createECDH('SM2');
  ecdhK.setPrivateKey(toBytes32(k));
  const ecdhK1: ECDH = createECDH('SM2');
  ecdhK1.setPrivateKey(toBytes32(k + 1n));
  return {
    publicKey: ecdhK.getPublicKey(),
    times(q: Sm2Point): Sm2Point {
      if (k === 1n) return q;
      const encoded = encodePoint(q);
      const x = toBigint(ecdhK.computeSecret(encoded));
      const xNext = toBigint(ecdhK1.computeSecret(encoded));
      return recoverY(x, xNext, q);
    },
  };
}

const preparedKeys = new Map<string, Scalar>();
const PREPARED_KEYS_MAX = 16;

function preparedPrivateKey(privateKeyHex: string): Scalar {
  const d = parsePrivateKeyScalar(privateKeyHex);
  const id = d.toString(16);
  let scalar = preparedKeys.get(id);
  if (scalar === undefined) {
    scalar = prepareScalar(d);
    if (preparedKeys.size >= PREPARED_KEYS_MAX) preparedKeys.delete(preparedKeys.keys().next().value!);
    preparedKeys.set(id, scalar);
  }
  return scalar;
}

function randomScalar(): bigint {
  for (;;) {
    const k = toBigint(randomBytes(FIELD_BYTES));
    if (k >= 1n && k <= N - 2n) return k;
  }
}

function keyError(message: string, options?: EsealErrorOptions): never {
  throw ESEAL_ERR_CRYPTO_KEY_FORMAT(message, options);
}

function parsePrivateKeyScalar(privateKeyHex: string): bigint {
  if (typeof privateKeyHex !== 'string' || !/^[0-9a-fA-F]{1,64}$/.test(privateKeyHex)) {
    keyError('SM2 private key must be at most 64 hex characters');
  }
  const d = BigInt(`0x${privateKeyHex}`);
  if (d < 1n || d > N - 2n) keyError('SM2 private key is out of range [1, n-2]');
  return d;
}

// ---------------------------------------------------------------------------------------------
// Keys

export function generateSm2KeyPair(): Sm2KeyPair {
  const d = randomScalar();
  const ecdh = createECDH('SM2');
  ecdh.setPrivateKey(toBytes32(d));
  return { privateKeyHex: toBytes32(d).toString('hex'), publicKeyHex: ecdh.getPublicKey('hex', 'uncompressed') };
}

export function publicKeyFromPrivateKey(privateKeyHex: string): string {
  const ecdh = createECDH('SM2');
  ecdh.setPrivateKey(toBytes32(parsePrivateKeyScalar(privateKeyHex)));
  return ecdh.getPublicKey('hex', 'uncompressed');
}

function pointFromRaw(bytes: Buffer, what: string): Sm2Point {
  let pt: Sm2Point | null = null;
  if (bytes.length === 65 && bytes[0] === 0x04) {
    pt = { x: toBigint(bytes.subarray(1, 33)), y: toBigint(bytes.subarray(33)) };
  } else if (bytes.length === 64) {
    pt = { x: toBigint(bytes.subarray(0, 32)), y: toBigint(bytes.subarray(32)) };
  } else if (bytes.length === 33 && (bytes[0] === 0x02 || bytes[0] === 0x03)) {
    pt = liftX(toBigint(bytes.subarray(1)), bytes[0] === 0x03);
    if (pt === null) keyError(`${what} is not a point on the SM2 curve`);
  } else {
    keyError(`${what} must be 04‖x‖y (65 bytes), x‖y (64 bytes) or 02/03‖x (33 bytes), got ${bytes.length} bytes`);
  }
  if (!isOnCurve(pt)) keyError(`${what} is not a point on the SM2 curve`);
  return pt;
}

function pointFromSpki(der: Buffer): Sm2Point {
  let root: Asn1Node;
  try {
    root = decodeDer(der);
  } catch (cause) {
    keyError('SM2 public key is not a valid X.509 SubjectPublicKeyInfo', { cause });
  }
  const [algorithm, bits] = readSequence(root, 2, 2) as [Asn1Node, Asn1Node];
  const [algOid, params] = readSequence(algorithm, 1, 2) as [Asn1Node, Asn1Node | undefined];
  const oid = readOid(algOid);
  if (oid !== OID_EC_PUBLIC_KEY && oid !== OID_SM2_CURVE) {
    keyError(`public key algorithm ${oid} is not EC (${OID_EC_PUBLIC_KEY}) or SM2 (${OID_SM2_CURVE})`);
  }
  if (params !== undefined) {
    if (!isTag(params, 'universal', 6)) keyError('EC public key must name its curve, not spell out parameters');
    const curve = readOid(params);
    if (curve !== OID_SM2_CURVE) keyError(`EC public key is on curve ${curve}, not SM2 (${OID_SM2_CURVE})`);
  } else if (oid !== OID_SM2_CURVE) {
    keyError('EC public key does not name its curve');
  }
  const { bytes, unusedBits } = readBitString(bits);
  if (unusedBits !== 0) keyError('public key BIT STRING has unused bits');
  return pointFromRaw(bytes, 'SM2 public key');
}

function withKeyErrors<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (ESEAL_ERR_CRYPTO_ASN1.is(err)) keyError(`${what}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * An SM2 public key in any form integrators hand around: hex (04‖x‖y, x‖y, or compressed),
 * base64 X.509 SubjectPublicKeyInfo (hutool's `getPublicKeyBase64`), base64 of the raw point, or
 * PEM. Returns uncompressed hex 04‖x‖y.
 */
export function parsePublicKey(text: string): string {
  return pointHex(parsePublicPoint(text));
}

function parsePublicPoint(text: string): Sm2Point {
  if (typeof text !== 'string') keyError('SM2 public key must be text');
  return withKeyErrors('SM2 public key', () => {
    const trimmed = text.trim();
    if (trimmed.includes('-----BEGIN')) {
      const der = pemToDer(trimmed, 'PUBLIC KEY');
      if (der === null) keyError('PEM SM2 public key must be a "PUBLIC KEY" block');
      return pointFromSpki(der);
    }
    const compact = trimmed.replace(/\s+/g, '');
    if (/^[0-9a-fA-F]+$/.test(compact) && [66, 128, 130].includes(compact.length)) {
      return pointFromRaw(Buffer.from(compact, 'hex'), 'SM2 public key');
    }
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
      const bytes = Buffer.from(compact, 'base64');
      return bytes[0] === 0x30 ? pointFromSpki(bytes) : pointFromRaw(bytes, 'SM2 public key');
    }
    return keyError('SM2 public key is neither hex, base64 nor PEM');
  });
}

export function publicKeyToSpkiDer(publicKey: string): Buffer {
  const pt = parsePublicPoint(publicKey);
  return derSequence(derSequence(derOid(OID_EC_PUBLIC_KEY), derOid(OID_SM2_CURVE)), derBitString(encodePoint(pt)));
}

/** Base64 X.509 SubjectPublicKeyInfo, what Java (hutool, BouncyCastle) loads with X509EncodedKeySpec. */
export function publicKeyToSpkiBase64(publicKeyHex: string): string {
  return publicKeyToSpkiDer(publicKeyHex).toString('base64');
}

export function publicKeyToPem(publicKeyHex: string): string {
  return derToPem(publicKeyToSpkiDer(publicKeyHex), 'PUBLIC KEY');
}

/** PKCS#8 PrivateKeyInfo PEM in the layout `openssl genpkey -algorithm SM2` writes. */
export function privateKeyToPkcs8Pem(privateKeyHex: string): string {
  const d = parsePrivateKeyScalar(privateKeyHex);
  const publicKey = Buffer.from(publicKeyFromPrivateKey(privateKeyHex), 'hex');
  const ecPrivateKey = derSequence(derInteger(1), derOctetString(toBytes32(d)), derExplicit(1, derBitString(publicKey)));
  const info = derSequence(
    derInteger(0),
    derSequence(derOid(OID_EC_PUBLIC_KEY), derOid(OID_SM2_CURVE)),
    derOctetString(ecPrivateKey),
  );
  return derToPem(info, 'PRIVATE KEY');
}

function keyPairFromEcPrivateKey(der: Buffer, curveKnown: boolean): Sm2KeyPair {
  const fields = readSequence(decodeDer(der), 2, 4);
  if (readInteger(fields[0]!) !== 1n) keyError('ECPrivateKey version must be 1');
  const scalar = readOctetString(fields[1]!);
  if (scalar.length === 0 || scalar.length > FIELD_BYTES) keyError('ECPrivateKey scalar must be 1 to 32 bytes');
  const privateKeyHex = toBytes32(toBigint(scalar)).toString('hex');
  const publicKeyHex = publicKeyFromPrivateKey(privateKeyHex);
  let named = curveKnown;
  for (const field of fields.slice(2)) {
    if (isTag(field, 'context', 0)) {
      const curve = readOid(expectTag(field, 'context', 0, true).children[0] ?? keyError('empty curve parameters'));
      if (curve !== OID_SM2_CURVE) keyError(`EC private key is on curve ${curve}, not SM2 (${OID_SM2_CURVE})`);
      named = true;
    } else if (isTag(field, 'context', 1)) {
      const bits = expectTag(field, 'context', 1, true).children[0] ?? keyError('empty public key field');
      const embedded = pointHex(pointFromRaw(readBitString(bits).bytes, 'public key in the private key file'));
      if (embedded !== publicKeyHex) keyError('the public key in the private key file does not belong to its private key');
    } else {
      keyError('ECPrivateKey has an unknown field');
    }
  }
  if (!named) keyError('EC private key does not name the SM2 curve');
  return { privateKeyHex, publicKeyHex };
}

/**
 * An SM2 private key from PKCS#8 PEM ("PRIVATE KEY", as written by privateKeyToPkcs8Pem and
 * `openssl genpkey -algorithm SM2`), SEC1 PEM ("EC PRIVATE KEY", or "SM2 PRIVATE KEY" from
 * `openssl ec`), or bare hex. (Node 20 aborts the process when asked to export an SM2 key as
 * SEC1, so that conversion must never be left to Node.)
 */
export function parsePrivateKey(text: string): Sm2KeyPair {
  if (typeof text !== 'string') keyError('SM2 private key must be text');
  return withKeyErrors('SM2 private key', () => {
    const trimmed = text.trim();
    if (/^[0-9a-fA-F]{1,64}$/.test(trimmed)) {
      const privateKeyHex = toBytes32(parsePrivateKeyScalar(trimmed)).toString('hex');
      return { privateKeyHex, publicKeyHex: publicKeyFromPrivateKey(privateKeyHex) };
    }
    if (trimmed.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
      keyError('SM2 private key is encrypted; store it unencrypted with file mode 0600');
    }
    // `openssl ec` labels a SEC1 SM2 key "SM2 PRIVATE KEY".
    const sec1 = pemToDer(trimmed, 'EC PRIVATE KEY') ?? pemToDer(trimmed, 'SM2 PRIVATE KEY');
    if (sec1 !== null) return keyPairFromEcPrivateKey(sec1, false);
    const pkcs8 = pemToDer(trimmed, 'PRIVATE KEY');
    if (pkcs8 === null) return keyError('SM2 private key is neither PKCS#8 PEM, SEC1 PEM nor hex');
    const fields = readSequence(decodeDer(pkcs8), 3, 4);
    if (readInteger(fields[0]!) !== 0n) keyError('PKCS#8 version must be 0');
    const [algOid, params] = readSequence(fields[1]!, 1, 2) as [Asn1Node, Asn1Node | undefined];
    const oid = readOid(algOid);
    if (oid !== OID_EC_PUBLIC_KEY && oid !== OID_SM2_CURVE) keyError(`private key algorithm ${oid} is not EC or SM2`);
    let named = oid === OID_SM2_CURVE;
    if (params !== undefined && isTag(params, 'universal', 6)) {
      if (readOid(params) !== OID_SM2_CURVE) keyError('EC private key is not on the SM2 curve');
      named = true;
    }
    return keyPairFromEcPrivateKey(readOctetString(fields[2]!), named);
  });
}

// ---------------------------------------------------------------------------------------------
// Encryption

function kdf(x2: Buffer, y2: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let offset = 0, ct = 1; offset < length; offset += 32, ct += 1) {
    counter.writeUInt32BE(ct);
    createSm3().update(x2).update(y2).update(counter).digest().copy(out, offset);
  }
  return out;
}

function xorInto(target: Buffer, mask: Buffer): Buffer {
  for (let i = 0; i < target.length; i++) target[i] = target[i]! ^ mask[i]!;
  return target;
}

const MODES: readonly Sm2CipherMode[] = ['C1C3C2', 'C1C2C3', 'DER'];
const ENCODINGS: readonly Sm2CipherEncoding[] = ['hex', 'base64'];

export function sm2Encrypt(plaintext: Buffer | string, publicKey: string, opts: Sm2EncryptOptions): string {
  if (!MODES.includes(opts.mode)) throw new RangeError(`SM2 mode must be one of ${MODES.join(', ')}`);
  if (!ENCODINGS.includes(opts.encoding)) throw new RangeError(`SM2 encoding must be one of ${ENCODINGS.join(', ')}`);
  const q = parsePublicPoint(publicKey);
  const message = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : Buffer.from(plaintext);
  for (;;) {
    const k = prepareScalar(randomScalar());
    const shared = k.times(q);
    const x2 = toBytes32(shared.x);
    const y2 = toBytes32(shared.y);
    const t = kdf(x2, y2, message.length);
    if (message.length > 0 && t.every((b) => b === 0)) continue; // GM/T 0003.4 6.1 A5: pick another k
    const c2 = xorInto(Buffer.from(message), t);
    const c3 = sm3(Buffer.concat([x2, message, y2]));
    const c1 = k.publicKey;
    let out: Buffer;
    if (opts.mode === 'DER') {
      out = derSequence(
        derUnsignedInteger(c1.subarray(1, 33)),
        derUnsignedInteger(c1.subarray(33)),
        derOctetString(c3),
        derOctetString(c2),
      );
    } else {
      const c1Bytes = opts.with04 ? c1 : c1.subarray(1);
      out = Buffer.concat(opts.mode === 'C1C3C2' ? [c1Bytes, c3, c2] : [c1Bytes, c2, c3]);
    }
    return out.toString(opts.encoding);
  }
}

/**
 * The format a peer that published `publicKeyText` most likely decrypts: a hex key comes from
 * sm-crypto (C1C3C2, hex, C1 without 04), an X.509 key from Java hutool/BouncyCastle (C1C3C2,
 * base64, C1 with 04).
 */
export function impliedEncryptOptions(publicKeyText: string): Sm2EncryptOptions {
  parsePublicPoint(publicKeyText);
  return /^[0-9a-fA-F\s]+$/.test(publicKeyText.trim())
    ? { mode: 'C1C3C2', encoding: 'hex', with04: false }
    : { mode: 'C1C3C2', encoding: 'base64', with04: true };
}

// ---------------------------------------------------------------------------------------------
// Decryption of one ciphertext already split into C1, C3 and C2

/**
 * C1 from its coordinates x‖y (64 bytes); null for a point off the curve, or for (0, 0), which is
 * how some encoders write the point at infinity (it has no affine form).
 */
export function sm2PointFromXY(xy: Buffer): Sm2Point | null {
  if (xy.length !== 2 * FIELD_BYTES) return null;
  const pt = { x: toBigint(xy.subarray(0, FIELD_BYTES)), y: toBigint(xy.subarray(FIELD_BYTES)) };
  if (pt.x === 0n && pt.y === 0n) return null;
  return isOnCurve(pt) ? pt : null;
}

/** The three parts of one SM2 ciphertext, whatever layout they travelled in. */
export interface Sm2CiphertextParts {
  readonly c1: Sm2Point;
  readonly c3: Buffer;
  readonly c2: Buffer;
}

/** C2 decrypted when C3 verifies; null when it does not (wrong key, wrong layout, tampering). */
export type Sm2Decrypter = (parts: Sm2CiphertextParts) => Buffer | null;

/**
 * A decrypter for one private key (checked now). [d]C1 is the costly step and is remembered per C1,
 * because readings of one ciphertext in several layouts share their C1; the products are secrets,
 * so make a decrypter per ciphertext, not one per process.
 */
export function sm2Decrypter(privateKeyHex: string): Sm2Decrypter {
  const key = preparedPrivateKey(privateKeyHex);
  const products = new Map<string, Sm2Point>();
  return (parts) => {
    if (!isOnCurve(parts.c1) || parts.c3.length !== SM2_C3_BYTES) return null;
    const id = `${parts.c1.x.toString(16)}:${parts.c1.y.toString(16)}`;
    let shared = products.get(id);
    if (shared === undefined) {
      shared = key.times(parts.c1);
      products.set(id, shared);
    }
    const x2 = toBytes32(shared.x);
    const y2 = toBytes32(shared.y);
    const t = kdf(x2, y2, parts.c2.length);
    if (parts.c2.length > 0 && t.every((b) => b === 0)) return null;
    const message = xorInto(Buffer.from(parts.c2), t);
    const u = sm3(Buffer.concat([x2, message, y2]));
    return timingSafeEqual(u, parts.c3) ? message : null;
  };
}
