// The console's data on the relay's admin API (loopback only, admin Bearer: registered inside
// adminRoutes, whose hooks check both). Every answer comes from the maintained aggregates and
// indexes (relay/stats/), never from a scan of all items:
//   GET /admin/daily?from=&to=[&mine=]           rows per (day, mine, endpoint), ≤ 31 days for one mine, ≤ 7 for all
//   GET /admin/hourly?mine=&from=&to=            rows per (hour, endpoint) of one mine, ≤ 8 days
//   GET /admin/mines[?day=]                      every mine, its cameras, its counts for the day
//   GET /admin/items?mine=&camera=&endpoint=&lane=&state=&from=&to=&before=&limit=
//   GET /admin/items/:seq                        one item, whole
//   GET /admin/items/:seq/video                  its evidence video (Range requests: 206/416)
import type { FastifyInstance } from 'fastify';
import { success } from '../../src/contract/index.ts';
import { NotFound as StoreNotFound } from '../../src/store/errors.ts';
import type { RelayContext } from '../RelayContext.ts';
import { ANY_MINE } from '../auth/AccountStore.ts';
import { DAY_MS, beijingDay, beijingDayStart } from '../stats/beijingDay.ts';
import { StatsStore } from '../stats/StatsStore.ts';
import type { DailyRow, MineRow } from '../stats/StatsTypes.ts';
import {
  DAILY_ALL_MINES_MAX_DAYS,
  DAILY_MAX_DAYS,
  HOURLY_MAX_DAYS,
  ITEMS_DEFAULT_LIMIT,
  ITEMS_MAX_LIMIT,
  dayParam,
  dayRange,
  endpointParam,
  idParam,
  intParam,
  laneParam,
  seqOf,
  stateParam,
  type Query,
} from './consoleParams.ts';
import { detailOf, searchItems } from './itemSearch.ts';
import { sendVideo } from './videoRange.ts';

const MAX_MS = 8_640_000_000_000_000;

export function minesOf(ctx: RelayContext, day: string): MineRow[] {
  const rows = new Map<string, MineRow>();
  const row = (mineId: string): MineRow => {
    let r = rows.get(mineId);
    if (!r) {
      r = { mineId, accounts: [], cameras: [], today: {}, flagged: 0, rejected: 0, late: 0, dead: 0, latencyMaxMs: 0 };
      rows.set(mineId, r);
    }
    return r;
  };
  for (const [mineId, agg] of ctx.stats.allMines()) {
    const r = row(mineId);
    if (agg.lastSeenAt > 0) r.lastSeenAt = agg.lastSeenAt;
    r.cameras = StatsStore.cameraRows(agg);
  }
  const anyMine: string[] = [];
  for (const a of ctx.accounts.list()) {
    for (const m of a.mines) {
      if (m === ANY_MINE) anyMine.push(a.username);
      else row(m).accounts.push(a.username);
    }
  }
  for (const info of ctx.mines.list()) row(info.mineId).status = info.status;
  for (const d of ctx.stats.dailyOf(day)) {
    const r = row(d.mineId);
    r.today[d.endpoint] = d.count;
    r.flagged += d.flagged;
    r.rejected += d.rejected;
    r.late += d.late;
    r.dead += d.dead;
    r.latencyMaxMs = Math.max(r.latencyMaxMs, d.latencyMaxMs);
  }
  const out = [...rows.values()].sort((a, b) => (a.mineId < b.mineId ? -1 : 1));
  if (anyMine.length) for (const r of out) r.accounts.push(...anyMine);
  return out;
}

export async function consoleRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  app.get('/admin/daily', async (request) => {
    const q = request.query as Query;
    const mine = idParam(q, 'mine');
    // one mine over a month, or every mine over a week (a province's week is ~56,000 rows; a month, 60 MB of JSON)
    const { days } = dayRange(q, mine ? DAILY_MAX_DAYS : DAILY_ALL_MINES_MAX_DAYS);
    const rows: DailyRow[] = [];
    for (const day of days) rows.push(...ctx.stats.dailyOf(day, mine));
    return success({ rows });
  });

  app.get('/admin/hourly', async (request) => {
    const q = request.query as Query;
    const mine = idParam(q, 'mine', true)!;
    const { from, to } = dayRange(q, HOURLY_MAX_DAYS);
    const rows = [...ctx.stats.hourlyOf(mine, beijingDayStart(from)!, beijingDayStart(to)! + DAY_MS)];
    return success({ rows });
  });

  app.get('/admin/mines', async (request) => {
    const q = request.query as Query;
    const day = dayParam(q, 'day', beijingDay(Date.now()));
    return success({ mines: minesOf(ctx, day) });
  });

  app.get('/admin/items', async (request) => {
    const q = request.query as Query;
    const from = intParam(q, 'from', 0, MAX_MS, 'a time in ms since 1970');
    const to = intParam(q, 'to', 0, MAX_MS, 'a time in ms since 1970');
    const mine = idParam(q, 'mine');
    const camera = idParam(q, 'camera');
    const endpoint = endpointParam(q);
    const lane = laneParam(q);
    const state = stateParam(q);
    const before = intParam(q, 'before', 1, Number.MAX_SAFE_INTEGER, 'a seq (a whole number ≥ 1), the nextBefore of the previous page');
    const limit = intParam(q, 'limit', 1, ITEMS_MAX_LIMIT, `a whole number from 1 to ${ITEMS_MAX_LIMIT}`) ?? ITEMS_DEFAULT_LIMIT;
    const result = searchItems(ctx, {
      limit,
      ...(mine !== undefined ? { mine } : {}),
      ...(camera !== undefined ? { camera } : {}),
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(lane !== undefined ? { lane } : {}),
      ...(state !== undefined ? { state } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(before !== undefined ? { before } : {}),
    });
    return success(result);
  });

  app.get('/admin/items/:seq', async (request) => {
    const seq = seqOf((request.params as { seq?: string }).seq);
    const item = ctx.queue.get(seq);
    if (!item) throw StoreNotFound(`seq: no item ${seq} in the queue (purged, or never there)`, { field: 'seq' });
    return success(detailOf(item));
  });

  app.get('/admin/items/:seq/video', async (request, reply) => {
    const seq = seqOf((request.params as { seq?: string }).seq);
    const file = ctx.queue.get(seq)?.payload.file;
    if (!file) throw StoreNotFound(`seq: item ${seq} has no evidence video (not an evidence call, or purged)`, { field: 'seq' });
    const size = await ctx.blobs.size(file.blob);
    if (size === undefined) throw StoreNotFound(`seq: the video of item ${seq} is no longer kept (retention deleted it)`, { field: 'seq' });
    return sendVideo(reply, ctx.blobs, file.blob, file.size, request.headers.range);
  });
}
