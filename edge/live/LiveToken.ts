// The secret path segment of a camera's liveUrl. The national platform opens liveUrl without
// credentials, so the URL is the credential: 192 random bits (32 URL-safe characters, well above the
// 128 asked for, and short enough for the guide's 200-character liveUrl), one per camera, kept in
// `<dataDir>/edge/live/<camera>.token` (0600) so the liveUrl the platform holds stays valid across
// restarts. Deleting the file makes a new token (and a new liveUrl, reported at the next start).
import { mkdir, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFileDurable } from '../../src/store/fsync.ts';
import { LiveToken } from './errors.ts';

export const LIVE_TOKEN_BYTES = 24;
/** what a token looks like: base64url, at least 128 bits */
export const LIVE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;

export function newLiveToken(): string {
  return randomBytes(LIVE_TOKEN_BYTES).toString('base64url');
}

/** The camera's token, made (and fsynced) on first use; a damaged file is an error, never silently replaced. */
export async function loadOrCreateLiveToken(edgeDir: string, camera: string): Promise<string> {
  const dir = join(edgeDir, 'live');
  const path = join(dir, `${camera}.token`);
  let text: string | undefined;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw LiveToken(`${path}: cannot be read: ${(err as Error).message}`, { cause: err, field: 'token' });
  }
  if (text !== undefined) {
    if (!LIVE_TOKEN_PATTERN.test(text)) {
      throw LiveToken(`${path} does not hold a live stream token (22–64 URL-safe characters): delete it and a new one is made (the camera's liveUrl changes)`, { field: 'token' });
    }
    return text;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const token = newLiveToken();
  await writeFileDurable(path, token + '\n', { mode: 0o600 });
  return token;
}
