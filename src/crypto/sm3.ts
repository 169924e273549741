// SM3 (GB/T 32905) over Node's OpenSSL. Strings are hashed as UTF-8.

import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

export const SM3_BYTES = 32;

export function createSm3(): Hash {
  return createHash('sm3');
}

export function sm3(data: Buffer | string): Buffer {
  return createHash('sm3').update(data).digest();
}

export function sm3Hex(data: Buffer | string): string {
  return createHash('sm3').update(data).digest('hex');
}

export function createHmacSm3(key: Buffer): Hmac {
  return createHmac('sm3', key);
}

export function hmacSm3(key: Buffer, data: Buffer | string): Buffer {
  return createHmac('sm3', key).update(data).digest();
}
