// Small helpers for writes that must survive power loss. A rename is only durable once the
// directory holding the new name is fsynced; a file's bytes only once the file itself is.

import { randomBytes } from 'node:crypto';
import { open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoOf, wrapStoreError } from './errors.ts';

/** Makes the entries of directory `path` (created, renamed, removed names) durable. */
export async function fsyncDir(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw wrapStoreError(err, 'opening a directory to fsync it', path);
  }
  try {
    await handle.sync();
  } catch (err) {
    // Some file systems (and some network mounts) refuse fsync on a directory; nothing more can
    // be done there, and refusing every write because of it would be worse.
    const code = errnoOf(err);
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR') {
      throw wrapStoreError(err, 'fsyncing a directory', path);
    }
  } finally {
    await handle.close();
  }
}

export interface WriteFileDurableOptions {
  /** permission bits of the file (default 0o644; 0o600 for secrets) */
  mode?: number;
}

/**
 * Replaces `path` with `data` so that after a crash the file holds either the old or the new
 * content, never a mix: temp file in the same directory, write, fsync, rename, fsync directory.
 * For small files (keys, tokens, config); blobs go through the blob store's streams.
 */
export async function writeFileDurable(
  path: string,
  data: string | Uint8Array,
  options: WriteFileDurableOptions = {},
): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = options.mode ?? 0o644;
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      // `mode` is filtered by the umask at creation; a secret must not end up wider than asked.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => {});
    throw wrapStoreError(err, 'writing a file durably', path);
  }
  await fsyncDir(dir);
}

/** Removes a file and fsyncs its directory. Resolves false when there was nothing to remove. */
export async function removeDurable(path: string): Promise<boolean> {
  try {
    await unlink(path);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw wrapStoreError(err, 'removing a file', path);
  }
  await fsyncDir(dirname(path));
  return true;
}
