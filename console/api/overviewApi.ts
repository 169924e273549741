// The overview: the relay's status (upstream, lanes against their budgets, dead letters, disk) and
// the roles this server runs; the relay's admin API being unreachable is itself news, not an error.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ConsoleContext } from '../ConsoleContext.ts';
import { EsealError } from '../../src/errors.ts';
import { API_ERROR, Passed, envelope, ok } from './schemas.ts';
import { beijingDay, type DailyRow } from '../alarms/relayRows.ts';

export interface LaneView {
  pending: number;
  inFlight?: number;
  oldestAgeSeconds?: number;
  budgetSeconds: number;
  delivered?: number;
  late?: number;
  atRisk: boolean;
}

export interface RelayStatusView {
  at: number;
  running: boolean;
  uptimeSeconds?: number;
  disk?: { usedPercent: number; full: boolean; highWatermarkPercent: number };
  upstream: { url: string; state: string; since?: number; lastError?: string } | null;
  lanes: Record<string, LaneView>;
  queue: { ready: number; leased: number; dead: number; done: number; lastSeq: number; oldestPendingAgeSeconds?: number };
  mines: { mineId: string; lastSeenAt: number }[];
  upstreamLoginErrors: { username: string; error: string; at: number }[];
}

export interface Overview {
  relay: { url: string; reachable: boolean; error?: string };
  status?: RelayStatusView;
  /** today (Beijing) over every mine, from /admin/daily: delivered, of those late, the worst latency */
  today?: { day: string; delivered: number; late: number; latencyMaxMs: number };
  roles: string[];
}

export async function overview(ctx: ConsoleContext): Promise<Overview> {
  const relay = { url: ctx.relay.url, reachable: false } as Overview['relay'];
  try {
    const day = beijingDay(Date.now());
    const [status, daily] = await Promise.all([ctx.relay.get<RelayStatusView>('/admin/status'), ctx.relay.get<{ rows: DailyRow[] }>(`/admin/daily?from=${day}&to=${day}`).catch(() => ({ rows: [] as DailyRow[] }))]);
    relay.reachable = true;
    const today = { day, delivered: 0, late: 0, latencyMaxMs: 0 };
    for (const r of daily.rows) {
      today.delivered += r.delivered;
      today.late += r.late;
      today.latencyMaxMs = Math.max(today.latencyMaxMs, r.latencyMaxMs);
    }
    return { relay, status, today, roles: [...ctx.config.roles] };
  } catch (err) {
    relay.error = err instanceof EsealError ? err.message : String(err);
    return { relay, roles: [...ctx.config.roles] };
  }
}

export async function overviewApi(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get(
    '/api/overview',
    {
      config: { role: 'viewer' },
      schema: {
        summary: "the relay's health: upstream, queue depth and oldest item per lane against its budget, dead letters, disk use, roles running",
        tags: ['overview'],
        response: {
          200: envelope(
            Type.Object({
              relay: Type.Object({ url: Type.String(), reachable: Type.Boolean(), error: Type.Optional(Type.String()) }),
              status: Type.Optional(Passed("the relay's GET /admin/status (README: eseal status --json)")),
              today: Type.Optional(Type.Object({ day: Type.String(), delivered: Type.Integer(), late: Type.Integer(), latencyMaxMs: Type.Integer() }, { description: 'today (Beijing) over every mine: delivered, late (after the lane budget), worst latency' })),
              roles: Type.Array(Type.String()),
            }),
          ),
          401: API_ERROR,
        },
      },
    },
    async () => ok(await overview(ctx)),
  );
}
