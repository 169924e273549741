// Error kinds of the crypto area (SM2/SM3/SM4, DER, key files, the self-signed certificate).
// The status is what the error means when it reaches an HTTP answer; a caller that knows better
// (a bad upstream key is a 502, not a 500) passes `statusCode` in the options.

import { defineError } from '../errors.ts';

/** A password (or other SM2 ciphertext) that no variant and no key of the relay decrypts. */
export const ESEAL_ERR_CRYPTO_DECRYPT = defineError(
  'ESEAL_ERR_CRYPTO_DECRYPT',
  400,
  'SM2 ciphertext could not be decrypted with the public key from GET /sm2',
);

/** Key material that cannot be used: a public key off the curve, a private key out of range. */
export const ESEAL_ERR_CRYPTO_KEY_FORMAT = defineError(
  'ESEAL_ERR_CRYPTO_KEY_FORMAT',
  500,
  'SM2 or SM4 key material is malformed',
);

/** DER that breaks the encoding rules or does not have the expected shape. */
export const ESEAL_ERR_CRYPTO_ASN1 = defineError(
  'ESEAL_ERR_CRYPTO_ASN1',
  400,
  'ASN.1 DER data is malformed',
);

/** A secret sealed at rest that is malformed, was altered, or was sealed under another key. */
export const ESEAL_ERR_CRYPTO_SEALED = defineError(
  'ESEAL_ERR_CRYPTO_SEALED',
  500,
  'a sealed secret cannot be opened (altered, truncated, or sealed with another secret.key)',
);

/** A key file in the data directory that exists but cannot be read or used. */
export const ESEAL_ERR_CRYPTO_KEY_FILE = defineError(
  'ESEAL_ERR_CRYPTO_KEY_FILE',
  500,
  'a key file in the data directory is unreadable or corrupt',
);

/** Input to the self-signed certificate maker that cannot go into a certificate. */
export const ESEAL_ERR_CRYPTO_CERT = defineError(
  'ESEAL_ERR_CRYPTO_CERT',
  500,
  'a self-signed certificate cannot be made from the given names or validity',
);
