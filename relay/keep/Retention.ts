// What the relay keeps after delivery. Delivered items, and their videos, stay for
// retention.deliveredDays for provincial use, then are purged oldest first; under disk pressure
// delivered videos go early, oldest first, until the file system is below the low-water mark.
// Nothing undelivered (pending or dead) is ever purged by this: dead letters wait for an operator.
//
// Videos are content-addressed and may be shared by several items, so a blob is deleted only when
// no item refers to it, and only if it was already unreferenced at the previous sweep (a blob just
// committed by an upload whose item is being appended is never taken for an orphan).
import type { Logger } from '../../src/log.ts';
import type { QueueItem } from '../../src/store/QueueStoreTypes.ts';
import type { RelayContext } from '../RelayContext.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';
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
    const cutoff = now - this.ctx.config.retention.deliveredDays * DAY_MS;
    const expired: number[] = [];
    for (const item of this.#items('done')) if ((item.doneAt ?? item.enqueuedAt) < cutoff) expired.push(item.seq);
    for (const seq of expired) {
      await this.ctx.queue.purge(seq);
      report.purgedItems++;
    }
    if (pressure) {
      // oldest delivered videos first, their blobs deleted at once, checking the disk as it goes
      const videos = [...this.#items('done')].filter((i) => i.payload.file);
      for (let i = 0; i < videos.length; i += 20) {
        if ((await diskUsedPercent(this.ctx.config.dataDir)) < this.ctx.config.disk.lowWatermarkPercent) break;
        const batch = videos.slice(i, i + 20);
        for (const v of batch) await this.ctx.queue.purge(v.seq);
        report.purgedItems += batch.length;
        await this.#sweep(report, new Set(batch.map((v) => v.payload.file!.blob)));
      }
    }
    await this.#sweep(report);
    if (report.purgedItems || report.deletedBlobs) this.#log.info({ ...report, pressure }, 'retention pass');
    return report;
  }

  /**
   * Deletes blobs no item refers to: the `only` ones at once (those of items just purged), or any
   * blob found unreferenced by two sweeps in a row.
   */
  async #sweep(report: RetentionReport, only?: Set<string>): Promise<void> {
    const referenced = new Set<string>();
    for (const item of this.#items()) if (item.payload.file) referenced.add(item.payload.file.blob);
    const drop = async (id: string) => {
      const size = (await this.ctx.blobs.size(id)) ?? 0;
      await this.ctx.blobs.delete(id);
      report.deletedBlobs++;
      report.freedBytes += size;
    };
    if (only) {
      for (const id of only) if (!referenced.has(id)) await drop(id);
      return;
    }
    const orphans = new Set<string>();
    for await (const id of this.ctx.blobs.list()) {
      if (referenced.has(id)) continue;
      if (this.#orphans.has(id)) await drop(id);
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
