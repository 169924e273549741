// The shapes of the console's aggregates, as the admin API gives them (console-spec.md, "New relay
// admin endpoints"). Counts are kept per Beijing day (relay/stats/beijingDay.ts); an item's
// outcome (delivered, late, dead) is counted on the day it was received.

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
