// The relay's tolerance for SM2 ciphertexts as clients send them. Mine devices encrypt passwords
// with whatever library they have (sm-crypto, hutool, BouncyCastle, openssl) and send the result
// through form bodies and query strings that mangle it; the guide names none of this. So a
// ciphertext is read every way it can be (hex or base64, C1 with or without 04, C1C3C2, C1C2C3 or
// GM/T 0009 DER, '+' turned into a space, URL-encoded twice) and the reading whose C3 verifies wins.
// The relay's login and the national-platform simulator both decrypt with it. The curve and the
// cipher itself are in sm2.ts.

import { decodeDer, expectTag, readOctetString, readSequence, type Asn1Node } from './asn1.ts';
import { ESEAL_ERR_CRYPTO_DECRYPT, ESEAL_ERR_CRYPTO_KEY_FORMAT } from './errors.ts';
import {
  SM2_C3_BYTES,
  sm2Decrypter,
  sm2PointFromXY,
  type Sm2CipherEncoding,
  type Sm2CipherMode,
  type Sm2CiphertextParts,
  type Sm2EncryptOptions,
} from './sm2.ts';

/** Longest ciphertext text sm2DecryptAny looks at; a password is a few hundred characters. */
export const SM2_MAX_CIPHERTEXT_TEXT = 8192;

const COORDINATE_BYTES = 32;

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

/** One reading of the bytes: where C1, C3 and C2 are, and the variant that put them there. */
interface Candidate extends Sm2CiphertextParts {
  mode: Sm2CipherMode;
  encoding: Sm2CipherEncoding;
  with04: boolean;
}

/**
 * A C1 coordinate from a DER INTEGER, read as unsigned and as 32 bytes: some encoders write the
 * 32 bytes without the 00 sign byte (a "negative" INTEGER) or with redundant zeros; C3 vouches for
 * the value. Null when it cannot be a field element.
 */
function coordinate(node: Asn1Node): Buffer | null {
  const { content } = expectTag(node, 'universal', 2, false);
  if (content.length === 0 || content.length > COORDINATE_BYTES + 1) return null;
  let start = 0;
  while (start < content.length && content[start] === 0) start++;
  const digits = content.subarray(start);
  if (digits.length > COORDINATE_BYTES) return null;
  return Buffer.concat([Buffer.alloc(COORDINATE_BYTES - digits.length), digits]);
}

function derCandidate(bytes: Buffer, encoding: Sm2CipherEncoding): Candidate | null {
  try {
    const [xNode, yNode, hashNode, ctNode] = readSequence(decodeDer(bytes, { lenient: true }), 4, 4) as Asn1Node[];
    const x = coordinate(xNode!);
    const y = coordinate(yNode!);
    const c3 = readOctetString(hashNode!);
    const c2 = readOctetString(ctNode!);
    if (x === null || y === null || c3.length !== SM2_C3_BYTES) return null;
    const c1 = sm2PointFromXY(Buffer.concat([x, y]));
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
    if (bytes.length < c1Length + SM2_C3_BYTES || (with04 && bytes[0] !== 0x04)) continue;
    const c1 = sm2PointFromXY(bytes.subarray(with04 ? 1 : 0, c1Length));
    if (c1 === null) continue;
    const rest = bytes.subarray(c1Length);
    out.push({ c1, c3: rest.subarray(0, SM2_C3_BYTES), c2: rest.subarray(SM2_C3_BYTES), mode: 'C1C3C2', encoding, with04 });
    out.push({
      c1,
      c3: rest.subarray(rest.length - SM2_C3_BYTES),
      c2: rest.subarray(0, rest.length - SM2_C3_BYTES),
      mode: 'C1C2C3',
      encoding,
      with04,
    });
  }
  return out;
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
  if (keyList.length === 0) throw ESEAL_ERR_CRYPTO_KEY_FORMAT('sm2DecryptAny needs at least one private key');
  const decrypters = keyList.map(sm2Decrypter);
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
  for (const [keyIndex, decrypt] of decrypters.entries()) {
    for (const candidate of candidates) {
      const plaintext = decrypt(candidate);
      if (plaintext !== null) {
        const { mode, encoding, with04 } = candidate;
        return { plaintext, variant: { mode, encoding, with04, keyIndex } };
      }
    }
  }
  return fail(
    `did not decrypt: no variant's C3 hash verified with the relay's ${decrypters.length > 1 ? 'current or previous ' : ''}` +
      'SM2 key; encrypt it with the public key from GET /sm2 (it changes when the relay rotates its key)',
    { variantsTried: candidates.length, keysTried: decrypters.length },
  );
}
