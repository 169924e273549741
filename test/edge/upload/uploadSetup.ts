// Shared by the uploader tests: an outbox in a temp dir, an uploader with quick retries, the JSON
// log lines it wrote, and records that follow the guide.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { EVIDENCE_ENDPOINTS, formatJsonTime } from '../../../src/contract/index.ts';
import { createLogger, type Logger } from '../../../src/log.ts';
import { openOutbox, type Outbox } from '../../../edge/upload/Outbox.ts';
import { Uploader, type UploaderOptions } from '../../../edge/upload/Uploader.ts';
import { evidenceName } from '../../helpers/evidence.ts';
import { MINE } from '../../helpers/relay.ts';

export const RELAY_USER = 'mine001';
export const RELAY_PW = 'S3cret+pass/word=';

export function capturedLog(level = 'debug'): { log: Logger; lines: Record<string, unknown>[]; text: () => string } {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const destination = new Writable({
    write(chunk, _enc, cb) {
      raw += String(chunk);
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ level, destination }), lines, text: () => raw };
}

export async function openTestOutbox(t: Test, dir: string, name = 'outbox'): Promise<Outbox> {
  const outbox = await openOutbox({ dir: join(dir, name) });
  t.teardown(() => outbox.close());
  return outbox;
}

export function startUploader(
  t: Test,
  options: Partial<UploaderOptions> & Pick<UploaderOptions, 'outbox' | 'url' | 'username' | 'password' | 'log'>,
): Uploader {
  const uploader = new Uploader({ retry: { baseSeconds: 1, maxSeconds: 1 }, drainSeconds: 1, ...options });
  t.teardown(() => uploader.close());
  uploader.start();
  return uploader;
}

export const personRecord = (n: number) => ({ mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: String(n).padStart(4, '0'), time: formatJsonTime() });
export const truckRecord = (n: number) => ({ mineId: MINE, cameraId: '30', aiTypeCode: '02', outMineNumber: String(n).padStart(4, '0'), time: formatJsonTime() });
export const onlineRecord = (cameraId = '10') => ({ mineId: MINE, cameraId, alarm: 1, time: formatJsonTime() });
export const personClipName = (at = Date.now()) => evidenceName(EVIDENCE_ENDPOINTS.personVideo, MINE, at);
