// The self-test record a mine submits before the national remote test (煤矿企业自测记录): the
// acceptance result with when it was made, by whom, for which period, as JSON or as CSV (UTF-8 with a
// BOM so that a spreadsheet on an office PC reads the Chinese; cells that a spreadsheet would run as
// a formula are quoted as text).
import { LANES } from '../../src/contract/index.ts';
import { reasonText, type AcceptanceResult } from './acceptanceRules.ts';

export interface SelfTestRecord {
  kind: 'eseal-mine-self-test';
  version: 1;
  generatedAt: number;
  generatedBy: string;
  mineId: string;
  status?: string;
  mineKind: AcceptanceResult['mineKind'];
  period: { from: string; to: string; days: string[] };
  rules: { gapHours: number; budgetsSeconds: Record<string, number>; hourlyGapsChecked: boolean };
  verdict: AcceptanceResult['verdict'];
  verdictZh: '通过' | '未通过';
  reasons: string[];
  items: (Omit<AcceptanceResult['items'][number], 'reasons'> & { reasons: string[] })[];
}

export function selfTestRecord(r: AcceptanceResult, by: string, now = Date.now()): SelfTestRecord {
  return {
    kind: 'eseal-mine-self-test',
    version: 1,
    generatedAt: now,
    generatedBy: by,
    mineId: r.mineId,
    ...(r.status !== undefined ? { status: r.status } : {}),
    mineKind: r.mineKind,
    period: { from: r.from, to: r.to, days: r.days },
    rules: { gapHours: r.gapHours, budgetsSeconds: Object.fromEntries(Object.entries(LANES).map(([k, v]) => [k, v.budgetSeconds])), hourlyGapsChecked: r.hourly },
    verdict: r.verdict,
    verdictZh: r.verdict === 'pass' ? '通过' : '未通过',
    reasons: r.failing.flatMap((f) => f.reasons.map((x) => `${f.endpoint}: ${reasonText(x, 'zh')}`)),
    items: r.items.map((i) => ({ ...i, reasons: i.reasons.map((x) => reasonText(x, 'zh')) })),
  };
}

/** One CSV cell: quoted, quotes doubled, a leading = + - @ made text. */
export function csvCell(v: unknown): string {
  let s = v === undefined || v === null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

const VERDICT_ZH = { pass: '通过', fail: '未通过', none: '无数据（非必需）' } as const;
const RULE_ZH = { steady: '必需，持续', arrive: '必需', optional: '非必需' } as const;

export function selfTestCsv(rec: SelfTestRecord): string {
  const lines: unknown[][] = [
    ['煤矿企业自测记录 (mine self-test record)'],
    ['煤矿编码 mineId', rec.mineId],
    ['矿井状态 status', rec.status ?? '', rec.mineKind === 'shutDown' ? '停产停工 (5.1.1)' : '正常生产建设 (5.1.2)'],
    ['生成时间 generatedAt', new Date(rec.generatedAt + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' '), '北京时间', rec.generatedBy],
    ['周期 period', rec.period.from, rec.period.to],
    ['中断阈值(小时) gapHours', rec.rules.gapHours, rec.rules.hourlyGapsChecked ? '已按小时检查' : '仅按日检查'],
    ['总体结论 verdict', rec.verdictZh, rec.verdict],
    ['原因 reasons', rec.reasons.join('; ')],
    [],
    ['接口 endpoint', '名称', '章节', '要求', '调用次数', ...rec.period.days, '已送达', '超时', '最大延迟(秒)', '时限(秒)', '标记', '中继拒收', '平台拒收', '无数据日期', '中断', '结论', '原因'],
    ...rec.items.map((i) => [
      i.endpoint,
      i.zh,
      i.section,
      RULE_ZH[i.rule],
      i.calls,
      ...i.perDay,
      i.delivered,
      i.late,
      (i.latencyMaxMs / 1000).toFixed(1),
      i.budgetSeconds,
      i.flagged,
      i.rejected,
      i.dead,
      i.daysWithout.join(' '),
      (i.gaps ?? []).map((g) => `${g.hours}h`).join(' '),
      VERDICT_ZH[i.verdict],
      i.reasons.join('; '),
    ]),
  ];
  return '\uFEFF' + lines.map((l) => l.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
