// Evidence names and what the relay keeps on disk, for the tests of uploads.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Test } from 'tap';
import { EVIDENCE_ENDPOINTS, formatEvidenceFileName, type EvidenceEndpoint } from '../../src/contract/index.ts';
import type { GuideMine } from './mineClient.ts';

/** The camera the guide expects for each kind of evidence. */
export function usualCamera(endpoint: EvidenceEndpoint): string {
  return { personVideo: '20', truckVideo: '30', beltVideo: '10', dispatchingRoomVideo: '40', cameraCoverVideo: '10' }[endpoint.partName] ?? '10';
}

/** A file name that follows table 5-25 for `endpoint`. */
export function evidenceName(endpoint: EvidenceEndpoint, mineId: string, at = Date.now()): string {
  return formatEvidenceFileName(endpoint.fileForm, {
    mineId,
    cameraId: usualCamera(endpoint),
    aiTypeCode: endpoint.aiTypes[0]!,
    count: '0002',
    beltStatus: '0001',
    time: at,
  });
}

/** Every file under <dataDir>/blobs (committed and temporary). */
export async function blobFiles(dataDir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string) {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(dir, e.name));
      else out.push(join(dir, e.name));
    }
  }
  await walk(join(dataDir, 'blobs'));
  return out;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Sends `video` once to each of the five evidence endpoints under its table 5-25 name, asserting each is accepted; the names, in endpoint order. */
export async function uploadEveryKind(t: Test, mine: GuideMine, video: string, mineId: string): Promise<string[]> {
  const names: string[] = [];
  for (const endpoint of Object.values(EVIDENCE_ENDPOINTS)) {
    const name = evidenceName(endpoint, mineId);
    names.push(name);
    const a = await mine.upload(endpoint, video, { fileName: name });
    t.equal(a.status, 200, endpoint.id);
    t.same(a.body, { code: 0, msg: 'success', data: true });
  }
  return names;
}
