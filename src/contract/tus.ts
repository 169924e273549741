// tus 1.0.0 as the relay speaks it, on both sides (the routes and TusClient): the path, the
// headers and their parsers. The guide asks for 断点续传 (5.3.3) and names no protocol; tus is the
// open one with clients in every language a mine integrator uses.
import { createHash, type Hash } from 'node:crypto';
import { API_PREFIX, EVIDENCE_ENDPOINTS, type EvidenceEndpoint } from './endpoints.ts';
import { TusChecksumAlgorithm, TusHeader } from './errors.ts';

export const TUS_VERSION = '1.0.0';
/** POST here creates an upload; each upload lives at TUS_PATH + id */
export const TUS_PATH = `${API_PREFIX}fileOperator/resumable/`;
/** the metrics and log label of every resumable-upload call */
export const TUS_ENDPOINT_ID = 'fileOperator/resumable';
export const TUS_EXTENSIONS = ['creation', 'checksum', 'termination', 'expiration'] as const;
export const OFFSET_OCTET_STREAM = 'application/offset+octet-stream';
/** the guide's content type of an evidence video (NATIONAL-API.md), when metadata `filetype` is absent */
export const DEFAULT_VIDEO_TYPE = 'application/mp4';

/** Upload-Checksum algorithms, by their tus names (node:crypto names them the same). */
export const CHECKSUM_ALGORITHMS = ['sha1', 'md5', 'sm3'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface UploadChecksum {
  algorithm: ChecksumAlgorithm;
  digest: Buffer;
}

/** upload ids: 128 random bits, hex */
export const UPLOAD_ID = /^[0-9a-f]{32}$/;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const METADATA_KEY = /^[\x21-\x2b\x2d-\x7e]+$/; // printable ASCII without space and comma

/** The evidence endpoint a `kind` names: its part name (personVideo) or its id (fileOperator/personVideo). */
export function evidenceEndpointOfKind(kind: string): EvidenceEndpoint | undefined {
  return Object.values(EVIDENCE_ENDPOINTS).find((e) => e.partName === kind || e.id === kind);
}

export const KIND_NAMES = Object.values(EVIDENCE_ENDPOINTS).map((e) => e.partName);

/** A whole number of bytes from a header: digits only, at most 2^53 - 1. */
export function parseByteCount(name: string, value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  const n = /^\d{1,16}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw TusHeader(`${name}: must be a whole number of bytes (digits only), got ${JSON.stringify(text.slice(0, 40))}`, { field: name });
  }
  return n;
}

/** Upload-Metadata: `key base64(value)` pairs separated by commas; a value may be absent. */
export function parseMetadata(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined || header.trim() === '') return out;
  for (const pair of header.split(',')) {
    const [key = '', value, extra] = pair.trim().split(' ');
    if (!METADATA_KEY.test(key) || extra !== undefined) {
      throw TusHeader(`Upload-Metadata: each entry is "key base64value", separated by commas; got ${JSON.stringify(pair.trim().slice(0, 60))}`, {
        field: 'Upload-Metadata',
      });
    }
    if (value !== undefined && !BASE64.test(value)) {
      throw TusHeader(`Upload-Metadata ${key}: the value must be base64, got ${JSON.stringify(value.slice(0, 60))}`, { field: `Upload-Metadata ${key}` });
    }
    if (out.has(key)) throw TusHeader(`Upload-Metadata ${key}: given twice`, { field: `Upload-Metadata ${key}` });
    out.set(key, value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8'));
  }
  return out;
}

export function formatMetadata(entries: Record<string, string>): string {
  return Object.entries(entries)
    .map(([k, v]) => `${k} ${Buffer.from(v, 'utf8').toString('base64')}`)
    .join(',');
}

/** Upload-Checksum: `<algorithm> <base64 digest>`; an unknown algorithm is 400 as the extension says. */
export function parseChecksum(header: string | undefined): UploadChecksum | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (!m) {
    throw TusHeader(`Upload-Checksum: must be "<algorithm> <base64 digest>", e.g. "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="`, { field: 'Upload-Checksum' });
  }
  const algorithm = m[1]!.toLowerCase();
  if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw TusChecksumAlgorithm(`Upload-Checksum: algorithm ${JSON.stringify(m[1])} is not supported; use one of ${CHECKSUM_ALGORITHMS.join(', ')}`, {
      field: 'Upload-Checksum',
    });
  }
  if (!BASE64.test(m[2]!)) throw TusHeader(`Upload-Checksum: the digest must be base64, got ${JSON.stringify(m[2]!.slice(0, 60))}`, { field: 'Upload-Checksum' });
  return { algorithm: algorithm as ChecksumAlgorithm, digest: Buffer.from(m[2]!, 'base64') };
}

export function createChecksumHash(algorithm: ChecksumAlgorithm): Hash {
  return createHash(algorithm);
}

/** RFC 7231 IMF-fixdate, as Upload-Expires wants it. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
