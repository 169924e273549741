// SM2 public-key encryption (GM/T 0003.4) and the key encodings integrators use.
//
// Curve arithmetic: Node's OpenSSL knows the SM2 curve (`crypto.getCurves()` lists "SM2"), and its
// ECDH gives x([k]P) natively, about twenty times faster than sm-crypto's jsbn arithmetic. SM2 also
// needs y([k]P); we get it from a second native product, x([k+1]P) = x([k]P + P), which fixes y by the
// chord rule with one modular inverse (see `recoverY`). The KDF and the C3 check are ours (SM3 over
// Node's OpenSSL), so a failed check is an error and never an empty string.

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
import { ESEAL_ERR_CRYPTO_ASN1, ESEAL_ERR_CRYPTO_DECRYPT, ESEAL_ERR_CRYPTO_KEY_FORMAT } from './errors.ts';
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
const C3_BYTES = 32;
/** Longest ciphertext text sm2DecryptAny looks at; a password is a few hundred characters. */
export const SM2_MAX_CIPHERTEXT_TEXT = 8192;

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

export interface Sm2CipherVariant extends Sm2EncryptOptions {
  /** which of the private keys passed decrypted it (0 = the first, the current key) */
  keyIndex: number;
}

export interface Sm2DecryptResult {
  plaintext: Buffer;
  variant: Sm2CipherVariant;
}

export interface Sm2DecryptOptions {
  /** the request field the ciphertext came in, for the error (e.g. "password") */
  field?: string;
}

interface Point {
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

function isOnCurve(pt: Point): boolean {
  return pt.x >= 0n && pt.x < P && pt.y >= 0n && pt.y < P && mod(pt.y * pt.y) === curveRhs(pt.x);
}

function toBytes32(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(2 * FIELD_BYTES, '0'), 'hex');
}

function toBigint(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function encodePoint(pt: Point): Buffer {
  return Buffer.concat([Buffer.from([4]), toBytes32(pt.x), toBytes32(pt.y)]);
}

function pointHex(pt: Point): string {
  return encodePoint(pt).toString('hex');
}

/** y for x on the curve, with the parity asked for; null when x is not on the curve. */
function liftX(x: bigint, odd: boolean): Point | null {
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
function recoverY(xR: bigint, xRplusQ: bigint, q: Point): Point {
  const dx = mod(xR - q.x);
  if (dx === 0n || q.y === 0n) throw new Error('SM2: degenerate scalar product');
  const lambda2 = mod(xRplusQ + xR + q.x);
  const y = mod((curveRhs(xR) + q.y * q.y - lambda2 * dx * dx) * modInverse(2n * q.y));
  const r = { x: xR, y };
  if (!isOnCurve(r)) throw new Error('SM2: recovered point is not on the curve');
  return r;
}

/** A scalar k in [1, n−2] ready to multiply points: two native ECDH contexts, k and k+1. */
interface Scalar {
  /** [k]G, uncompressed */
  readonly publicKey: Buffer;
  times(q: Point): Point;
}

function prepareScalar(k: bigint): Scalar {
  if (k < 1n || k > N - 2n) throw new RangeError('SM2 scalar out of range');
  const ecdhK: ECDH = createECDH('SM2');
  ecdhK.setPrivateKey(toBytes32(k));
  const ecdhK1: ECDH = createECDH('SM2');
  ecdhK1.setPrivateKey(toBytes32(k + 1n));
  return {
    publicKey: ecdhK.getPublicKey(),
    times(q: Point): Point {
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

function pointFromRaw(bytes: Buffer, what: string): Point {
  let pt: Point | null = null;
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

function pointFromSpki(der: Buffer): Point {
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

function parsePublicPoint(text: string): Point {
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
// Decryption of whatever a client sent

function percentDecodeAscii(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * The ciphertext text as a client may have meant it. The framework has already URL-decoded once;
 * a '+' that travelled unescaped in a query string arrives as a space; a client that encoded twice
 * leaves %XX escapes; some wrap base64 in lines or PEM-like armour. The first candidate turns spaces
 * back into '+'; if there were spaces, the second drops them (whitespace used as line wrapping).
 */
export function normaliseCiphertextText(text: string): string[] {
  // Spaces at the ends are kept for the first candidate: base64 may end (or, after a prefix,
  // start) with a '+' that the query string turned into a space.
  const ends = (x: string) => x.replace(/^[\r\n\t]+|[\r\n\t]+$/g, '');
  let s = ends(text);
  for (let i = 0; i < 3 && /%[0-9A-Fa-f]{2}/.test(s); i++) s = ends(percentDecodeAscii(s));
  s = s.replace(/-----(?:BEGIN|END)[^\r\n]*?-----/g, '');
  const unquoted = s.trim().replace(/^["']|["']$/g, '');
  if (unquoted !== s.trim()) s = unquoted;
  const unwrapped = s.replace(/[\r\n\t]+/g, '');
  const candidates = [unwrapped.replace(/ /g, '+'), unwrapped.trim().replace(/ /g, '+')];
  if (unwrapped.includes(' ')) candidates.push(unwrapped.replace(/ /g, ''));
  return [...new Set(candidates)].filter((c) => c.length > 0);
}

interface EncodedBytes {
  encoding: Sm2CipherEncoding;
  bytes: Buffer;
}

function decodeText(candidates: string[]): EncodedBytes[] {
  const seen = new Set<string>();
  const out: EncodedBytes[] = [];
  const add = (encoding: Sm2CipherEncoding, bytes: Buffer) => {
    const id = bytes.toString('hex');
    if (bytes.length > 0 && !seen.has(id)) {
      seen.add(id);
      out.push({ encoding, bytes });
    }
  };
  for (const s of candidates) {
    if (/^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0) add('hex', Buffer.from(s, 'hex'));
    // Standard or URL-safe alphabet; a hex string is also valid base64, and both are tried.
    if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s) && s.replace(/=+$/, '').length % 4 !== 1) {
      add('base64', Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
    }
  }
  return out;
}

interface Candidate {
  c1: Point;
  c3: Buffer;
  c2: Buffer;
  mode: Sm2CipherMode;
  encoding: Sm2CipherEncoding;
  with04: boolean;
}

function rawPoint(bytes: Buffer): Point | null {
  const pt = { x: toBigint(bytes.subarray(0, 32)), y: toBigint(bytes.subarray(32, 64)) };
  // The point at infinity has no affine form; (0, 0) is how some encoders write it.
  if (pt.x === 0n && pt.y === 0n) return null;
  return isOnCurve(pt) ? pt : null;
}

/**
 * A C1 coordinate from a DER INTEGER, read as unsigned: some encoders write the 32 bytes without
 * the 00 sign byte (a "negative" INTEGER) or with redundant zeros; C3 vouches for the value.
 */
function coordinate(node: Asn1Node): bigint {
  const { content } = expectTag(node, 'universal', 2, false);
  if (content.length === 0 || content.length > FIELD_BYTES + 1) throw new RangeError('bad C1 coordinate');
  return toBigint(content);
}

function derCandidate(bytes: Buffer, encoding: Sm2CipherEncoding): Candidate | null {
  try {
    const [xNode, yNode, hashNode, ctNode] = readSequence(decodeDer(bytes, { lenient: true }), 4, 4) as Asn1Node[];
    const x = coordinate(xNode!);
    const y = coordinate(yNode!);
    const c3 = readOctetString(hashNode!);
    const c2 = readOctetString(ctNode!);
    if (c3.length !== C3_BYTES || x >= P || y >= P) return null;
    const c1 = rawPoint(Buffer.concat([toBytes32(x), toBytes32(y)]));
    return c1 === null ? null : { c1, c3, c2, mode: 'DER', encoding, with04: false };
  } catch {
    return null;
  }
}

function candidatesOf({ bytes, encoding }: EncodedBytes): Candidate[] {
  const out: Candidate[] = [];
  if (bytes[0] === 0x30) {
    const der = derCandidate(bytes, encoding);
    if (der !== null) out.push(der);
  }
  for (const with04 of [false, true]) {
    const c1Length = with04 ? 65 : 64;
    if (bytes.length < c1Length + C3_BYTES || (with04 && bytes[0] !== 0x04)) continue;
    const c1 = rawPoint(bytes.subarray(with04 ? 1 : 0, c1Length));
    if (c1 === null) continue;
    const rest = bytes.subarray(c1Length);
    out.push({ c1, c3: rest.subarray(0, C3_BYTES), c2: rest.subarray(C3_BYTES), mode: 'C1C3C2', encoding, with04 });
    out.push({
      c1,
      c3: rest.subarray(rest.length - C3_BYTES),
      c2: rest.subarray(0, rest.length - C3_BYTES),
      mode: 'C1C2C3',
      encoding,
      with04,
    });
  }
  return out;
}

function tryDecrypt(candidate: Candidate, shared: Point): Buffer | null {
  const x2 = toBytes32(shared.x);
  const y2 = toBytes32(shared.y);
  const t = kdf(x2, y2, candidate.c2.length);
  if (candidate.c2.length > 0 && t.every((b) => b === 0)) return null;
  const message = xorInto(Buffer.from(candidate.c2), t);
  const u = sm3(Buffer.concat([x2, message, y2]));
  return timingSafeEqual(u, candidate.c3) ? message : null;
}

/**
 * Decrypts an SM2 ciphertext in whichever variant a client used: hex or base64, C1 with or
 * without 04, C1C3C2, C1C2C3 or GM/T 0009 DER; with the first of `privateKeyHex` that fits
 * (current key, then the previous one after a rotation). The variant whose C3 hash verifies wins.
 * An empty plaintext is returned only when its C3 verifies; every failure throws
 * ESEAL_ERR_CRYPTO_DECRYPT.
 */
export function sm2DecryptAny(
  text: string,
  privateKeyHex: string | string[],
  options: Sm2DecryptOptions = {},
): Sm2DecryptResult {
  const keyList = Array.isArray(privateKeyHex) ? privateKeyHex : [privateKeyHex];
  if (keyList.length === 0) keyError('sm2DecryptAny needs at least one private key');
  const keys = keyList.map(preparedPrivateKey);
  const what = options.field ?? 'ciphertext';
  const fail = (message: string, detail: Record<string, unknown>): never => {
    throw ESEAL_ERR_CRYPTO_DECRYPT(`${what}: ${message}`, { field: options.field, detail });
  };

  if (typeof text !== 'string' || text.trim().length === 0) fail('is empty; send the SM2 ciphertext of the value', {});
  if (text.length > SM2_MAX_CIPHERTEXT_TEXT) {
    fail(`is ${text.length} characters, more than the ${SM2_MAX_CIPHERTEXT_TEXT} an SM2-encrypted value can need`, {
      length: text.length,
    });
  }
  const decoded = decodeText(normaliseCiphertextText(text));
  if (decoded.length === 0) {
    fail('is neither hex nor base64 (after URL-decoding); send the SM2 ciphertext as hex or base64', {
      length: text.length,
    });
  }
  const candidates = decoded.flatMap(candidatesOf);
  if (candidates.length === 0) {
    fail(
      'is not SM2 ciphertext: expected C1 (64 bytes, or 65 with a leading 04, a point on the SM2 curve) ' +
        'followed by C3 (32 bytes) and C2, in either order, or GM/T 0009 DER',
      { decodedLengths: decoded.map((d) => `${d.encoding}:${d.bytes.length}`) },
    );
  }
  for (const [keyIndex, key] of keys.entries()) {
    const products = new Map<string, Point>();
    for (const candidate of candidates) {
      const id = `${candidate.c1.x.toString(16)}:${candidate.c1.y.toString(16)}`;
      let shared = products.get(id);
      if (shared === undefined) {
        shared = key.times(candidate.c1);
        products.set(id, shared);
      }
      const plaintext = tryDecrypt(candidate, shared);
      if (plaintext !== null) {
        const { mode, encoding, with04 } = candidate;
        return { plaintext, variant: { mode, encoding, with04, keyIndex } };
      }
    }
  }
  return fail(
    `did not decrypt: no variant's C3 hash verified with the relay's ${keys.length > 1 ? 'current or previous ' : ''}` +
      'SM2 key; encrypt it with the public key from GET /sm2 (it changes when the relay rotates its key)',
    { variantsTried: candidates.length, keysTried: keys.length },
  );
}
