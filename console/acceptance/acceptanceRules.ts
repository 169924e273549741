// 煤矿企业自测: has every data item a mine must send arrived, steadily, in time, clean, over the last
// seven days? The rules (documented in the README's Console chapter):
// - Required of every mine (5.1.1 表5-1 items 6-7, 5.1.2 表5-9 items 6-7): camera/online-offine, sent
//   every 5 minutes, so it must arrive on every day of the period and, on a mine's page, with no gap
//   longer than N hours (gapHours, default 2); camera/live, sent when it changes, must have arrived
//   (in the period, or a camera's live URL is known).
// - Required of a producing mine (正常生产建设, 5.1.2 表5-9 items 1-3): infoReport/person, infoReport/truck
//   and infoReport/belt, at least once in the period. Empty dispatch room and occlusion/moved are
//   reported only when they happen: never required.
// - A shut-down mine (停产停工, 5.1.1) sends evidence only when something happens (which is itself
//   suspected illegal production): none is required.
// - Every item, required or not, fails on calls delivered later than its budget (30 s records and
//   camera status, 300 s evidence), on flagged calls, on calls the relay refused, and on dead letters.
// - The mine passes (通过) when no item fails; otherwise 未通过, with every reason.
import { DATA_ENDPOINTS, LANES, RECORD_ENDPOINTS, type EvidenceEndpoint, type RecordEndpoint } from '../../src/contract/index.ts';
import { isShutDown } from '../alarms/alarmRules.ts';
import { HOUR_MS, daysFrom, type DailyRow, type HourlyRow, type MineRow } from '../alarms/relayRows.ts';

export const ACCEPTANCE_DAYS = 7;
export const DEFAULT_GAP_HOURS = 2;
export const MAX_GAP_HOURS = 72;

export type ItemRule = 'steady' | 'arrive' | 'optional';
export type Verdict = 'pass' | 'fail' | 'none';

export interface Reason {
  /** missing: no call; daysWithout: days of the period without a call; gaps: hours without a call;
   *  late: delivered after the budget; flagged; rejected: refused by the relay; dead: refused upstream */
  code: 'missing' | 'daysWithout' | 'gaps' | 'late' | 'flagged' | 'rejected' | 'dead';
  n: number;
  /** the days, the gaps, or the max latency, as text */
  detail?: string;
}

export interface Gap {
  from: number;
  /** exclusive; `now` for a gap still open */
  to: number;
  hours: number;
}

export interface AcceptanceItem {
  endpoint: string;
  zh: string;
  section: string;
  budgetSeconds: number;
  rule: ItemRule;
  /** calls per day of the period */
  perDay: number[];
  calls: number;
  delivered: number;
  late: number;
  latencyMaxMs: number;
  flagged: number;
  rejected: number;
  dead: number;
  daysWithout: string[];
  /** hourly gaps longer than gapHours (the mine's page only: one /admin/hourly call per mine) */
  gaps?: Gap[];
  verdict: Verdict;
  reasons: Reason[];
}

export interface AcceptanceResult {
  mineId: string;
  status?: string;
  mineKind: 'producing' | 'shutDown';
  from: string;
  to: string;
  days: string[];
  gapHours: number;
  /** whether hourly gaps were looked at */
  hourly: boolean;
  items: AcceptanceItem[];
  verdict: 'pass' | 'fail';
  /** "endpoint: reason" of every failing item */
  failing: { endpoint: string; reasons: Reason[] }[];
}

const BOTH_STEADY = RECORD_ENDPOINTS.cameraOnline.id;
const BOTH_ARRIVE = RECORD_ENDPOINTS.cameraLive.id;
const PRODUCING_ARRIVE = [RECORD_ENDPOINTS.person.id, RECORD_ENDPOINTS.truck.id, RECORD_ENDPOINTS.belt.id];

export function ruleOf(endpoint: string, shutDown: boolean): ItemRule {
  if (endpoint === BOTH_STEADY) return 'steady';
  if (endpoint === BOTH_ARRIVE) return 'arrive';
  if (!shutDown && PRODUCING_ARRIVE.includes(endpoint)) return 'arrive';
  return 'optional';
}

/** Runs of hours without a call longer than `gapHours`, from `fromMs` to `nowMs` (the hour under way counts only once it has a call). */
export function hourlyGaps(rows: readonly HourlyRow[], endpoint: string, fromMs: number, toMs: number, nowMs: number, gapHours: number): Gap[] {
  const seen = new Set(rows.filter((r) => r.endpoint === endpoint && r.count > 0).map((r) => r.hour));
  const end = Math.min(toMs, Math.floor(nowMs / HOUR_MS) * HOUR_MS);
  const gaps: Gap[] = [];
  let runStart: number | undefined;
  const close = (at: number) => {
    if (runStart !== undefined) {
      const hours = Math.round((at - runStart) / HOUR_MS);
      if (hours > gapHours) gaps.push({ from: runStart, to: at, hours });
      runStart = undefined;
    }
  };
  for (let h = fromMs; h < end; h += HOUR_MS) {
    if (seen.has(h)) close(h);
    else runStart ??= h;
  }
  // a run reaching the hour under way: open until a call comes
  close(end);
  return gaps;
}

export interface AcceptanceInput {
  mine: Pick<MineRow, 'mineId' | 'status' | 'cameras'>;
  /** the mine's daily rows over the period */
  rows: readonly DailyRow[];
  from: string;
  to: string;
  gapHours: number;
  /** the mine's hourly rows over the period, when looked at */
  hourly?: { rows: readonly HourlyRow[]; fromMs: number; toMs: number; nowMs: number };
  /** days after this one (today) are not yet: no call is due on them */
  today: string;
}

export function assess(input: AcceptanceInput): AcceptanceResult {
  const shutDown = isShutDown(input.mine.status);
  const days = daysFrom(input.from, input.to);
  const due = days.filter((d) => d <= input.today);
  const items: AcceptanceItem[] = [];
  for (const e of DATA_ENDPOINTS as readonly (EvidenceEndpoint | RecordEndpoint)[]) {
    const rows = input.rows.filter((r) => r.endpoint === e.id);
    const perDay = days.map((d) => rows.filter((r) => r.day === d).reduce((a, r) => a + r.count, 0));
    const sum = (k: 'count' | 'delivered' | 'late' | 'flagged' | 'rejected' | 'dead') => rows.reduce((a, r) => a + r[k], 0);
    const rule = ruleOf(e.id, shutDown);
    const budgetSeconds = LANES[e.lane].budgetSeconds;
    const item: AcceptanceItem = {
      endpoint: e.id,
      zh: e.zh,
      section: e.section,
      budgetSeconds,
      rule,
      perDay,
      calls: sum('count'),
      delivered: sum('delivered'),
      late: sum('late'),
      latencyMaxMs: rows.reduce((a, r) => Math.max(a, r.latencyMaxMs), 0),
      flagged: sum('flagged'),
      rejected: sum('rejected'),
      dead: sum('dead'),
      daysWithout: rule === 'steady' ? due.filter((d) => perDay[days.indexOf(d)] === 0) : [],
      verdict: 'pass',
      reasons: [],
    };
    const r = item.reasons;
    const liveKnown = e.id === BOTH_ARRIVE && input.mine.cameras.some((c) => c.liveUrl !== undefined);
    if (rule !== 'optional' && item.calls === 0 && !liveKnown) r.push({ code: 'missing', n: 0 });
    else if (item.daysWithout.length) r.push({ code: 'daysWithout', n: item.daysWithout.length, detail: item.daysWithout.join(' ') });
    if (rule === 'steady' && input.hourly) {
      item.gaps = hourlyGaps(input.hourly.rows, e.id, input.hourly.fromMs, input.hourly.toMs, input.hourly.nowMs, input.gapHours);
      if (item.gaps.length) r.push({ code: 'gaps', n: item.gaps.length, detail: item.gaps.map((g) => `${g.hours}h`).join(' ') });
    }
    if (item.late) r.push({ code: 'late', n: item.late, detail: `${(item.latencyMaxMs / 1000).toFixed(1)}s > ${budgetSeconds}s` });
    if (item.flagged) r.push({ code: 'flagged', n: item.flagged });
    if (item.rejected) r.push({ code: 'rejected', n: item.rejected });
    if (item.dead) r.push({ code: 'dead', n: item.dead });
    item.verdict = r.length ? 'fail' : rule === 'optional' && item.calls === 0 ? 'none' : 'pass';
    items.push(item);
  }
  const failing = items.filter((i) => i.verdict === 'fail').map((i) => ({ endpoint: i.endpoint, reasons: i.reasons }));
  return {
    mineId: input.mine.mineId,
    ...(input.mine.status !== undefined ? { status: input.mine.status } : {}),
    mineKind: shutDown ? 'shutDown' : 'producing',
    from: input.from,
    to: input.to,
    days,
    gapHours: input.gapHours,
    hourly: input.hourly !== undefined,
    items,
    verdict: failing.length ? 'fail' : 'pass',
    failing,
  };
}

const REASON_WORDS: Record<Reason['code'], [string, string]> = {
  missing: ['未收到', 'never arrived'],
  daysWithout: ['无数据的日期', 'days without a call'],
  gaps: ['中断超过阈值', 'gaps longer than allowed'],
  late: ['超时送达', 'delivered late'],
  flagged: ['带标记', 'flagged'],
  rejected: ['被中继拒收', 'refused by the relay'],
  dead: ['被国家平台拒收', 'refused by the national platform'],
};

export function reasonText(r: Reason, lang: 'zh' | 'en'): string {
  const w = REASON_WORDS[r.code][lang === 'en' ? 1 : 0];
  if (r.code === 'missing') return w;
  return `${w} ${r.n}${r.detail ? ` (${r.detail})` : ''}`;
}
