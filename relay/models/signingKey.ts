// The province's model-signing SM2 key, kept beside the relay's other keys in its data dir:
//   models.key   PKCS#8 PEM, 0600 (the source of truth)
//   models.pub   its public key, hex 04‖x‖y, what edges put in edge.models.publicKey
// Made on first use. Like sm2.key (src/crypto/keyFiles.ts) it is written to a temp file, fsynced
// and hard-linked into place, so two commands starting at once agree on one key, and a key file
// that exists but does not parse is never replaced: every edge trusts its public key.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ESEAL_ERR_CRYPTO_KEY_FILE } from '../../src/crypto/errors.ts';
import { generateSm2KeyPair, parsePrivateKey, privateKeyToPkcs8Pem, type Sm2KeyPair } from '../../src/crypto/sm2.ts';
import { errnoOf } from '../../src/store/errors.ts';
import { fsyncDir, writeFileDurable } from '../../src/store/fsync.ts';

export const MODEL_KEY_FILE = 'models.key';
export const MODEL_PUBLIC_KEY_FILE = 'models.pub';

async function readKey(path: string): Promise<Sm2KeyPair | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return null;
    throw ESEAL_ERR_CRYPTO_KEY_FILE(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parsePrivateKey(text);
  } catch (cause) {
    throw ESEAL_ERR_CRYPTO_KEY_FILE(
      `${path} is not a usable SM2 private key (${(cause as Error).message}); restore it from a backup ` +
        '(a new key means configuring its public key on every edge again)',
      { cause },
    );
  }
}

/** Writes `data` to `path` unless a file is there already. */
async function createExclusive(path: string, data: string): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.chmod(0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, path);
    } catch (err) {
      if (errnoOf(err) === 'EEXIST') return;
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(errnoOf(err) ?? '')) throw err;
      // no hard links on this file system: check, then rename (racy only against another process)
      if ((await readKey(path)) === null) await rename(temp, path);
    }
    await fsyncDir(join(path, '..'));
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** The model-signing key pair in `dataDir`, made on first use. */
export async function loadOrCreateModelKey(dataDir: string): Promise<Sm2KeyPair> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, MODEL_KEY_FILE);
  let pair = await readKey(path);
  if (pair === null) {
    await createExclusive(path, privateKeyToPkcs8Pem(generateSm2KeyPair().privateKeyHex));
    pair = await readKey(path);
    if (pair === null) throw ESEAL_ERR_CRYPTO_KEY_FILE(`${path} vanished right after it was written`);
  }
  const pubPath = join(dataDir, MODEL_PUBLIC_KEY_FILE);
  const shown = await readFile(pubPath, 'utf8').catch(() => '');
  if (shown.trim().toLowerCase() !== pair.publicKeyHex) await writeFileDurable(pubPath, `${pair.publicKeyHex}\n`, { mode: 0o644 });
  return pair;
}
