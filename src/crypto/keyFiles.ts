// The relay's own keys in its data directory:
//   sm2.key           current SM2 private key, PKCS#8 PEM, 0600 (the source of truth)
//   sm2.pub           its public key, hex 04‖x‖y (rewritten from sm2.key when missing or stale)
//   sm2.previous.key  the key before the last rotation, 0600, so clients that still hold the old
//                     public key can log in until they fetch /sm2 again
//   secret.key        the SM4 at-rest key, 64 hex characters, 0600
// A key's createdAt is its file's mtime: each key file is written once, renames keep the mtime,
// and a rotation copies the retiring key to sm2.previous.key with its original mtime.
//
// Every write goes to a temporary file in the same directory, is fsynced, renamed (or hard-linked
// when the file must not already exist, so two processes starting at once agree on one key), and
// the directory is fsynced. Rotation writes sm2.previous.key before sm2.key, so a crash at any point
// leaves a ring that still decrypts everything clients may hold.

import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ESEAL_ERR_CRYPTO_KEY_FILE } from './errors.ts';
import { generateSm2KeyPair, parsePrivateKey, privateKeyToPkcs8Pem } from './sm2.ts';
import { newSecretKey, SECRET_KEY_BYTES } from './sm4.ts';

export const SM2_KEY_FILE = 'sm2.key';
export const SM2_PUBLIC_KEY_FILE = 'sm2.pub';
export const SM2_PREVIOUS_KEY_FILE = 'sm2.previous.key';
export const SECRET_KEY_FILE = 'secret.key';

const PRIVATE_MODE = 0o600;
const PUBLIC_MODE = 0o644;

export interface Sm2KeyRecord {
  publicKeyHex: string;
  privateKeyHex: string;
  createdAt: Date;
}

export interface Sm2KeyRing {
  current: Sm2KeyRecord;
  /** the key before the last rotation, still accepted for decryption */
  previous?: Sm2KeyRecord;
}

/** The private keys of a ring in the order sm2DecryptAny should try them. */
export function ringPrivateKeys(ring: Sm2KeyRing): string[] {
  return ring.previous === undefined
    ? [ring.current.privateKeyHex]
    : [ring.current.privateKeyHex, ring.previous.privateKeyHex];
}

// ---------------------------------------------------------------------------------------------
// Durable writes

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Some platforms and file systems cannot open or fsync a directory; the rename is still atomic.
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP'].includes(errno(err) ?? '')) throw err;
  } finally {
    await handle?.close();
  }
}

interface DurableWrite {
  mode: number;
  /** keep this modification time on the new file */
  mtime?: Date;
  /** fail (return false) instead of replacing an existing file */
  exclusive?: boolean;
}

/** Writes `path` atomically and durably; false when `exclusive` and the file already existed. */
async function writeDurably(path: string, data: string | Buffer, options: DurableWrite): Promise<boolean> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', options.mode);
  try {
    try {
      await handle.writeFile(data);
      await handle.chmod(options.mode); // the umask may have narrowed it; never widened
      if (options.mtime !== undefined) await handle.utimes(options.mtime, options.mtime);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive === true) {
      try {
        await link(temp, path);
      } catch (err) {
        if (errno(err) === 'EEXIST') return false;
        if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(errno(err) ?? '')) throw err;
        // No hard links here: fall back to check-then-rename, racy only against another process.
        if (await exists(path)) return false;
        await rename(temp, path);
      }
    } else {
      await rename(temp, path);
    }
    await fsyncDirectory(dir);
    return true;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errno(err) === 'ENOENT') return false;
    throw err;
  }
}

async function readIfExists(path: string): Promise<{ text: string; mtime: Date } | null> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    // A private key readable by others was copied in carelessly: narrow it, best effort.
    if ((st.mode & 0o077) !== 0 && path.endsWith('.key')) await chmod(path, PRIVATE_MODE).catch(() => undefined);
    return { text, mtime: st.mtime };
  } catch (err) {
    if (errno(err) === 'ENOENT') return null;
    throw ESEAL_ERR_CRYPTO_KEY_FILE(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

async function ensureDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw ESEAL_ERR_CRYPTO_KEY_FILE(`cannot create the data directory ${dataDir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// SM2 key ring

async function readSm2Key(path: string): Promise<Sm2KeyRecord | null> {
  const file = await readIfExists(path);
  if (file === null) return null;
  try {
    return { ...parsePrivateKey(file.text), createdAt: file.mtime };
  } catch (cause) {
    // Never replace a key that exists but does not parse: every client holds its public key.
    throw ESEAL_ERR_CRYPTO_KEY_FILE(
      `${path} is not a usable SM2 private key (${(cause as Error).message}); restore it from a backup, ` +
        'or move it away to make a new key (clients must then fetch /sm2 again)',
      { cause },
    );
  }
}

async function syncPublicKeyFile(dataDir: string, publicKeyHex: string): Promise<void> {
  const path = join(dataDir, SM2_PUBLIC_KEY_FILE);
  const file = await readIfExists(path);
  if (file?.text.trim().toLowerCase() !== publicKeyHex) {
    await writeDurably(path, `${publicKeyHex}\n`, { mode: PUBLIC_MODE });
  }
}

async function readRing(dataDir: string, current: Sm2KeyRecord): Promise<Sm2KeyRing> {
  const previous = await readSm2Key(join(dataDir, SM2_PREVIOUS_KEY_FILE));
  // A crash inside a rotation can leave previous equal to current: that is no previous key.
  return previous === null || previous.privateKeyHex === current.privateKeyHex ? { current } : { current, previous };
}

/** Reads the SM2 key ring from `dataDir`, making the key on first start. */
export async function loadOrCreateSm2KeyPair(dataDir: string): Promise<Sm2KeyRing> {
  await ensureDir(dataDir);
  const keyPath = join(dataDir, SM2_KEY_FILE);
  let current = await readSm2Key(keyPath);
  if (current === null) {
    const pair = generateSm2KeyPair();
    await writeDurably(keyPath, privateKeyToPkcs8Pem(pair.privateKeyHex), { mode: PRIVATE_MODE, exclusive: true });
    // Whether ours or a concurrent starter's won, the file now holds the key.
    current = await readSm2Key(keyPath);
    if (current === null) throw ESEAL_ERR_CRYPTO_KEY_FILE(`${keyPath} vanished right after it was written`);
  }
  await syncPublicKeyFile(dataDir, current.publicKeyHex);
  return readRing(dataDir, current);
}

/**
 * Makes a new current SM2 key and keeps the current one as the previous key (the one before is
 * dropped). Clients must fetch /sm2 again; until they do, their old ciphertexts still decrypt.
 */
export async function rotateSm2KeyPair(dataDir: string): Promise<Sm2KeyRing> {
  const old = (await loadOrCreateSm2KeyPair(dataDir)).current;
  const pair = generateSm2KeyPair();
  await writeDurably(join(dataDir, SM2_PREVIOUS_KEY_FILE), privateKeyToPkcs8Pem(old.privateKeyHex), {
    mode: PRIVATE_MODE,
    mtime: old.createdAt,
  });
  await writeDurably(join(dataDir, SM2_KEY_FILE), privateKeyToPkcs8Pem(pair.privateKeyHex), { mode: PRIVATE_MODE });
  return loadOrCreateSm2KeyPair(dataDir);
}

/** Stops accepting the previous SM2 key (once every client has fetched the new public key). */
export async function forgetPreviousSm2Key(dataDir: string): Promise<void> {
  try {
    await unlink(join(dataDir, SM2_PREVIOUS_KEY_FILE));
  } catch (err) {
    if (errno(err) === 'ENOENT') return;
    throw err;
  }
  await fsyncDirectory(dataDir);
}

// ---------------------------------------------------------------------------------------------
// SM4 at-rest key

function parseSecretKey(path: string, text: string): Buffer {
  const hex = text.trim();
  if (!new RegExp(`^[0-9a-fA-F]{${2 * SECRET_KEY_BYTES}}$`).test(hex)) {
    throw ESEAL_ERR_CRYPTO_KEY_FILE(
      `${path} must hold ${2 * SECRET_KEY_BYTES} hex characters; restore it from a backup ` +
        '(secrets sealed with it cannot be opened without it)',
    );
  }
  return Buffer.from(hex, 'hex');
}

/** Reads the 32-byte SM4 at-rest key from `dataDir`, making it on first start. */
export async function loadOrCreateSecretKey(dataDir: string): Promise<Buffer> {
  await ensureDir(dataDir);
  const path = join(dataDir, SECRET_KEY_FILE);
  const existing = await readIfExists(path);
  if (existing !== null) return parseSecretKey(path, existing.text);
  await writeDurably(path, `${newSecretKey().toString('hex')}\n`, { mode: PRIVATE_MODE, exclusive: true });
  const written = await readIfExists(path);
  if (written === null) throw ESEAL_ERR_CRYPTO_KEY_FILE(`${path} vanished right after it was written`);
  return parseSecretKey(path, written.text);
}
