// What the relay keeps after delivery. Delivered items, and their videos, stay for
// retention.deliveredDays for provincial use, then are purged oldest first; under disk pressure
// delivered videos go early, oldest first, until the file system is below the low-water mark.
// Nothing undelivered (pending or dead) is ever purged by this: dead letters wait for an operator.
//
// Videos are content-addressed and may be shared by several items, so a blob is deleted only when
// no item refers to it, and an orphan only if it was already unreferenced at the previous sweep.
// An upload of the same bytes may commit while a pass runs (after its scan of the queue): each
// deletion takes the blob's lock, which an upload holds from its commit until its item is appended
// (BlobLocks), and looks again at the items appended since the scan; one that refers to the blob
// keeps it.
import type { Logger } from '../../src/log.ts';
import type { QueueItem } from '../../src/store/QueueStoreTypes.ts';
import type { RelayContext } from '../RelayContext.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';
import { blobLocks } from './BlobLocks.ts';
import { diskUsedPercent } from './DiskWatch.ts';

const PAGE = 5000;
const DAY_MS = 86_400_000;

export interface RetentionReport {
  purgedItems: number;
  deletedBlobs: number;
  freedBytes: number;
}

export class Retention {
  readonly #log: Logger;
  #orphans = new Set<string>();
  #running: Promise<RetentionReport> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly ctx: RelayContext) {
    this.#log = ctx.log.child({ part: 'retention' });
  }

  /** Every item, a page at a time (never all payloads in memory at once). */
  *#items(state?: QueueItem['state']): Generator<QueueItem<RelayItem>> {
    let from = 1;
    for (;;) {
      const page = this.ctx.queue.range({ fromSeq: from, limit: PAGE, ...(state ? { state } : {}) }) as QueueItem<RelayItem>[];
      yield* page;
      if (page.length < PAGE) return;
      from = page[page.length - 1]!.seq + 1;
    }
  }

  /** One pass; concurrent calls share it. */
  run(now = Date.now(), pressure = false): Promise<RetentionReport> {
    this.#running ??= this.#run(now, pressure).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(now: number, pressure: boolean): Promise<RetentionReport> {
    const report: RetentionReport = { purgedItems: 0, deletedBlobs: 0, freedBytes: 0 };
    // One scan of the queue per pass: which items are due, and how many items refer to each blob.
    const cutoff = now - this.ctx.config.retention.deliveredDays * DAY_MS;
    const refs = new Map<string, number>();
    const expired: QueueItem<RelayItem>[] = [];
    const delivered: QueueItem<RelayItem>[] = [];
    /** the last item the scan saw: those after it came during the pass */
    let scanned = 0;
    for (const item of this.#items()) {
      scanned = Math.max(scanned, item.seq);
      const blob = item.payload.file?.blob;
      if (blob) refs.set(blob, (refs.get(blob) ?? 0) + 1);
      if (item.state !== 'done') continue;
      if ((item.doneAt ?? item.enqueuedAt) < cutoff) expired.push(item);
      else if (blob) delivered.push(item);
    }
    const purge = async (item: QueueItem<RelayItem>): Promise<string | undefined> => {
      await this.ctx.queue.purge(item.seq);
      report.purgedItems++;
      const blob = item.payload.file?.blob;
      if (!blob) return undefined;
      const left = (refs.get(blob) ?? 1) - 1;
      if (left > 0) refs.set(blob, left);
      else refs.delete(blob);
      return left > 0 ? undefined : blob;
    };
    for (const item of expired) await purge(item);
    if (pressure) {
      // oldest delivered videos first, their blobs deleted at once (unless an upload of the same
      // bytes came meanwhile), checking the disk as it goes
      for (let i = 0; i < delivered.length; i += 20) {
        if ((await diskUsedPercent(this.ctx.config.dataDir)) < this.ctx.config.disk.lowWatermarkPercent) break;
        for (const item of delivered.slice(i, i + 20)) {
          const unreferenced = await purge(item);
          if (unreferenced) await this.#drop(report, unreferenced, scanned);
        }
      }
    }
    await this.#sweep(report, refs, scanned);
    if (report.purgedItems || report.deletedBlobs) this.#log.info({ ...report, pressure }, 'retention pass');
    return report;
  }

  /** Deletes a blob no item scanned refers to, unless an item appended after `scanned` does. */
  async #drop(report: RetentionReport, id: string, scanned: number): Promise<boolean> {
    return blobLocks(this.ctx.blobs).run(id, async () => {
      if (this.#referencedAfter(id, scanned)) return false;
      const size = (await this.ctx.blobs.size(id)) ?? 0;
      await this.ctx.blobs.delete(id);
      report.deletedBlobs++;
      report.freedBytes += size;
      return true;
    });
  }

  #referencedAfter(id: string, seq: number): boolean {
    for (let from = seq + 1; ; ) {
      const page = this.ctx.queue.range({ fromSeq: from, limit: PAGE }) as QueueItem<RelayItem>[];
      if (page.some((item) => item.payload.file?.blob === id)) return true;
      if (page.length < PAGE) return false;
      from = page[page.length - 1]!.seq + 1;
    }
  }

  /** Deletes blobs that no item referred to at this sweep nor at the previous one. */
  async #sweep(report: RetentionReport, refs: Map<string, number>, scanned: number): Promise<void> {
    const orphans = new Set<string>();
    for await (const id of this.ctx.blobs.list()) {
      if (refs.has(id)) continue;
      if (this.#orphans.has(id)) await this.#drop(report, id, scanned);
      else orphans.add(id);
    }
    this.#orphans = orphans;
  }

  start(everyMs = 3600_000): void {
    const tick = () => void this.run().catch((err: unknown) => this.#log.error({ err }, 'retention pass failed'));
    tick();
    this.#timer = setInterval(tick, everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running?.catch(() => {});
  }
}
