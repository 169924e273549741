// The relay's admin API for the console, as data: the rows GET /admin/daily, /admin/hourly,
// /admin/mines, /admin/items, /admin/devices and /admin/models answer. The relay writes them
// (relay/stats, relay/admin, relay/devices, relay/models) and the console reads them (console/): one
// definition for both sides, as the national API's is in endpoints.ts. Counts are kept per Beijing day
// (beijingDay.ts); an item's outcome (delivered, late, dead) is counted on the day it was received.
import type { QueueItemState } from '../store/QueueStoreTypes.ts';
import type { HeartbeatCamera, HeartbeatError, HeartbeatModel } from '../devices/heartbeat.ts';
import type { ModelBinding } from '../models/manifest.ts';

export interface DailyRow {
  day: string;
  mineId: string;
  /** endpoint id from src/contract/endpoints.ts */
  endpoint: string;
  /** calls accepted that day (a re-sent duplicate is not a second call) */
  count: number;
  /** inWellNumber / outMineNumber summed (records), or the count(4) of an evidence file name; 0 otherwise */
  sum: number;
  /** beltStatus code -> calls (belt records and belt evidence) */
  beltStatus: Record<string, number>;
  /** aiTypeCode -> calls */
  aiTypes: Record<string, number>;
  /** calls that carried at least one flag */
  flagged: number;
  /** delivered upstream; of those, later than the lane budget */
  delivered: number;
  late: number;
  /** receivedAt -> delivered */
  latencySumMs: number;
  latencyMaxMs: number;
  /** definitively rejected upstream (dead letters), once per item */
  dead: number;
  /** refused at the relay's door for this mine, when the mine id was readable */
  rejected: number;
  firstAt: number;
  lastAt: number;
}

export interface HourlyRow {
  /** ms, start of the hour */
  hour: number;
  endpoint: string;
  count: number;
  late: number;
}

export interface CameraRow {
  cameraId: string;
  lastSeenAt: number;
  /** the last camera/online-offine call: alarm 1 online (alarm cleared), 0 offline */
  online?: boolean;
  onlineChangedAt?: number;
  /** the last camera/live call's liveUrl */
  liveUrl?: string;
}

export interface MineRow {
  mineId: string;
  /** MineStore's status (e.g. 生产矿井) */
  status?: string;
  /** accounts allowed to send for this mine */
  accounts: string[];
  lastSeenAt?: number;
  cameras: CameraRow[];
  /** endpoint -> calls accepted on `day` */
  today: Record<string, number>;
  flagged: number;
  rejected: number;
  late: number;
  dead: number;
  latencyMaxMs: number;
}

export interface ItemSummary {
  seq: number;
  state: QueueItemState;
  lane: string;
  endpoint: string;
  mineId: string;
  cameraId: string;
  account: string;
  receivedAt: number;
  deliveredAt?: number;
  attempts: number;
  /** a dead letter's reason, else the last failed try's error */
  lastError?: string;
  flags: string[];
  record?: Record<string, unknown>;
  file?: { name: string; size: number; durationMs: number; codec: string; width: number; height: number };
}

/** An account's last refused call. */
export interface CallError {
  at: number;
  endpoint: string;
  code: string;
  msg: string;
}

/** A row of GET /admin/devices: an edge by its last heartbeat, or an account without one by its calls. */
export interface DeviceRow {
  account: string;
  mineIds: string[];
  deviceId?: string;
  kind: 'eseal-edge' | 'third-party';
  lastSeenAt: number;
  heartbeatAt?: number;
  intervalSeconds?: number;
  startedAt?: number;
  software?: { name: string; version: string };
  model?: HeartbeatModel | null;
  /** the model the manifest binds this device to (device > account > mine) */
  boundModel?: { name: string; version: string; sm3: string; target: string };
  cameras?: HeartbeatCamera[];
  detector?: { p50Ms: number; p95Ms: number; runs: number };
  errors?: HeartbeatError[];
  /** calls of the account (all its devices), endpoint id → count */
  calls: Record<string, number>;
  rejected: number;
  lastError?: CallError;
  addresses: string[];
  firstAt?: number;
  alerts: string[];
}

export interface ModelsView {
  manifest?: { issuedAt: number; publisher: string; models: { name: string; version: string; sm3: string; bytes: number; inputSize: number }[] };
  bindings: ModelBinding[];
}
