// The viewer's secret: a random token made once at dataDir/gb28181/view.token (mode 0600), in every
// play URL (`eseal gb28181 play`), checked by the viewer. Its place is in src/contract, where the
// edge module reads it from too (gb28181:// cameras on the same server). The admin secret,
// dataDir/gb28181/admin.token, the same way: the Bearer token of the viewer listener's /api/
// (`eseal gb28181 catalog`), kept apart from the view token because play URLs are handed to people
// who only watch.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { GB28181_VIEW_TOKEN, gbAdminTokenFile, gbDataDir, gbViewBaseUrl, gbViewTokenFile } from '../src/contract/gb28181.ts';

export { gbDataDir };

/** Reads the view token, creating it first when there is none. */
export function loadOrCreateViewToken(dataDir: string): string {
  return loadOrCreateToken(dataDir, gbViewTokenFile(dataDir));
}

export const ADMIN_TOKEN_FILE = 'admin.token';

/** Reads the admin token, creating it first when there is none (the running bridge does). */
export function loadOrCreateAdminToken(dataDir: string): string {
  return loadOrCreateToken(dataDir, gbAdminTokenFile(dataDir));
}

function loadOrCreateToken(dataDir: string, file: string): string {
  try {
    const t = readFileSync(file, 'utf8').trim();
    if (GB28181_VIEW_TOKEN.test(t)) return t;
  } catch {
    /* made below */
  }
  mkdirSync(gbDataDir(dataDir), { recursive: true, mode: 0o700 });
  const token = randomBytes(24).toString('base64url');
  try {
    writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
    return token;
  } catch {
    // another process made it meanwhile: take theirs
    return readFileSync(file, 'utf8').trim();
  }
}

/** The URL that plays a channel in the bridge's viewer. */
export function playUrl(httpListen: string, token: string, deviceId: string, channelId: string): string {
  return `${gbViewBaseUrl(httpListen)}/play/${deviceId}/${channelId}?token=${encodeURIComponent(token)}`;
}
