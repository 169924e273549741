// 煤矿 as JSON: every mine and camera the relay knows (one /admin/mines call), filtered, sorted and
// paged here so a province's 1,000 mines never travel to the browser at once; one mine's cameras,
// its 31 days by kind (/admin/daily?mine) and its newest items (/admin/items?mine).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { ConsoleInvalid, ConsoleNotFound } from '../errors.ts';
import { isShutDown } from '../alarms/alarmRules.ts';
import { addDays, beijingDay, readDay, type DailyRow, type MineRow } from '../alarms/relayRows.ts';
import type { ItemSummary } from './itemsApi.ts';
import { API_ERROR, Passed, envelope, ok } from './schemas.ts';

export const MINE_SORTS = ['mineId', 'lastSeenAt', 'total', 'offline', 'flagged', 'rejected', 'late', 'latencyMaxMs'] as const;
export const MINE_STATUSES = ['producing', 'shutDown', 'unknown'] as const;
export const CHART_DAYS = 31;
export const TIMELINE_ITEMS = 50;

export interface MineListRow extends MineRow {
  shutDown: boolean;
  /** calls on the day, all kinds */
  total: number;
  online: number;
  offline: number;
}

export interface MinesFilter {
  day: string;
  q?: string;
  status?: (typeof MINE_STATUSES)[number];
  offline?: boolean;
  sort: (typeof MINE_SORTS)[number];
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
}

export interface MinesPage {
  day: string;
  /** mines that match the filter */
  total: number;
  /** all mines the relay knows */
  all: number;
  offset: number;
  limit: number;
  mines: MineListRow[];
}

const invalid = (msg: string, field: string) => ConsoleInvalid(msg, { field });

/** A whole-number query field from `min` to `max`; absent is `fallback`; a bad one names itself. */
export function intIn(q: Record<string, unknown>, name: string, min: number, max: number, fallback: number): number {
  const v = q[name];
  if (v === undefined || v === '') return fallback;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,7}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(`${name}: a whole number from ${min} to ${max}`, name);
  return n;
}

function oneOf<T extends string>(q: Record<string, unknown>, name: string, values: readonly T[]): T | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  if (!(values as readonly unknown[]).includes(v)) throw invalid(`${name}: one of ${values.join(', ')}`, name);
  return v as T;
}

/** The list's filters from a query string (the page's form and the API alike); a bad field names itself. */
export function readMinesFilter(q: Record<string, unknown>, now = Date.now()): MinesFilter {
  const text = q['q'];
  if (text !== undefined && (typeof text !== 'string' || !/^[0-9A-Za-z]{0,32}$/.test(text))) throw invalid('q: part of a mine id, letters and digits, at most 32', 'q');
  const status = oneOf(q, 'status', MINE_STATUSES);
  const camera = oneOf(q, 'camera', ['offline'] as const);
  return {
    day: readDay(q['day'], 'day', beijingDay(now), invalid),
    ...(text ? { q: text as string } : {}),
    ...(status ? { status } : {}),
    ...(camera ? { offline: true } : {}),
    sort: oneOf(q, 'sort', MINE_SORTS) ?? 'mineId',
    order: oneOf(q, 'order', ['asc', 'desc'] as const) ?? 'asc',
    offset: intIn(q, 'offset', 0, 1_000_000, 0),
    limit: intIn(q, 'limit', 1, 500, 100),
  };
}

export function listRow(m: MineRow): MineListRow {
  let online = 0;
  let offline = 0;
  for (const c of m.cameras) {
    if (c.online === true) online++;
    else if (c.online === false) offline++;
  }
  const total = Object.values(m.today).reduce((a, b) => a + b, 0);
  return { ...m, shutDown: isShutDown(m.status), total, online, offline };
}

export function filterMines(all: readonly MineRow[], f: MinesFilter): MinesPage {
  let rows = all.map(listRow);
  if (f.q) rows = rows.filter((r) => r.mineId.includes(f.q!));
  if (f.status) rows = rows.filter((r) => (f.status === 'unknown' ? r.status === undefined : r.status !== undefined && r.shutDown === (f.status === 'shutDown')));
  if (f.offline) rows = rows.filter((r) => r.offline > 0);
  const key = f.sort;
  const dir = f.order === 'desc' ? -1 : 1;
  rows.sort((a, b) => {
    const x = key === 'mineId' ? a.mineId : (a[key] ?? 0);
    const y = key === 'mineId' ? b.mineId : (b[key] ?? 0);
    return (x < y ? -1 : x > y ? 1 : 0) * dir || (a.mineId < b.mineId ? -1 : 1);
  });
  return { day: f.day, total: rows.length, all: all.length, offset: f.offset, limit: f.limit, mines: rows.slice(f.offset, f.offset + f.limit) };
}

export async function listMines(ctx: ConsoleContext, f: MinesFilter): Promise<MinesPage> {
  const { mines } = await ctx.relay.get<{ mines: MineRow[] }>(`/admin/mines?day=${f.day}`);
  return filterMines(mines, f);
}

export interface MineDetail {
  mine: MineListRow;
  /** the 31 days up to today */
  from: string;
  to: string;
  daily: DailyRow[];
  /** newest first */
  items: ItemSummary[];
  nextBefore?: number;
}

export function checkMineParam(raw: unknown): string {
  if (typeof raw !== 'string' || !/^[0-9A-Za-z]{1,32}$/.test(raw)) throw invalid(`mine: a mine id of letters and digits, at most 32, got ${JSON.stringify(String(raw).slice(0, 40))}`, 'mine');
  return raw;
}

export async function mineDetail(ctx: ConsoleContext, mineId: string, now = Date.now()): Promise<MineDetail> {
  const to = beijingDay(now);
  const from = addDays(to, -(CHART_DAYS - 1));
  const [mines, daily, items] = await Promise.all([
    ctx.relay.get<{ mines: MineRow[] }>(`/admin/mines?day=${to}`),
    ctx.relay.get<{ rows: DailyRow[] }>(`/admin/daily?mine=${mineId}&from=${from}&to=${to}`),
    ctx.relay.get<{ items: ItemSummary[]; nextBefore?: number }>(`/admin/items?mine=${mineId}&limit=${TIMELINE_ITEMS}`),
  ]);
  const row = mines.mines.find((m) => m.mineId === mineId);
  if (!row) throw ConsoleNotFound(`mine: the relay knows no mine ${mineId}`, { field: 'mine' });
  return { mine: listRow(row), from, to, daily: daily.rows, items: items.items, ...(items.nextBefore !== undefined ? { nextBefore: items.nextBefore } : {}) };
}

export const MinesQuery = Type.Object(
  {
    day: Type.Optional(Type.String({ pattern: '^(\\d{4}-\\d{2}-\\d{2})?$', description: 'the Beijing day of the counts; default today' })),
    q: Type.Optional(Type.String({ pattern: '^[0-9A-Za-z]{0,32}$', description: 'part of a mine id' })),
    status: Type.Optional(Type.String({ enum: [...MINE_STATUSES, ''], description: 'producing, shutDown (停产/停工/停建/关闭/闭坑/关停) or unknown (no status)' })),
    camera: Type.Optional(Type.String({ enum: ['offline', ''], description: 'offline: mines with a camera whose last camera/online-offine said offline' })),
    sort: Type.Optional(Type.String({ enum: [...MINE_SORTS], default: 'mineId' })),
    order: Type.Optional(Type.String({ enum: ['asc', 'desc'], default: 'asc' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);

const MineListSchema = Passed('a mine: mineId, status, shutDown, accounts, lastSeenAt, cameras [{cameraId, lastSeenAt, online, onlineChangedAt, liveUrl}], today {endpoint: calls}, total, online, offline, flagged, rejected, late, dead, latencyMaxMs');

export async function minesApi(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get(
    '/api/mines',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'every mine and its cameras: status, last seen, cameras online/offline, the day\'s calls by kind, flags, rejections, late, latency; filtered, sorted and paged',
        tags: ['mines'],
        querystring: MinesQuery,
        response: {
          200: envelope(Type.Object({ day: Type.String(), total: Type.Integer(), all: Type.Integer(), offset: Type.Integer(), limit: Type.Integer(), mines: Type.Array(MineListSchema) })),
          400: API_ERROR,
          401: API_ERROR,
          502: API_ERROR,
        },
      },
    },
    async (request) => ok(await listMines(ctx, readMinesFilter(request.query as Record<string, unknown>))),
  );
  app.get(
    '/api/mines/:mine',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'one mine: its cameras, its calls by kind for the 31 days up to today, its newest items',
        tags: ['mines'],
        params: Type.Object({ mine: Type.String({ pattern: '^[0-9A-Za-z]{1,32}$', description: 'the mine id' }) }),
        response: {
          200: envelope(
            Type.Object({
              mine: MineListSchema,
              from: Type.String(),
              to: Type.String(),
              daily: Type.Array(Passed("the relay's daily rows (GET /admin/daily)")),
              items: Type.Array(Passed("the relay's item summaries, newest first (GET /admin/items)")),
              nextBefore: Type.Optional(Type.Integer()),
            }),
          ),
          400: API_ERROR,
          401: API_ERROR,
          404: API_ERROR,
          502: API_ERROR,
        },
      },
    },
    async (request) => ok(await mineDetail(ctx, checkMineParam((request.params as { mine: string }).mine))),
  );
}
