// The background scrub of a running relay: every scrub.periodHours, one pass of StoreAudit over the
// queue and every stored video (re-hashed at no more than scrub.bytesPerSecond, on the SM3 worker),
// one pass at a time. A corrupt or missing video sets its undelivered items aside (dead letters with
// ESEAL_ERR_STORE_CORRUPT) and logs an error naming the mine, file name and video; nothing is moved
// or deleted (that is `eseal verify --repair`, an operator's decision). The last pass's result is
// kept in the database (table relay-scrub), so `eseal status` shows it whether the relay runs or
// not, and a restart does not reset the period.
import type { Database, RootDatabase } from 'lmdb';
import type { Logger } from '../../src/log.ts';
import type { FsBlobStore } from '../../src/store/fs/FsBlobStore.ts';
import type { RelayContext } from '../RelayContext.ts';
import { StoreAudit, damageCount, emptySummary, type AuditReport, type AuditSummary } from './StoreAudit.ts';

const HOUR_MS = 3600_000;
/** a relay that never scrubbed (or is overdue) starts its first pass this soon after it starts, at the most */
const FIRST_PASS_DELAY_MS = 10 * 60_000;

export interface ScrubResult {
  /** when the pass began (ms since epoch) and how long it took */
  at: number;
  durationMs: number;
  /** false: stopped before its end (shutdown), or failed (see error) */
  complete: boolean;
  scanned: AuditReport['scanned'];
  summary: AuditSummary;
  error?: string;
}

export interface ScrubStatus {
  periodHours: number;
  bytesPerSecond: number;
  running: boolean;
  /** when the next pass is due (absent when off) */
  nextAt?: number;
  last?: ScrubResult;
}

const SUMMARY_TO_KIND: Record<keyof AuditSummary, string> = {
  database: 'database',
  mismatches: 'mismatch',
  missingBlobs: 'missingBlob',
  itemsWithoutBlob: 'itemWithoutBlob',
  orphanBlobs: 'orphanBlob',
  tusFilesWithoutRecord: 'tusFileWithoutRecord',
  tusRecordsWithoutFile: 'tusRecordWithoutFile',
};

function table(root: RootDatabase): Database<ScrubResult, string> {
  return root.openDB<ScrubResult, string>({ name: 'relay-scrub' });
}

/** The last pass's result as the database keeps it (for `eseal status` without the relay). */
export function lastScrub(root: RootDatabase): ScrubResult | undefined {
  return table(root).get('last');
}

export class Scrub {
  readonly #ctx: RelayContext;
  readonly #log: Logger;
  readonly #db: Database<ScrubResult, string>;
  #last: ScrubResult | undefined;
  #running: Promise<ScrubResult> | undefined;
  #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #nextAt: number | undefined;
  #stopped = false;

  constructor(ctx: RelayContext) {
    this.#ctx = ctx;
    this.#log = ctx.log.child({ part: 'scrub' });
    this.#db = table(ctx.root);
    this.#last = this.#db.get('last');
    if (this.#last) this.#metrics(this.#last);
  }

  get #periodMs(): number {
    return this.#ctx.config.scrub.periodHours * HOUR_MS;
  }

  /** Schedules the passes (none when scrub.periodHours is 0). */
  start(now = Date.now()): void {
    if (!this.#periodMs) return;
    const soon = Math.min(this.#periodMs, FIRST_PASS_DELAY_MS);
    this.#schedule(this.#last ? Math.max(now + Math.min(soon, 60_000), this.#last.at + this.#periodMs) : now + soon);
  }

  #schedule(at: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#nextAt = at;
    this.#timer = setTimeout(() => {
      void this.run()
        .catch(() => {})
        .finally(() => this.#schedule(Date.now() + this.#periodMs));
    }, Math.max(0, at - Date.now()));
    this.#timer.unref();
  }

  /** One pass now; a pass under way is shared, never a second one beside it. */
  run(): Promise<ScrubResult> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<ScrubResult> {
    const at = Date.now();
    this.#ctx.metrics.scrubRunning.set(1);
    this.#log.info({ bytesPerSecond: this.#ctx.config.scrub.bytesPerSecond }, 'scrub pass started');
    let result: ScrubResult;
    try {
      const audit = new StoreAudit(
        { dataDir: this.#ctx.config.dataDir, root: this.#ctx.root, queue: this.#ctx.queue, blobs: this.#ctx.blobs as FsBlobStore, log: this.#log },
        { markCorrupt: true, inProcess: true, bytesPerSecond: this.#ctx.config.scrub.bytesPerSecond, signal: this.#abort.signal },
      );
      const report = await audit.run();
      result = { at, durationMs: Date.now() - at, complete: report.complete, scanned: report.scanned, summary: report.summary };
      const found = damageCount(report.summary);
      const fields = { ...report.summary, videos: report.scanned.blobs, bytes: report.scanned.bytes, items: report.scanned.items, durationMs: result.durationMs };
      if (found) this.#log.error(fields, `scrub pass found damage: eseal verify lists it; eseal verify --repair moves corrupt videos to quarantine`);
      else this.#log.info(fields, report.complete ? 'scrub pass found no damage' : 'scrub pass stopped before its end');
    } catch (err) {
      this.#log.error({ err }, 'scrub pass failed');
      result = { at, durationMs: Date.now() - at, complete: false, scanned: { items: 0, blobs: 0, bytes: 0, tusFiles: 0, tusRecords: 0 }, summary: emptySummary(), error: (err as Error).message };
    } finally {
      this.#ctx.metrics.scrubRunning.set(0);
    }
    // a pass cut short by a shutdown leaves the last whole one in place
    if (result.complete || result.error) {
      this.#last = result;
      this.#metrics(result);
      await this.#db.put('last', result).catch((err: unknown) => this.#log.warn({ err }, 'cannot keep the scrub result'));
    }
    return result;
  }

  #metrics(r: ScrubResult): void {
    const m = this.#ctx.metrics;
    m.scrubLastRun.set(Math.round(r.at / 1000));
    m.scrubLastDuration.set(r.durationMs / 1000);
    m.scrubCheckedBytes.set(r.scanned.bytes);
    for (const [key, kind] of Object.entries(SUMMARY_TO_KIND)) m.scrubDamage.set({ kind }, r.summary[key as keyof AuditSummary]);
  }

  status(): ScrubStatus {
    const { periodHours, bytesPerSecond } = this.#ctx.config.scrub;
    return {
      periodHours,
      bytesPerSecond,
      running: this.#running !== undefined,
      ...(this.#nextAt !== undefined && periodHours ? { nextAt: this.#nextAt } : {}),
      ...(this.#last ? { last: this.#last } : {}),
    };
  }

  /** Stops scheduling, stops a pass under way between two videos and waits for it. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort(new Error('the relay is shutting down'));
    await this.#running?.catch(() => {});
  }
}
