// What `eseal status` shows: the relay's health at a glance for the provincial operator. Built
// live by the running relay (GET /admin/status), or from the data dir alone when it is not running.
import { LANES, type Lane } from '../../src/contract/index.ts';
import type { QueueStats, QueueStore } from '../../src/store/QueueStoreTypes.ts';
import type { RelayContext } from '../RelayContext.ts';
import type { ForwarderStatus } from '../forward/Forwarder.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';
import type { ScrubStatus } from '../integrity/Scrub.ts';

export interface StatusReport {
  at: number;
  running: boolean;
  uptimeSeconds?: number;
  dataDir: string;
  disk?: { usedPercent: number; full: boolean; highWatermarkPercent: number };
  upstream: { url: string; state: string; since?: number; lastError?: string } | null;
  lanes: Record<string, { pending: number; inFlight?: number; oldestAgeSeconds?: number; budgetSeconds: number; delivered?: number; late?: number; atRisk: boolean; waitingForLogin?: number }>;
  queue: { ready: number; leased: number; dead: number; done: number; lastSeq: number; oldestPendingAgeSeconds?: number };
  redelivered?: number;
  /** mines heard from since the relay started, newest first */
  mines: { mineId: string; lastSeenAt: number }[];
  /** accounts whose upstream login failed last time */
  upstreamLoginErrors: { username: string; error: string; at: number }[];
  /**
   * accounts whose items wait because the upstream refuses their login (FIFO is per account: other
   * accounts' items go on); `failures`: logins refused since `since` (one try per back-off, however
   * many items wait); `heads`: how many of its mine/camera/kind queues are held, under `mines`
   */
  accountsWaiting?: { account: string; reason: string; since: number; retryAt: number; failures: number; heads: number; mines: string[] }[];
  /** the background scrub: its settings, whether a pass runs, the last whole pass's counts per kind of damage */
  scrub?: ScrubStatus;
}

function lanesFromStats(stats: QueueStats, now: number): StatusReport['lanes'] {
  const out: StatusReport['lanes'] = {};
  for (const lane of Object.keys(LANES) as Lane[]) {
    const at = stats.oldestPendingByLane?.[lane];
    const age = at === undefined ? undefined : (now - at) / 1000;
    out[lane] = {
      pending: stats.pendingByLane[lane] ?? 0,
      ...(age !== undefined ? { oldestAgeSeconds: Math.round(age) } : {}),
      budgetSeconds: LANES[lane].budgetSeconds,
      atRisk: age !== undefined && age > LANES[lane].budgetSeconds / 2,
    };
  }
  return out;
}

function queuePart(stats: QueueStats, now: number): StatusReport['queue'] {
  return {
    ...stats.byState,
    lastSeq: stats.lastSeq,
    ...(stats.oldestPendingAt !== undefined ? { oldestPendingAgeSeconds: Math.round((now - stats.oldestPendingAt) / 1000) } : {}),
  };
}

export function liveStatus(ctx: RelayContext, startedAt: number, now = Date.now()): StatusReport {
  const stats = ctx.queue.stats();
  const fwd: ForwarderStatus | undefined = ctx.forwarder?.status(now);
  const lanes = lanesFromStats(stats, now);
  if (fwd) {
    for (const [lane, l] of Object.entries(fwd.lanes)) {
      Object.assign(lanes[lane]!, { inFlight: l.inFlight, delivered: l.delivered, late: l.late, waitingForLogin: l.waitingForLogin });
    }
  }
  const errors: StatusReport['upstreamLoginErrors'] = [];
  if (ctx.upstream) {
    for (const a of ctx.accounts.list()) {
      const st = ctx.upstream.tokens.state(a.username);
      if (st.lastError && st.lastErrorAt && (!st.lastLoginAt || st.lastErrorAt > st.lastLoginAt)) {
        errors.push({ username: a.username, error: st.lastError, at: st.lastErrorAt });
      }
    }
  }
  return {
    at: now,
    running: true,
    uptimeSeconds: Math.round((now - startedAt) / 1000),
    dataDir: ctx.config.dataDir,
    disk: { usedPercent: Math.round(ctx.disk.usedPercent * 10) / 10, full: ctx.disk.full, highWatermarkPercent: ctx.config.disk.highWatermarkPercent },
    upstream: fwd ? { url: fwd.upstream.url, state: fwd.upstream.state, since: fwd.upstream.since, lastError: fwd.upstream.lastError } : null,
    lanes,
    queue: queuePart(stats, now),
    ...(fwd ? { redelivered: fwd.redelivered } : {}),
    mines: [...ctx.ingest.lastSeen.entries()].map(([mineId, lastSeenAt]) => ({ mineId, lastSeenAt })).sort((a, b) => b.lastSeenAt - a.lastSeenAt),
    upstreamLoginErrors: errors,
    ...(fwd ? { accountsWaiting: fwd.accountsWaiting } : {}),
    ...(ctx.scrub ? { scrub: ctx.scrub.status() } : {}),
  };
}

/** What can be told without the running relay: the queue as the data dir holds it. */
export function offlineStatus(queue: QueueStore<RelayItem>, dataDir: string, upstreamUrl: string, now = Date.now(), scrub?: ScrubStatus): StatusReport {
  const stats = queue.stats();
  return {
    at: now,
    running: false,
    dataDir,
    upstream: upstreamUrl ? { url: upstreamUrl, state: 'unknown (relay not running)' } : null,
    lanes: lanesFromStats(stats, now),
    queue: queuePart(stats, now),
    mines: [],
    upstreamLoginErrors: [],
    ...(scrub ? { scrub } : {}),
  };
}
