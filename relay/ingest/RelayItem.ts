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

/**
 * The FIFO key of the queue: per (mine, camera, kind) and per account that sent it. The guide's
 * order is the order of one device's calls; two accounts sending for one mine are two senders, each
 * with its own upstream login, so one account whose login the platform refuses (or whose backlog is
 * long) never holds up another's items. The account goes last, after a colon: usernames hold no
 * colon, so keys of different accounts never meet.
 */
export function queueKey(item: Pick<RelayItem, 'mineId' | 'cameraId' | 'endpoint' | 'account'>): string {
  return `${legacyQueueKey(item)}:${item.account}`;
}

/** The key of relays before per-account FIFO: items queued by them carry it until the upgrade (relay/forward/queueKeys.ts). */
export function legacyQueueKey(item: Pick<RelayItem, 'mineId' | 'cameraId' | 'endpoint'>): string {
  return `${item.mineId}/${item.cameraId}/${item.endpoint}`;
}
