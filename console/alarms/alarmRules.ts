// 报警管理: a mine's day read against the province's thresholds (默认参数设置), and the rule for
// suspected illegal production.
//
// Rules (documented in the README's Console chapter):
// - persons in = inWellNumber summed over infoReport/person + the count(4) of fileOperator/personVideo
//   names; trucks out likewise (infoReport/truck outMineNumber + truckVideo counts); belt running =
//   belt calls (records and evidence) whose beltStatus means the belt runs (0001 开机有煤, 0002 开机无煤);
//   empty dispatch room = calls with aiTypeCode 06; occluded / moved = calls with aiTypeCode 04 or 05.
// - A count above its threshold (the mine's own, else the default) is an alarm.
// - A mine is SHUT DOWN when its status (camera/mineStatus, the relay's MineStore) contains 停产, 停工,
//   停建, 关闭, 闭坑 or 关停 (停产矿井, 停工矿井, 长期停产停建, 已关闭…); anything else, or no status, is not.
// - A shut-down mine with ANY activity that day (persons in > 0, trucks out > 0 or a belt running) is
//   疑似违法生产, whatever the thresholds: the evidence calls are linked from the page.
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS } from '../../src/contract/index.ts';
import type { Thresholds } from '../settings/thresholds.ts';
import type { DailyRow } from './relayRows.ts';

export const SHUT_DOWN_WORDS = ['停产', '停工', '停建', '关闭', '闭坑', '关停'] as const;

export function isShutDown(status: string | undefined): boolean {
  return status !== undefined && SHUT_DOWN_WORDS.some((w) => status.includes(w));
}

/** beltStatus codes of a running belt */
export const BELT_RUNNING = ['0001', '0002'] as const;

const PERSONS = [RECORD_ENDPOINTS.person.id, EVIDENCE_ENDPOINTS.personVideo.id];
const TRUCKS = [RECORD_ENDPOINTS.truck.id, EVIDENCE_ENDPOINTS.truckVideo.id];
const BELT = [RECORD_ENDPOINTS.belt.id, EVIDENCE_ENDPOINTS.beltVideo.id];
const DISPATCH = [RECORD_ENDPOINTS.dispatchingRoom.id, EVIDENCE_ENDPOINTS.dispatchingRoomVideo.id];
const COVER = [RECORD_ENDPOINTS.occlusion.id, EVIDENCE_ENDPOINTS.cameraCoverVideo.id];

/** What a mine did in a day, by alarm kind (the keys of Thresholds). */
export interface DayCounts {
  personsInPerDay: number;
  trucksOutPerDay: number;
  beltRunningPerDay: number;
  dispatchRoomEmptyPerDay: number;
  occlusionMovedPerDay: number;
}

export const ALARM_KINDS = ['personsInPerDay', 'trucksOutPerDay', 'beltRunningPerDay', 'dispatchRoomEmptyPerDay', 'occlusionMovedPerDay'] as const satisfies readonly (keyof Thresholds)[];
export type AlarmKind = (typeof ALARM_KINDS)[number];

/** the endpoints whose calls are the evidence of each kind (for the links to /items) */
export const KIND_ENDPOINTS: Record<AlarmKind, string[]> = {
  personsInPerDay: PERSONS,
  trucksOutPerDay: TRUCKS,
  beltRunningPerDay: BELT,
  dispatchRoomEmptyPerDay: DISPATCH,
  occlusionMovedPerDay: COVER,
};

export function emptyCounts(): DayCounts {
  return { personsInPerDay: 0, trucksOutPerDay: 0, beltRunningPerDay: 0, dispatchRoomEmptyPerDay: 0, occlusionMovedPerDay: 0 };
}

/** Adds one daily row of the relay into `c`. */
export function addRow(c: DayCounts, r: DailyRow): void {
  if (PERSONS.includes(r.endpoint)) c.personsInPerDay += r.sum;
  if (TRUCKS.includes(r.endpoint)) c.trucksOutPerDay += r.sum;
  if (BELT.includes(r.endpoint)) for (const code of BELT_RUNNING) c.beltRunningPerDay += r.beltStatus[code] ?? 0;
  c.dispatchRoomEmptyPerDay += r.aiTypes['06'] ?? 0;
  c.occlusionMovedPerDay += (r.aiTypes['04'] ?? 0) + (r.aiTypes['05'] ?? 0);
}

export interface MineAlarm {
  mineId: string;
  status?: string;
  shutDown: boolean;
  counts: DayCounts;
  /** what applies to this mine */
  thresholds: Thresholds;
  /** kinds above their threshold */
  alarms: AlarmKind[];
  /** a shut-down mine with persons in, trucks out or a belt running */
  suspectedIllegal: boolean;
  /** endpoint → calls that day, for the kinds that count (the evidence behind the numbers) */
  evidence: Record<string, number>;
}

/** A mine's alarms for one day from its daily rows. */
export function mineAlarm(mineId: string, status: string | undefined, rows: readonly DailyRow[], thresholds: Thresholds): MineAlarm {
  const counts = emptyCounts();
  const evidence: Record<string, number> = {};
  const counted = new Set(Object.values(KIND_ENDPOINTS).flat());
  for (const r of rows) {
    addRow(counts, r);
    if (counted.has(r.endpoint) && r.count > 0) evidence[r.endpoint] = (evidence[r.endpoint] ?? 0) + r.count;
  }
  const shutDown = isShutDown(status);
  const alarms = ALARM_KINDS.filter((k) => counts[k] > thresholds[k]);
  const suspectedIllegal = shutDown && (counts.personsInPerDay > 0 || counts.trucksOutPerDay > 0 || counts.beltRunningPerDay > 0);
  return { mineId, ...(status !== undefined ? { status } : {}), shutDown, counts, thresholds, alarms, suspectedIllegal, evidence };
}

/** Rows grouped by mine (one pass). */
export function byMine(rows: readonly DailyRow[]): Map<string, DailyRow[]> {
  const out = new Map<string, DailyRow[]>();
  for (const r of rows) {
    let list = out.get(r.mineId);
    if (!list) out.set(r.mineId, (list = []));
    list.push(r);
  }
  return out;
}
