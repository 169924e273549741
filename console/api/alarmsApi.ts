// 报警管理 as JSON: every mine's day against the thresholds (default and per mine), suspected illegal
// production of shut-down mines, and a 7-day trend. Two calls to the relay whatever the number of
// mines: /admin/daily over the 7 days (every mine; past days kept by the DailyCache, so usually
// today only) and /admin/mines for their statuses.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { ConsoleInvalid } from '../errors.ts';
import { ALARM_KINDS, byMine, emptyCounts, mineAlarm, type DayCounts, type MineAlarm } from '../alarms/alarmRules.ts';
import { dailyCacheOf } from '../alarms/dailyCache.ts';
import { addDays, beijingDay, daysFrom, readDay, type DailyRow, type MineRow } from '../alarms/relayRows.ts';
import { API_ERROR, envelope, ok } from './schemas.ts';

export const TREND_DAYS = 7;
export const ALARM_SHOWS = ['all', 'alarms'] as const;
export type AlarmShow = (typeof ALARM_SHOWS)[number];

export interface TrendDay {
  day: string;
  counts: DayCounts;
  minesWithAlarms: number;
  suspected: number;
}

export interface AlarmsView {
  day: string;
  /** mines shown: suspected first, then those with alarms, then the rest, each by mine id */
  mines: MineAlarm[];
  totals: { mines: number; minesWithAlarms: number; suspected: number; counts: DayCounts };
  trend: TrendDay[];
}

const invalid = (msg: string, field: string) => ConsoleInvalid(msg, { field });

export function readAlarmsQuery(q: Record<string, unknown>, now = Date.now()): { day: string; show: AlarmShow } {
  const day = readDay(q['day'], 'day', beijingDay(now), invalid);
  const show = q['show'] === undefined || q['show'] === '' ? 'all' : q['show'];
  if (!(ALARM_SHOWS as readonly unknown[]).includes(show)) throw invalid(`show: one of ${ALARM_SHOWS.join(', ')}`, 'show');
  return { day, show: show as AlarmShow };
}

const rank = (a: MineAlarm) => (a.suspectedIllegal ? 0 : a.alarms.length ? 1 : 2);

export async function alarms(ctx: ConsoleContext, day: string, show: AlarmShow = 'all'): Promise<AlarmsView> {
  const from = addDays(day, -(TREND_DAYS - 1));
  const [daily, mines] = await Promise.all([
    dailyCacheOf(ctx).rows(from, day).then((rows) => ({ rows })),
    ctx.relay.get<{ mines: MineRow[] }>(`/admin/mines?day=${day}`),
  ]);
  const status = new Map(mines.mines.map((m) => [m.mineId, m.status]));
  const settings = ctx.store.thresholds.get();
  const thresholdsOf = (mine: string) => ({ ...settings.default, ...(settings.mines[mine] ?? {}) });
  const perDay = new Map<string, DailyRow[]>();
  for (const r of daily.rows) {
    let list = perDay.get(r.day);
    if (!list) perDay.set(r.day, (list = []));
    list.push(r);
  }
  const trend: TrendDay[] = [];
  let today: MineAlarm[] = [];
  for (const d of daysFrom(from, day)) {
    const grouped = byMine(perDay.get(d) ?? []);
    // every mine the relay knows on the day asked; on the other days, those that sent
    if (d === day) for (const m of status.keys()) if (!grouped.has(m)) grouped.set(m, []);
    const list = [...grouped].map(([m, rows]) => mineAlarm(m, status.get(m), rows, thresholdsOf(m)));
    const counts = emptyCounts();
    for (const a of list) for (const k of ALARM_KINDS) counts[k] += a.counts[k];
    trend.push({ day: d, counts, minesWithAlarms: list.filter((a) => a.alarms.length > 0 || a.suspectedIllegal).length, suspected: list.filter((a) => a.suspectedIllegal).length });
    if (d === day) today = list;
  }
  today.sort((a, b) => rank(a) - rank(b) || (a.mineId < b.mineId ? -1 : 1));
  const last = trend[trend.length - 1]!;
  return {
    day,
    mines: show === 'alarms' ? today.filter((a) => rank(a) < 2) : today,
    totals: { mines: today.length, minesWithAlarms: last.minesWithAlarms, suspected: last.suspected, counts: last.counts },
    trend,
  };
}

const Counts = Type.Object(Object.fromEntries(ALARM_KINDS.map((k) => [k, Type.Integer({ minimum: 0 })])), { description: 'persons in, trucks out, belt-running calls, empty-dispatch-room calls, occluded/moved calls' });

const MineAlarmSchema = Type.Object({
  mineId: Type.String(),
  status: Type.Optional(Type.String({ description: 'camera/mineStatus, e.g. 生产矿井 / 停产矿井' })),
  shutDown: Type.Boolean({ description: 'the status contains 停产, 停工, 停建, 关闭, 闭坑 or 关停' }),
  counts: Counts,
  thresholds: Type.Object({}, { additionalProperties: true, description: "the thresholds that apply (the mine's own over the default)" }),
  alarms: Type.Array(Type.String({ enum: [...ALARM_KINDS] }), { description: 'kinds above their threshold' }),
  suspectedIllegal: Type.Boolean({ description: '疑似违法生产: a shut-down mine with persons in, trucks out or a belt running' }),
  evidence: Type.Record(Type.String(), Type.Integer(), { description: 'endpoint → calls that day (the evidence; /items?mine=&endpoint= lists them)' }),
});

export const AlarmsQuery = Type.Object(
  {
    day: Type.Optional(Type.String({ pattern: '^(\\d{4}-\\d{2}-\\d{2})?$', description: 'a Beijing day YYYY-MM-DD; default today' })),
    show: Type.Optional(Type.String({ enum: [...ALARM_SHOWS, ''], description: 'all mines (default) or only those with an alarm' })),
  },
  { additionalProperties: false },
);

export async function alarmsApi(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get(
    '/api/alarms',
    {
      config: { role: 'viewer' },
      schema: {
        summary: '报警管理: each mine\'s day against the thresholds, suspected illegal production of shut-down mines, and the 7 days up to the day',
        tags: ['alarms'],
        querystring: AlarmsQuery,
        response: {
          200: envelope(
            Type.Object({
              day: Type.String(),
              mines: Type.Array(MineAlarmSchema),
              totals: Type.Object({ mines: Type.Integer(), minesWithAlarms: Type.Integer(), suspected: Type.Integer(), counts: Counts }),
              trend: Type.Array(Type.Object({ day: Type.String(), counts: Counts, minesWithAlarms: Type.Integer(), suspected: Type.Integer() })),
            }),
          ),
          400: API_ERROR,
          401: API_ERROR,
          502: API_ERROR,
        },
      },
    },
    async (request) => {
      const { day, show } = readAlarmsQuery(request.query as Record<string, unknown>);
      return ok(await alarms(ctx, day, show));
    },
  );
}
