// The relay's SM2 key ring as the running relay sees it. `eseal keys rotate` may run beside a live
// relay: the key file's mtime is checked (at most once a second) and the ring re-read when it
// changed, so the new public key is served at once and the previous one still decrypts.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadOrCreateSm2KeyPair, type Sm2KeyRing } from '../../src/crypto/keyFiles.ts';
import { publicKeyToSpkiBase64 } from '../../src/crypto/sm2.ts';
import { sm2DecryptAny } from '../../src/crypto/sm2ClientVariants.ts';

export class KeyHolder {
  #ring: Sm2KeyRing;
  #mtimeMs: number;
  #checkedAt = 0;
  readonly #dataDir: string;

  private constructor(dataDir: string, ring: Sm2KeyRing, mtimeMs: number) {
    this.#dataDir = dataDir;
    this.#ring = ring;
    this.#mtimeMs = mtimeMs;
  }

  static async open(dataDir: string): Promise<KeyHolder> {
    const ring = await loadOrCreateSm2KeyPair(dataDir);
    const st = await stat(join(dataDir, 'sm2.key'));
    return new KeyHolder(dataDir, ring, st.mtimeMs);
  }

  async #fresh(): Promise<Sm2KeyRing> {
    const now = Date.now();
    if (now - this.#checkedAt >= 1000) {
      this.#checkedAt = now;
      const st = await stat(join(this.#dataDir, 'sm2.key')).catch(() => undefined);
      if (st && st.mtimeMs !== this.#mtimeMs) {
        this.#ring = await loadOrCreateSm2KeyPair(this.#dataDir);
        this.#mtimeMs = st.mtimeMs;
      }
    }
    return this.#ring;
  }

  async publicKey(format: 'hex' | 'spki'): Promise<string> {
    const ring = await this.#fresh();
    return format === 'hex' ? ring.current.publicKeyHex : publicKeyToSpkiBase64(ring.current.publicKeyHex);
  }

  /** Decrypts a password sent by a client, trying the current key first, then the previous one. */
  async decrypt(ciphertext: string): Promise<{ plaintext: Buffer; variant: unknown }> {
    const ring = await this.#fresh();
    const keys = [ring.current.privateKeyHex, ...(ring.previous ? [ring.previous.privateKeyHex] : [])];
    return sm2DecryptAny(ciphertext, keys);
  }
}
