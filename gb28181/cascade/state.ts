// The cascade's state per upper platform, written by the running bridge to
// dataDir/gb28181/cascade-state.json (replaced whole, so a reader never sees half of it) and read by
// `eseal gb28181 cascade`, which runs in another process.
import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface UpperState {
  id: string;
  domain: string;
  /** host:port */
  address: string;
  transport: 'udp' | 'tcp';
  /** the id we registered as */
  localId: string;
  registered: boolean;
  registeredAt: number;
  expiresAt: number;
  /** successful REGISTERs since the bridge started */
  registrations: number;
  lastKeepaliveAt: number;
  lastKeepaliveOk: boolean;
  /** keepalives in a row without an answer */
  keepaliveFailures: number;
  lastError: string;
  lastErrorCode: string;
  lastErrorAt: number;
  /** streams the platform is playing now */
  streams: number;
}

export interface CascadeStateFile {
  writtenAt: number;
  platforms: UpperState[];
}

/** A platform's state before its first REGISTER. */
export function initialState(e: { id: string; domain: string; host: string; port: number; transport: 'udp' | 'tcp' }, localId: string, lastError = ''): UpperState {
  return {
    id: e.id,
    domain: e.domain,
    address: `${e.host}:${e.port}`,
    transport: e.transport,
    localId,
    registered: false,
    registeredAt: 0,
    expiresAt: 0,
    registrations: 0,
    lastKeepaliveAt: 0,
    lastKeepaliveOk: false,
    keepaliveFailures: 0,
    lastError,
    lastErrorCode: '',
    lastErrorAt: 0,
    streams: 0,
  };
}

export const STATE_FILE = 'cascade-state.json';

export async function writeState(dir: string, platforms: UpperState[]): Promise<void> {
  const path = join(dir, STATE_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ writtenAt: Date.now(), platforms } satisfies CascadeStateFile, null, 1));
  await rename(tmp, path);
}

/** The last state written; undefined when the bridge never ran a cascade here or the file is unreadable. */
export function readState(dir: string): CascadeStateFile | undefined {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as CascadeStateFile;
    return Array.isArray(v?.platforms) ? v : undefined;
  } catch {
    return undefined;
  }
}
