// What the relay keeps for each accepted call: enough to forward it upstream exactly as the mine
// sent it (after normalisation), and to show an operator where it came from and what was odd.
import type { Flag, NormalisedRecord } from '../../src/contract/index.ts';

export interface EvidenceFile {
  /** the file name as sent (and as forwarded) */
  name: string;
  /** blob id: SM3 of the bytes */
  blob: string;
  size: number;
  durationMs: number;
  /** video sample entry, e.g. avc1 */
  codec: string;
  width: number;
  height: number;
  /** the part's declared content type */
  contentType: string;
}

export interface RelayItem {
  v: 1;
  /** endpoint id (src/contract/endpoints.ts) */
  endpoint: string;
  account: string;
  mineId: string;
  cameraId: string;
  /** ms since epoch, relay clock */
  receivedAt: number;
  requestId: string;
  /** source address of the mine */
  from: string;
  flags: Flag[];
  /** JSON calls: the guide's fields, normalised, in the guide's order */
  record?: NormalisedRecord;
  /** evidence calls */
  file?: EvidenceFile;
}

/** Per (mine, camera, kind) FIFO key of the queue. */
export function queueKey(item: Pick<RelayItem, 'mineId' | 'cameraId' | 'endpoint'>): string {
  return `${item.mineId}/${item.cameraId}/${item.endpoint}`;
}
