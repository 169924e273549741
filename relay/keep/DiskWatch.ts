// Watches the data dir's file system. Above the high-water mark new videos are refused with 507
// (records, a few hundred bytes each, are still taken), so that the relay never runs into a full
// disk in the middle of a write; delivered videos are purged early, oldest first, to make room.
import { statfs } from 'node:fs/promises';
import type { Logger } from '../../src/log.ts';
import type { RelayContext } from '../RelayContext.ts';

const EVERY_MS = 10_000;

export async function diskUsedPercent(path: string): Promise<number> {
  const s = await statfs(path);
  if (s.blocks === 0) return 0;
  // as df counts it: what is used of what an unprivileged process could have
  const used = s.blocks - s.bfree;
  return (used / (used + s.bavail)) * 100;
}

export class DiskWatch {
  #timer: NodeJS.Timeout | undefined;
  readonly #log: Logger;

  constructor(
    readonly ctx: RelayContext,
    readonly onPressure: () => void,
  ) {
    this.#log = ctx.log.child({ part: 'disk' });
  }

  async check(): Promise<void> {
    const { highWatermarkPercent } = this.ctx.config.disk;
    let used: number;
    try {
      used = await diskUsedPercent(this.ctx.config.dataDir);
    } catch (err) {
      this.#log.warn({ err }, 'cannot read the free space of the data dir');
      return;
    }
    const wasFull = this.ctx.disk.full;
    this.ctx.disk.usedPercent = used;
    this.ctx.disk.full = used >= highWatermarkPercent;
    if (this.ctx.disk.full && !wasFull) {
      this.#log.error({ usedPercent: Math.round(used * 10) / 10, highWatermarkPercent }, 'data dir above its high-water mark: new videos are refused (507) until space is freed');
    } else if (!this.ctx.disk.full && wasFull) {
      this.#log.warn({ usedPercent: Math.round(used * 10) / 10 }, 'data dir below its high-water mark again: videos are accepted');
    }
    if (this.ctx.disk.full) this.onPressure();
  }

  start(): void {
    void this.check();
    this.#timer = setInterval(() => void this.check(), EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
