// SM4 (GB/T 32907) over Node's OpenSSL: the raw block primitive, and secrets sealed at rest.
//
// Sealed format, version 1:  "sm4v1." + base64url( iv(16) ‖ SM4-CBC-PKCS#7(encKey, iv, plaintext) ‖ tag(32) )
// with tag = HMAC-SM3(macKey, "sm4v1." ‖ iv ‖ ciphertext) (encrypt-then-MAC; the version prefix is
// authenticated so a later format cannot be confused with this one). encKey and macKey are derived
// from the 32-byte secret.key with HMAC-SM3 under distinct labels, so one key never serves both uses.

import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { ESEAL_ERR_CRYPTO_KEY_FORMAT, ESEAL_ERR_CRYPTO_SEALED } from './errors.ts';
import { hmacSm3, SM3_BYTES } from './sm3.ts';

export const SM4_KEY_BYTES = 16;
export const SM4_BLOCK_BYTES = 16;
/** Length of the at-rest key (secret.key). */
export const SECRET_KEY_BYTES = 32;

const SEAL_PREFIX = 'sm4v1.';
const SEAL_PREFIX_BYTES = Buffer.from(SEAL_PREFIX, 'ascii');
const ENC_LABEL = 'eseal-relay sealed secret v1: SM4-CBC key';
const MAC_LABEL = 'eseal-relay sealed secret v1: HMAC-SM3 key';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function checkSm4Key(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== SM4_KEY_BYTES) {
    throw ESEAL_ERR_CRYPTO_KEY_FORMAT(`SM4 key must be ${SM4_KEY_BYTES} bytes`, {
      detail: { length: Buffer.isBuffer(key) ? key.length : null },
    });
  }
}

function ecb(encrypt: boolean, key: Buffer, data: Buffer): Buffer {
  checkSm4Key(key);
  if (data.length % SM4_BLOCK_BYTES !== 0) {
    throw new RangeError(`SM4-ECB data must be a multiple of ${SM4_BLOCK_BYTES} bytes, got ${data.length}`);
  }
  const cipher = encrypt ? createCipheriv('sm4-ecb', key, null) : createDecipheriv('sm4-ecb', key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** SM4 in ECB mode without padding: the raw block primitive (data a multiple of 16 bytes). */
export function sm4EcbEncrypt(key: Buffer, data: Buffer): Buffer {
  return ecb(true, key, data);
}

export function sm4EcbDecrypt(key: Buffer, data: Buffer): Buffer {
  return ecb(false, key, data);
}

export function newSecretKey(): Buffer {
  return randomBytes(SECRET_KEY_BYTES);
}

function deriveKeys(key: Buffer): { encKey: Buffer; macKey: Buffer } {
  if (!Buffer.isBuffer(key) || key.length !== SECRET_KEY_BYTES) {
    throw ESEAL_ERR_CRYPTO_KEY_FORMAT(`the at-rest secret key must be ${SECRET_KEY_BYTES} bytes`, {
      detail: { length: Buffer.isBuffer(key) ? key.length : null },
    });
  }
  return {
    encKey: hmacSm3(key, ENC_LABEL).subarray(0, SM4_KEY_BYTES),
    macKey: hmacSm3(key, MAC_LABEL),
  };
}

function tagOf(macKey: Buffer, iv: Buffer, ciphertext: Buffer): Buffer {
  return hmacSm3(macKey, Buffer.concat([SEAL_PREFIX_BYTES, iv, ciphertext]));
}

export function isSealedSecret(text: string): boolean {
  return typeof text === 'string' && text.startsWith(SEAL_PREFIX);
}

export function sealSecret(key: Buffer, plaintext: Buffer | string): string {
  const { encKey, macKey } = deriveKeys(key);
  const iv = randomBytes(SM4_BLOCK_BYTES);
  const cipher = createCipheriv('sm4-cbc', encKey, iv);
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
  const tag = tagOf(macKey, iv, ciphertext);
  return SEAL_PREFIX + Buffer.concat([iv, ciphertext, tag]).toString('base64url');
}

export function openSecret(key: Buffer, sealed: string): Buffer {
  const { encKey, macKey } = deriveKeys(key);
  if (typeof sealed !== 'string' || !sealed.startsWith(SEAL_PREFIX)) {
    throw ESEAL_ERR_CRYPTO_SEALED(`a sealed secret must start with "${SEAL_PREFIX}"`, {
      detail: { reason: 'version' },
    });
  }
  const body = sealed.slice(SEAL_PREFIX.length);
  if (!BASE64URL.test(body)) {
    throw ESEAL_ERR_CRYPTO_SEALED('a sealed secret must be base64url after its prefix', {
      detail: { reason: 'format' },
    });
  }
  const raw = Buffer.from(body, 'base64url');
  const ctLength = raw.length - SM4_BLOCK_BYTES - SM3_BYTES;
  // Canonical base64url only: a re-encoding that differs is an alteration too.
  if (ctLength < SM4_BLOCK_BYTES || ctLength % SM4_BLOCK_BYTES !== 0 || raw.toString('base64url') !== body) {
    throw ESEAL_ERR_CRYPTO_SEALED('a sealed secret is truncated or padded', { detail: { reason: 'format' } });
  }
  const iv = raw.subarray(0, SM4_BLOCK_BYTES);
  const ciphertext = raw.subarray(SM4_BLOCK_BYTES, SM4_BLOCK_BYTES + ctLength);
  const tag = raw.subarray(SM4_BLOCK_BYTES + ctLength);
  if (!timingSafeEqual(tag, tagOf(macKey, iv, ciphertext))) {
    throw ESEAL_ERR_CRYPTO_SEALED(
      'a sealed secret was altered or sealed with another secret.key',
      { detail: { reason: 'mac' } },
    );
  }
  try {
    const decipher = createDecipheriv('sm4-cbc', encKey, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (cause) {
    // Unreachable unless the sealer itself was broken: the tag already vouched for the bytes.
    throw ESEAL_ERR_CRYPTO_SEALED('a sealed secret has bad padding', { cause, detail: { reason: 'padding' } });
  }
}
