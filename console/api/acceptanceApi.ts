// 企业自测 as JSON: every mine's last seven days against the acceptance rules (one /admin/daily call
// for all mines), one mine's in full (with its hourly gaps), and its self-test record as JSON or CSV
// (each export audited).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { ConsoleInvalid, ConsoleNotFound } from '../errors.ts';
import { ACCEPTANCE_DAYS, DEFAULT_GAP_HOURS, MAX_GAP_HOURS, assess, type AcceptanceResult, type Reason } from '../acceptance/acceptanceRules.ts';
import { selfTestCsv, selfTestRecord, type SelfTestRecord } from '../acceptance/selfTestRecord.ts';
import { byMine } from '../alarms/alarmRules.ts';
import { dailyCacheOf } from '../alarms/dailyCache.ts';
import { DAY_MS, addDays, beijingDay, dayStart, readDay, type DailyRow, type HourlyRow, type MineRow } from '../alarms/relayRows.ts';
import { checkMineParam } from './minesApi.ts';
import { API_ERROR, Passed, envelope, ok } from './schemas.ts';

export interface AcceptanceQuery {
  /** the last day of the period (default today); the period is the 7 days up to it */
  to: string;
  gapHours: number;
}

const invalid = (msg: string, field: string) => ConsoleInvalid(msg, { field });

export function readAcceptanceQuery(q: Record<string, unknown>, now = Date.now()): AcceptanceQuery {
  const to = readDay(q['to'], 'to', beijingDay(now), invalid);
  const raw = q['gapHours'];
  let gapHours = DEFAULT_GAP_HOURS;
  if (raw !== undefined && raw !== '') {
    gapHours = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(gapHours) || gapHours < 1 || gapHours > MAX_GAP_HOURS) throw invalid(`gapHours: a whole number of hours from 1 to ${MAX_GAP_HOURS}`, 'gapHours');
  }
  return { to, gapHours };
}

export interface AcceptanceListRow {
  mineId: string;
  status?: string;
  mineKind: AcceptanceResult['mineKind'];
  verdict: AcceptanceResult['verdict'];
  failing: AcceptanceResult['failing'];
  calls: number;
}

export interface AcceptanceList {
  from: string;
  to: string;
  gapHours: number;
  passed: number;
  failed: number;
  mines: AcceptanceListRow[];
}

export async function acceptanceList(ctx: ConsoleContext, q: AcceptanceQuery, now = Date.now()): Promise<AcceptanceList> {
  const from = addDays(q.to, -(ACCEPTANCE_DAYS - 1));
  const [daily, mines] = await Promise.all([
    dailyCacheOf(ctx).rows(from, q.to).then((rows) => ({ rows })),
    ctx.relay.get<{ mines: MineRow[] }>(`/admin/mines?day=${q.to}`),
  ]);
  const grouped = byMine(daily.rows);
  const today = beijingDay(now);
  const out: AcceptanceListRow[] = mines.mines.map((m) => {
    const r = assess({ mine: m, rows: grouped.get(m.mineId) ?? [], from, to: q.to, gapHours: q.gapHours, today });
    return {
      mineId: m.mineId,
      ...(m.status !== undefined ? { status: m.status } : {}),
      mineKind: r.mineKind,
      verdict: r.verdict,
      failing: r.failing,
      calls: r.items.reduce((a, i) => a + i.calls, 0),
    };
  });
  const passed = out.filter((m) => m.verdict === 'pass').length;
  return { from, to: q.to, gapHours: q.gapHours, passed, failed: out.length - passed, mines: out };
}

export async function acceptanceOf(ctx: ConsoleContext, mineId: string, q: AcceptanceQuery, now = Date.now()): Promise<AcceptanceResult> {
  const from = addDays(q.to, -(ACCEPTANCE_DAYS - 1));
  const [mines, daily, hourly] = await Promise.all([
    ctx.relay.get<{ mines: MineRow[] }>(`/admin/mines?day=${q.to}`),
    ctx.relay.get<{ rows: DailyRow[] }>(`/admin/daily?mine=${mineId}&from=${from}&to=${q.to}`),
    ctx.relay.get<{ rows: HourlyRow[] }>(`/admin/hourly?mine=${mineId}&from=${from}&to=${q.to}`),
  ]);
  const mine = mines.mines.find((m) => m.mineId === mineId);
  if (!mine) throw ConsoleNotFound(`mine: the relay knows no mine ${mineId}`, { field: 'mine' });
  const fromMs = dayStart(from)!;
  const toMs = dayStart(q.to)! + DAY_MS;
  return assess({ mine, rows: daily.rows, from, to: q.to, gapHours: q.gapHours, today: beijingDay(now), hourly: { rows: hourly.rows, fromMs, toMs, nowMs: now } });
}

/** The record of one mine, audited as an export (who, which mine, which period, the verdict). */
export async function exportRecord(ctx: ConsoleContext, request: FastifyRequest, format: 'json' | 'csv'): Promise<SelfTestRecord> {
  const c = request.caller!;
  const mine = checkMineParam((request.params as { mine?: string }).mine);
  const q = readAcceptanceQuery(request.query as Record<string, unknown>);
  const audit = (result: string) =>
    ctx.store.audit.append({ user: c.name, role: c.role, action: 'export', target: `self-test ${mine} ${q.to} ${format}`, result, address: request.socket.remoteAddress ?? '' });
  try {
    const rec = selfTestRecord(await acceptanceOf(ctx, mine, q), c.name);
    await audit(`ok: ${rec.verdict}`);
    return rec;
  } catch (err) {
    await audit(`failed: ${(err as Error).message.slice(0, 200)}`);
    throw err;
  }
}

const QuerySchema = Type.Object(
  {
    to: Type.Optional(Type.String({ pattern: '^(\\d{4}-\\d{2}-\\d{2})?$', description: 'the last Beijing day of the 7-day period; default today' })),
    gapHours: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_GAP_HOURS, default: DEFAULT_GAP_HOURS, description: 'camera/online-offine may pause at most this many hours' })),
  },
  { additionalProperties: false },
);
const MineParams = Type.Object({ mine: Type.String({ pattern: '^[0-9A-Za-z]{1,32}$', description: 'the mine id' }) });
const ReasonSchema = Type.Object({ code: Type.String({ enum: ['missing', 'daysWithout', 'gaps', 'late', 'flagged', 'rejected', 'dead'] satisfies Reason['code'][] }), n: Type.Integer(), detail: Type.Optional(Type.String()) });
const Failing = Type.Array(Type.Object({ endpoint: Type.String(), reasons: Type.Array(ReasonSchema) }));

function download(reply: FastifyReply, type: string, name: string): FastifyReply {
  return reply.type(type).header('content-disposition', `attachment; filename="${name}"`);
}

export async function acceptanceApi(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get(
    '/api/acceptance',
    {
      config: { role: 'viewer' },
      schema: {
        summary: '企业自测: every mine over the 7 days up to `to`: required items arrived on every day, latency, flags, rejections; a verdict each (hourly gaps: see one mine)',
        tags: ['acceptance'],
        querystring: QuerySchema,
        response: {
          200: envelope(
            Type.Object({
              from: Type.String(),
              to: Type.String(),
              gapHours: Type.Integer(),
              passed: Type.Integer(),
              failed: Type.Integer(),
              mines: Type.Array(
                Type.Object({ mineId: Type.String(), status: Type.Optional(Type.String()), mineKind: Type.String({ enum: ['producing', 'shutDown'] }), verdict: Type.String({ enum: ['pass', 'fail'] }), failing: Failing, calls: Type.Integer() }),
              ),
            }),
          ),
          400: API_ERROR,
          401: API_ERROR,
          502: API_ERROR,
        },
      },
    },
    async (request) => ok(await acceptanceList(ctx, readAcceptanceQuery(request.query as Record<string, unknown>))),
  );
  app.get(
    '/api/acceptance/:mine',
    {
      config: { role: 'viewer' },
      schema: {
        summary: "one mine's self-test: each data item's rule (steady, arrive, optional), calls per day, hourly gaps, late, max latency against its budget, flags, rejections, its verdict and reasons",
        tags: ['acceptance'],
        params: MineParams,
        querystring: QuerySchema,
        response: { 200: envelope(Passed('the acceptance result: mineId, status, mineKind, from, to, days, gapHours, hourly, items[], verdict, failing[]')), 400: API_ERROR, 401: API_ERROR, 404: API_ERROR, 502: API_ERROR },
      },
    },
    async (request) => ok(await acceptanceOf(ctx, checkMineParam((request.params as { mine: string }).mine), readAcceptanceQuery(request.query as Record<string, unknown>))),
  );
  app.get(
    '/api/acceptance/:mine/record.json',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'the self-test record a mine submits (煤矿企业自测记录), JSON download: generatedAt, generatedBy, period, rules, items, verdicts (audited)',
        tags: ['acceptance'],
        params: MineParams,
        querystring: QuerySchema,
        response: { 200: Passed('the record: kind eseal-mine-self-test, version 1, generatedAt, generatedBy, mineId, status, mineKind, period, rules, verdict, verdictZh, reasons, items'), 400: API_ERROR, 401: API_ERROR, 404: API_ERROR, 502: API_ERROR },
      },
    },
    async (request, reply) => {
      const rec = await exportRecord(ctx, request, 'json');
      download(reply, 'application/json; charset=utf-8', `self-test-${rec.mineId}-${rec.period.to}.json`);
      return JSON.stringify(rec, null, 2);
    },
  );
  app.get(
    '/api/acceptance/:mine/record.csv',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'the same record as CSV (UTF-8 with BOM) for a spreadsheet (audited)',
        tags: ['acceptance'],
        params: MineParams,
        querystring: QuerySchema,
        response: { 200: Type.String({ description: 'text/csv: the header lines, then one line per data item' }), 400: API_ERROR, 401: API_ERROR, 404: API_ERROR, 502: API_ERROR },
      },
    },
    async (request, reply) => {
      const rec = await exportRecord(ctx, request, 'csv');
      download(reply, 'text/csv; charset=utf-8', `self-test-${rec.mineId}-${rec.period.to}.csv`);
      return selfTestCsv(rec);
    },
  );
}
