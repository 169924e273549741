// Types of the edge outbox (Outbox.ts): its options, its entries as callers see them, its counters.
import type { Logger } from '../../src/log.ts';
import type { EvidenceEndpoint, Lane, RecordEndpoint } from '../../src/contract/index.ts';

export interface OutboxOptions {
  /**
   * the outbox's own directory (e.g. `<dataDir>/edge/outbox`): the queue's LMDB in `queue/`, the
   * clips in `blobs/` (an outbox of the pre-release format, `db/` and `clips/`, is not read)
   */
  dir: string;
  /** most entries kept, pending and dead letters together (default 200,000) */
  maxItems?: number;
  /** most bytes kept (clip sizes plus record JSON), pending and dead letters together (default 8 GiB) */
  maxBytes?: number;
  /** where dropped evidence is reported (error level); default: a silent logger */
  log?: Logger;
  /** clock, ms since epoch (retry times, addedAt) */
  clock?: () => number;
}

export type OutboxEntryState = 'pending' | 'dead';

interface EntryBase {
  /** stable for the life of the entry, also across restarts */
  id: string;
  lane: Lane;
  /** ms since epoch */
  addedAt: number;
  /** clip size, or the record's JSON length */
  bytes: number;
  /** send attempts that ended without delivery so far (failed, or refused for a dead letter) */
  attempts: number;
  /** not handed out by next() before this time (ms since epoch; 0 = at once) */
  retryAt: number;
  lastError?: string;
  state: OutboxEntryState;
  deadReason?: string;
  deadAt?: number;
}

export interface RecordEntry extends EntryBase {
  kind: 'record';
  endpoint: RecordEndpoint;
  body: Record<string, string | number>;
}

export interface EvidenceEntry extends EntryBase {
  kind: 'evidence';
  endpoint: EvidenceEndpoint;
  /** the guide's file name (table 5-25) */
  fileName: string;
  /** the clip, inside the outbox folder (identical clips share one file) */
  path: string;
  /** the clip's SM3 address (lower-case hex): what its bytes must hash to */
  blob: string;
  /** a resumable (tus) upload already started for this clip (its path on the server): the next attempt resumes it */
  uploadUrl?: string;
  /** the clip was found not to be what was staged: set aside as a dead letter (ESEAL_ERR_STORE_CORRUPT) */
  corrupt?: CorruptMark;
}

/** Why a clip was set aside as corrupt, and where its file is. */
export interface CorruptMark {
  /** ESEAL_ERR_STORE_CORRUPT */
  code: string;
  reason: string;
  /** the bad file (in the outbox's blobs/, or quarantine/ once `eseal edge verify --repair` moved it) */
  path: string;
  /** ms since epoch */
  at: number;
}

export type OutboxEntry = RecordEntry | EvidenceEntry;

export interface OutboxStats {
  /** entries waiting to be sent (in flight included) */
  pending: number;
  pendingByLane: Record<Lane, number>;
  /** entries handed out by next() and not yet settled */
  inFlight: number;
  dead: number;
  /** bytes of pending entries and dead letters */
  bytes: number;
  /** evidence dropped to stay within the limits since open */
  dropped: number;
  /** dead letters set aside because their clip is corrupt (ESEAL_ERR_STORE_CORRUPT) */
  corrupt: number;
  maxItems: number;
  maxBytes: number;
}

export interface AddEvidenceOptions {
  /** copy the clip and leave the source in place (default: move it, copying only across file systems) */
  keepSource?: boolean;
}
