// Types for the parts of sm-crypto 0.5 (CommonJS, no bundled types) that this project calls.
// Hex strings throughout; public keys are 04‖x‖y (130 hex characters) unless said otherwise.

declare module 'sm-crypto' {
  namespace smCrypto {
    /** 1 = C1C3C2 (the default), 0 = C1C2C3 */
    type CipherMode = 0 | 1;

    interface KeyPairHex {
      privateKey: string;
      publicKey: string;
    }

    interface Sm2 {
      generateKeyPairHex(a?: unknown, b?: unknown, c?: unknown): KeyPairHex;
      compressPublicKeyHex(publicKey: string): string;
      comparePublicKeyHex(publicKey1: string, publicKey2: string): boolean;
      /** hex ciphertext, C1 without its 04 prefix */
      doEncrypt(msg: string | ArrayLike<number>, publicKey: string, cipherMode?: CipherMode): string;
      /** returns "" (or [] with output 'array') when the ciphertext does not verify: it never throws */
      doDecrypt(encryptData: string, privateKey: string, cipherMode?: CipherMode, options?: { output?: 'string' }): string;
      doDecrypt(encryptData: string, privateKey: string, cipherMode: CipherMode, options: { output: 'array' }): number[];
      doSignature(
        msg: string | ArrayLike<number>,
        privateKey: string,
        options?: { pointPool?: unknown[]; der?: boolean; hash?: boolean; publicKey?: string; userId?: string },
      ): string;
      doVerifySignature(
        msg: string | ArrayLike<number>,
        signHex: string,
        publicKey: string,
        options?: { der?: boolean; hash?: boolean; userId?: string },
      ): boolean;
      getPublicKeyFromPrivateKey(privateKey: string): string;
      verifyPublicKey(publicKey: string): boolean;
    }

    interface Sm4Options {
      padding?: 'pkcs#7' | 'pkcs#5' | 'none';
      mode?: 'ecb' | 'cbc';
      iv?: string | ArrayLike<number>;
      output?: 'string' | 'array';
    }

    interface Sm4 {
      encrypt(inArray: string | ArrayLike<number>, key: string | ArrayLike<number>, options?: Sm4Options): string;
      decrypt(inArray: string | ArrayLike<number>, key: string | ArrayLike<number>, options?: Sm4Options): string;
    }

    type Sm3 = (input: string | ArrayLike<number>, options?: { key?: string | ArrayLike<number>; mode?: 'hmac' }) => string;
  }

  const smCrypto: {
    sm2: smCrypto.Sm2;
    sm3: smCrypto.Sm3;
    sm4: smCrypto.Sm4;
  };
  export = smCrypto;
}
