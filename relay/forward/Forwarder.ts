// Store and forward: everything a mine was told "success" for goes to the national platform, in
// order per (mine, camera, kind), within the guide's budgets, through outages, restarts and token
// expiry.
//
// - Lanes by budget (src/contract LANES): camera status and records (30 s) before videos (300 s).
//   Each lane has its own concurrency, so a backlog of videos never holds up a record.
// - Within a lane, round-robin across mines, and within a mine across the accounts sending for it:
//   the queue hands out only the head of each key (mine/camera/kind and account, RelayItem.ts), and
//   the heads held here are taken one mine at a time, so one mine's backlog cannot delay another's,
//   nor one account's (a passthrough account may send for any mine) a mine's own account.
// - An item is delivered only on the upstream's code 0. Token refused: log in again once, retry.
//   Login refused (or no credentials): the account is set aside with its own back-off, its items
//   wait without a call upstream (one login try per back-off, not one per item: a platform that
//   locks accounts after failed logins is not provoked) and are never dead letters; other
//   accounts' items go on meanwhile, as FIFO is per account. A login that works clears it.
//   Network errors and overload statuses: retry with exponential back-off and jitter. A definite
//   refusal: dead letter, with the upstream's answer, to be replayed by an operator.
// - A circuit breaker stops sending while the upstream is down and probes it instead.
// - A video is checked against its SM3 address while it streams (blobSource.ts): one altered, cut
//   short, emptied or removed on disk never completes an upload; its item is set aside as a dead
//   letter (ESEAL_ERR_STORE_CORRUPT, with the file's path), never retried, and its key moves on.
// - At least once: an item whose answer was lost in a crash is sent again after the restart; such
//   redeliveries are counted (they stay within the calls that were in flight at the crash).
import type { Database } from 'lmdb';
import { LANES, endpointById, type EvidenceEndpoint, type Lane, type RecordEndpoint } from '../../src/contract/index.ts';
import type { RelayConfig } from '../config.ts';
import type { Logger } from '../../src/log.ts';
import type { QueueItem } from '../../src/store/QueueStoreTypes.ts';
import type { RelayContext } from '../RelayContext.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';
import { ByteRate } from './ByteRate.ts';
import { CircuitBreaker } from './CircuitBreaker.ts';
import { backoffMs, errorCode, outcomeAfterRelogin, outcomeOfAnswer, outcomeOfError, type Outcome } from './outcome.ts';
import type { ApiAnswer, NationalClient } from '../../src/client/NationalClient.ts';
import { UpstreamLoginRefused, UpstreamNoCredentials } from '../../src/client/errors.ts';
import type { UpstreamSession } from '../../src/client/UpstreamSession.ts';
import { NotFound } from '../../src/store/errors.ts';
import { ForwardBadItem } from './errors.ts';
import { corruptionOf, forwardedBlob } from './blobSource.ts';

const LANE_ORDER = (Object.keys(LANES) as Lane[]).sort((a, b) => LANES[a].priority - LANES[b].priority);
/** heads held per lane; more are leased as they are sent */
const WINDOW = 256;
/** a lease outlives any realistic outage of the process itself; leases die with the process */
const LEASE_MS = 24 * 3600_000;
const PUMP_MS = 250;
/** an item older than this share of its budget is reported at risk */
const AT_RISK_SHARE = 0.5;

/**
 * What one try of an item came to: an upstream outcome, its account may not log in yet, or its
 * stored video is not what the mine sent (`path`: the bad file).
 */
type Attempt = Outcome | { kind: 'waitLogin'; reason: string; retryAt: number } | { kind: 'corrupt'; reason: string; path: string };

/** Sends one item upstream; evidence may go by tus when the upstream is another relay. */
export type EvidenceSender = (
  endpoint: EvidenceEndpoint,
  item: RelayItem,
  token: string,
) => Promise<ApiAnswer>;

interface LaneState {
  /** leased heads waiting to be sent, by seq */
  held: Map<number, QueueItem<RelayItem>>;
  /** mines with held items, in round-robin order */
  mines: string[];
  cursor: number;
  /** per mine: the accounts with held items under it, in round-robin order */
  accounts: Map<string, { names: string[]; cursor: number }>;
  refilling: boolean;
  inFlight: number;
  delivered: number;
  failed: number;
  dead: number;
  late: number;
}

/** An account whose upstream login was refused (or that has no credentials): its items wait. */
interface AccountWait {
  reason: string;
  /** first refusal of this spell (ms) */
  since: number;
  /** last refusal (ms): a login that worked after it clears the wait */
  refusedAt: number;
  /** no login is tried for it before then (ms) */
  retryAt: number;
  failures: number;
  /** the heads (seq) set aside, by lane; one per mine/camera/kind key of the account */
  heads: Map<number, { lane: Lane; mineId: string }>;
}

export interface ForwarderStatus {
  upstream: { url: string; state: 'closed' | 'open' | 'halfOpen'; since: number; lastError: string };
  lanes: Record<string, { pending: number; inFlight: number; oldestAgeMs: number | undefined; budgetSeconds: number; delivered: number; failed: number; dead: number; late: number; atRisk: boolean; waitingForLogin: number }>;
  redelivered: number;
  /** accounts whose items wait for a login the upstream refuses; other accounts' items go on */
  accountsWaiting: { account: string; reason: string; since: number; retryAt: number; failures: number; heads: number; mines: string[] }[];
}

export class Forwarder {
  readonly #ctx: RelayContext;
  readonly #client: NationalClient;
  readonly #tokens: UpstreamSession;
  readonly #cfg: RelayConfig['forward'];
  readonly #log: Logger;
  readonly #breaker: CircuitBreaker;
  readonly #rate: ByteRate | undefined;
  readonly #lanes = new Map<Lane, LaneState>();
  readonly #inflightDb: Database<number, number>;
  /** seqs that were in flight when the previous process stopped: a delivery now may be a second one */
  readonly #maybeDelivered = new Set<number>();
  readonly #running = new Set<Promise<void>>();
  readonly #sendEvidence: EvidenceSender;
  readonly #waiting = new Map<string, AccountWait>();
  #redelivered = 0;
  #timer: NodeJS.Timeout | undefined;
  #probe: NodeJS.Timeout | undefined;
  #pumpQueued = false;
  #closed = false;
  #lastRiskLog = 0;

  /** `chooseSender` may put another way of sending videos in front of plain multipart (tus to a relay above) */
  constructor(ctx: RelayContext, client: NationalClient, tokens: UpstreamSession, chooseSender?: (multipart: EvidenceSender) => EvidenceSender) {
    this.#ctx = ctx;
    this.#client = client;
    this.#tokens = tokens;
    this.#cfg = ctx.config.forward;
    this.#log = ctx.log.child({ part: 'forward' });
    this.#breaker = new CircuitBreaker(this.#cfg.breaker.failures);
    this.#rate = this.#cfg.bandwidthBytesPerSecond > 0 ? new ByteRate(this.#cfg.bandwidthBytesPerSecond) : undefined;
    for (const lane of LANE_ORDER) {
      this.#lanes.set(lane, { held: new Map(), mines: [], cursor: 0, accounts: new Map(), refilling: false, inFlight: 0, delivered: 0, failed: 0, dead: 0, late: 0 });
    }
    this.#inflightDb = ctx.root.openDB<number, number>({ name: 'forward-inflight' });
    const multipart: EvidenceSender = (endpoint, item, token) => this.#sendMultipart(endpoint, item, token);
    this.#sendEvidence = chooseSender ? chooseSender(multipart) : multipart;
  }

  start(): void {
    for (const { key } of this.#inflightDb.getRange({})) this.#maybeDelivered.add(key);
    if (this.#maybeDelivered.size) {
      this.#log.info({ count: this.#maybeDelivered.size }, 'items were in flight when the relay last stopped: they are sent again (at least once)');
      void this.#inflightDb.clearAsync().catch(() => {});
    }
    this.#ctx.ingest.onAccepted(() => this.kick());
    this.#timer = setInterval(() => this.#tick(), PUMP_MS);
    this.#timer.unref();
    this.kick();
  }

  /** Something may be ready: pump soon (coalesced). */
  kick(): void {
    if (this.#pumpQueued || this.#closed) return;
    this.#pumpQueued = true;
    setImmediate(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #tick(): void {
    this.#pump();
    this.#checkRisk();
  }

  #pump(): void {
    if (this.#closed) return;
    if (this.#breaker.state === 'open') {
      this.#scheduleProbe();
      return;
    }
    for (const lane of LANE_ORDER) {
      const state = this.#lanes.get(lane)!;
      const limit = this.#cfg.concurrency[lane];
      if (state.inFlight >= limit) continue;
      this.#refill(lane, state);
      while (state.inFlight < limit) {
        const item = this.#next(state);
        if (!item) break;
        if (!this.#breaker.allow()) {
          // (halfOpen, trial under way) put it back for later
          this.#hold(state, item);
          return;
        }
        this.#dispatch(lane, state, item);
      }
    }
  }

  #refill(lane: Lane, state: LaneState): void {
    if (state.refilling || state.held.size >= WINDOW) return;
    state.refilling = true;
    this.#ctx.queue
      .lease({ lane, max: WINDOW - state.held.size, leaseMs: LEASE_MS })
      .then((items) => {
        for (const item of items) this.#hold(state, item);
        if (items.length) this.kick();
      })
      .catch((err: unknown) => this.#log.error({ err }, 'leasing from the queue failed'))
      .finally(() => {
        state.refilling = false;
      });
  }

  #hold(state: LaneState, item: QueueItem<RelayItem>): void {
    if (state.held.has(item.seq)) return;
    state.held.set(item.seq, item);
    const { mineId, account } = item.payload;
    if (!state.mines.includes(mineId)) state.mines.push(mineId);
    let turn = state.accounts.get(mineId);
    if (!turn) state.accounts.set(mineId, (turn = { names: [], cursor: 0 }));
    if (!turn.names.includes(account)) turn.names.push(account);
  }

  /** The oldest held item of the next account in turn of the next mine in turn. */
  #next(state: LaneState): QueueItem<RelayItem> | undefined {
    while (state.mines.length) {
      state.cursor %= state.mines.length;
      const mine = state.mines[state.cursor]!;
      const best = this.#nextOfMine(state, mine);
      if (!best) {
        state.mines.splice(state.cursor, 1);
        state.accounts.delete(mine);
        continue;
      }
      state.held.delete(best.seq);
      state.cursor++;
      return best;
    }
    return undefined;
  }

  #nextOfMine(state: LaneState, mine: string): QueueItem<RelayItem> | undefined {
    const turn = state.accounts.get(mine);
    while (turn?.names.length) {
      turn.cursor %= turn.names.length;
      const account = turn.names[turn.cursor]!;
      let best: QueueItem<RelayItem> | undefined;
      for (const item of state.held.values()) {
        if (item.payload.mineId === mine && item.payload.account === account && (!best || item.seq < best.seq)) best = item;
      }
      if (!best) {
        turn.names.splice(turn.cursor, 1);
        continue;
      }
      turn.cursor++;
      return best;
    }
    return undefined;
  }

  #dispatch(lane: Lane, state: LaneState, item: QueueItem<RelayItem>): void {
    state.inFlight++;
    let released = false;
    // The slot is a call upstream: it is free once the upstream has answered, before the answer is
    // recorded (the key's next item stays held back by the queue until that record is written).
    const release = () => {
      if (released) return;
      released = true;
      state.inFlight--;
      this.kick();
    };
    void this.#inflightDb.put(item.seq, Date.now()).catch(() => {});
    const run = this.#deliver(lane, state, item, release)
      .catch((err: unknown) => this.#log.error({ err, seq: item.seq }, 'forwarding an item failed unexpectedly'))
      .finally(() => {
        release();
        this.#running.delete(run);
        void this.#inflightDb.remove(item.seq).catch(() => {});
        this.kick(); // the key's next item can be leased now that this one is recorded
      });
    this.#running.add(run);
  }

  async #send(item: RelayItem, token: string): Promise<ApiAnswer> {
    const endpoint = endpointById(item.endpoint);
    if (!endpoint || endpoint.kind === 'query') throw ForwardBadItem(`unknown endpoint ${item.endpoint}`, { field: 'endpoint' });
    if (endpoint.kind === 'record') return this.#client.sendRecord(endpoint as RecordEndpoint, item.record, token);
    return this.#sendEvidence(endpoint, item, token);
  }

  async #sendMultipart(endpoint: EvidenceEndpoint, item: RelayItem, token: string): Promise<ApiAnswer> {
    const file = item.file!;
    const blob = forwardedBlob(this.#ctx.blobs, file);
    const stream = this.#rate ? blob.pipe(this.#rate.throttle()) : blob;
    if (this.#rate) blob.on('error', (err) => stream.destroy(err));
    return this.#client.sendEvidence(endpoint, file.name, file.size, stream, token);
  }

  /** The account's wait, while it lasts: until its retry time, unless a login worked since the refusal. */
  #waitOf(account: string, now: number): AccountWait | undefined {
    const wait = this.#waiting.get(account);
    if (!wait) return undefined;
    const loggedIn = this.#tokens.state(account).lastLoginAt;
    if (loggedIn !== undefined && loggedIn > wait.refusedAt) {
      // the mine logged in through the relay (passthrough) or the operator fixed its credentials
      this.#waiting.delete(account);
      return undefined;
    }
    return now < wait.retryAt ? wait : undefined;
  }

  #loginRefused(account: string, reason: string, now: number): AccountWait {
    let wait = this.#waiting.get(account);
    if (!wait) {
      wait = { reason, since: now, refusedAt: now, retryAt: now, failures: 0, heads: new Map() };
      this.#waiting.set(account, wait);
      this.#log.warn({ account, reason }, "the upstream refuses this account's login: its items wait (other accounts' items go on)");
    }
    // items dispatched together share one login (single-flight): one refusal counts once
    if (now >= wait.retryAt) {
      wait.failures++;
      wait.retryAt = now + backoffMs(wait.failures, this.#cfg.retry.baseSeconds, this.#cfg.retry.maxSeconds);
    }
    wait.reason = reason;
    wait.refusedAt = now;
    return wait;
  }

  async #attempt(item: RelayItem): Promise<Attempt> {
    const lists = this.#cfg.retry;
    const waiting = this.#waitOf(item.account, Date.now());
    if (waiting) return { kind: 'waitLogin', reason: waiting.reason, retryAt: waiting.retryAt };
    try {
      const { answer, relogged } = await this.#tokens.withToken(item.account, (token) => this.#send(item, token));
      this.#waiting.delete(item.account); // it has a token: whatever the answer, its login works
      return relogged ? outcomeAfterRelogin(answer, lists) : outcomeOfAnswer(answer, lists);
    } catch (err) {
      // a refused or impossible login is the operator's to fix: the item waits, never dead-lettered
      if (UpstreamLoginRefused.is(err) || UpstreamNoCredentials.is(err)) {
        const reason = (err as Error).message;
        return { kind: 'waitLogin', reason, retryAt: this.#loginRefused(item.account, reason, Date.now()).retryAt };
      }
      // its video is not what the mine sent: set aside, it would fail the same way again
      const corrupt = corruptionOf(err);
      if (corrupt) return { kind: 'corrupt', reason: `${corrupt.code}: ${corrupt.message}`, path: String(corrupt.detail?.['path'] ?? '') };
      // its blob is gone, or it names no endpoint: sending it again would fail the same way
      if (NotFound.is(err) || NotFound.is((err as Error)?.cause) || ForwardBadItem.is(err)) {
        return { kind: 'reject', reason: `the relay cannot send it: ${(err as Error).message}` };
      }
      return outcomeOfError(err, lists);
    }
  }

  async #deliver(lane: Lane, state: LaneState, item: QueueItem<RelayItem>, release: () => void): Promise<void> {
    const outcome = await this.#attempt(item.payload);
    release();
    const queue = this.#ctx.queue;
    const m = this.#ctx.metrics;
    const endpoint = item.payload.endpoint;
    switch (outcome.kind) {
      case 'waitLogin': {
        // no call, or a refused login: nothing said about the link, so a half-open trial passes on
        this.#breaker.abstain();
        const wait = this.#waiting.get(item.payload.account);
        wait?.heads.set(item.seq, { lane, mineId: item.payload.mineId });
        // no call went upstream for most of these: the item's own attempts do not grow its wait
        await queue.nack(item.seq, outcome.reason, Math.max(outcome.retryAt, Date.now() + PUMP_MS));
        m.forwarded.inc({ endpoint, outcome: 'waitLogin' });
        this.#log.debug({ seq: item.seq, endpoint, account: item.payload.account, retryAt: outcome.retryAt }, 'waits for its account to log in upstream');
        return;
      }
      case 'delivered': {
        await queue.ack(item.seq);
        this.#breaker.success();
        state.delivered++;
        const ageS = (Date.now() - item.payload.receivedAt) / 1000;
        m.forwardLatency.observe({ lane }, ageS);
        m.forwarded.inc({ endpoint, outcome: 'delivered' });
        if (ageS > LANES[lane].budgetSeconds) {
          state.late++;
          m.forwardLate.inc({ lane });
          this.#log.warn({ seq: item.seq, endpoint, mineId: item.payload.mineId, ageSeconds: Math.round(ageS), budgetSeconds: LANES[lane].budgetSeconds }, 'delivered after its budget');
        }
        if (this.#maybeDelivered.delete(item.seq)) {
          this.#redelivered++;
          m.forwardRedelivered.inc();
        }
        return;
      }
      case 'reject': {
        await queue.deadLetter(item.seq, outcome.reason);
        this.#breaker.success(); // the upstream answered: it is up
        state.dead++;
        m.forwarded.inc({ endpoint, outcome: 'dead' });
        this.#log.warn({ seq: item.seq, endpoint, mineId: item.payload.mineId, reason: outcome.reason }, 'refused upstream: moved to dead letters (eseal queue ls --state dead)');
        return;
      }
      case 'corrupt': {
        // nothing complete went upstream; its health is not in question (a trial call is free again)
        this.#breaker.abstain();
        await queue.deadLetter(item.seq, outcome.reason);
        state.dead++;
        m.forwarded.inc({ endpoint, outcome: 'dead' });
        m.forwardCorrupt.inc({ endpoint });
        const file = item.payload.file;
        this.#log.error(
          { seq: item.seq, endpoint, mineId: item.payload.mineId, fileName: file?.name, blob: file?.blob, path: outcome.path, code: 'ESEAL_ERR_STORE_CORRUPT' },
          'a stored video does not match its SM3 address (altered, truncated, empty or missing on disk): not sent, moved to dead letters (eseal queue ls --state dead)',
        );
        return;
      }
      default: {
        if (outcome.kind === 'retry' && outcome.transport) this.#breaker.failure(outcome.reason);
        const wait = backoffMs(item.attempts, this.#cfg.retry.baseSeconds, this.#cfg.retry.maxSeconds);
        await queue.nack(item.seq, outcome.reason, Date.now() + wait);
        state.failed++;
        m.forwarded.inc({ endpoint, outcome: 'retry' });
        this.#log.info({ seq: item.seq, endpoint, attempt: item.attempts, retryInMs: wait, reason: outcome.reason }, 'not delivered; will retry');
      }
    }
  }

  #scheduleProbe(): void {
    if (this.#probe || this.#closed) return;
    this.#probe = setTimeout(async () => {
      try {
        await this.#client.probe();
        this.#breaker.probeSucceeded();
        this.#log.info('upstream answers again: sending one item to check');
      } catch (err) {
        this.#breaker.failure(`${errorCode(err)}: ${(err as Error).message}`);
      } finally {
        this.#probe = undefined;
        this.kick();
      }
    }, this.#cfg.breaker.probeSeconds * 1000);
    this.#probe.unref();
  }

  #checkRisk(): void {
    const now = Date.now();
    const oldest = this.#ctx.queue.stats().oldestPendingByLane ?? {};
    const risky: string[] = [];
    for (const lane of LANE_ORDER) {
      const at = oldest[lane];
      if (at !== undefined && now - at > LANES[lane].budgetSeconds * 1000 * AT_RISK_SHARE) risky.push(`${lane} ${Math.round((now - at) / 1000)}s/${LANES[lane].budgetSeconds}s`);
    }
    this.#ctx.metrics.forwardAtRisk.set(risky.length);
    this.#ctx.metrics.forwardAccountsWaiting.set(this.#waiting.size);
    if (risky.length && now - this.#lastRiskLog > 30_000) {
      this.#lastRiskLog = now;
      // an account refused upstream keeps its own items old: say so, they are not the upstream's delay
      const waitingForLogin = [...this.#waiting.keys()];
      this.#log.warn(
        { lanes: risky, upstream: this.#breaker.state, lastError: this.#breaker.lastError, ...(waitingForLogin.length ? { waitingForLogin } : {}) },
        'items at risk of missing their budget',
      );
    }
  }

  /** Accounts waiting for a login, with their heads still pending (an operator may have deleted some). */
  #accountsWaiting(): ForwarderStatus['accountsWaiting'] {
    const out: ForwarderStatus['accountsWaiting'] = [];
    for (const [account, wait] of this.#waiting) {
      for (const seq of wait.heads.keys()) {
        const state = this.#ctx.queue.get(seq)?.state;
        if (state !== 'ready' && state !== 'leased') wait.heads.delete(seq);
      }
      const mines = [...new Set([...wait.heads.values()].map((h) => h.mineId))].sort();
      out.push({ account, reason: wait.reason, since: wait.since, retryAt: wait.retryAt, failures: wait.failures, heads: wait.heads.size, mines });
    }
    return out.sort((a, b) => a.since - b.since);
  }

  status(now = Date.now()): ForwarderStatus {
    const stats = this.#ctx.queue.stats();
    const accountsWaiting = this.#accountsWaiting();
    const waitingByLane = new Map<string, number>();
    for (const wait of this.#waiting.values()) for (const h of wait.heads.values()) waitingByLane.set(h.lane, (waitingByLane.get(h.lane) ?? 0) + 1);
    const lanes: ForwarderStatus['lanes'] = {};
    for (const lane of LANE_ORDER) {
      const s = this.#lanes.get(lane)!;
      const at = stats.oldestPendingByLane?.[lane];
      const oldestAgeMs = at === undefined ? undefined : now - at;
      lanes[lane] = {
        pending: stats.pendingByLane[lane] ?? 0,
        inFlight: s.inFlight,
        oldestAgeMs,
        budgetSeconds: LANES[lane].budgetSeconds,
        delivered: s.delivered,
        failed: s.failed,
        dead: s.dead,
        late: s.late,
        atRisk: oldestAgeMs !== undefined && oldestAgeMs > LANES[lane].budgetSeconds * 1000 * AT_RISK_SHARE,
        waitingForLogin: waitingByLane.get(lane) ?? 0,
      };
    }
    return {
      upstream: { url: this.#client.base, state: this.#breaker.state, since: this.#breaker.since, lastError: this.#breaker.lastError },
      lanes,
      redelivered: this.#redelivered,
      accountsWaiting,
    };
  }

  /** Stops taking new items and waits for the calls in flight (their outcome is recorded). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#probe);
    await Promise.allSettled([...this.#running]);
  }
}
