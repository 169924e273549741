// Every mine's daily rows, as the alarms and acceptance pages need them over seven days: a province's
// week is ~55,000 rows (16 MB of JSON, most of a second to fetch and parse), its day ~8,000. A past
// day's calls are final (an item counts on the day it was received), so past days are kept here and
// only today is asked each time. Their delivery outcomes (late, dead) can still change while items of
// that day wait upstream: a past day older than maxAgeMs is served as kept and fetched again behind
// the answer (stale while revalidating), so a page never waits for more than today plus the days it
// has never seen.
import type { ConsoleContext } from '../ConsoleContext.ts';
import { beijingDay, daysFrom, type DailyRow } from './relayRows.ts';

interface Kept {
  rows: DailyRow[];
  at: number;
}

export class DailyCache {
  readonly #days = new Map<string, Kept>();
  readonly #get: <T>(path: string) => Promise<T>;
  readonly #maxAgeMs: number;
  readonly #maxDays: number;
  #refreshing: Promise<void> | undefined;

  constructor(get: <T>(path: string) => Promise<T>, options: { maxAgeMs?: number; maxDays?: number } = {}) {
    this.#get = get;
    this.#maxAgeMs = options.maxAgeMs ?? 300_000;
    this.#maxDays = options.maxDays ?? 16;
  }

  /** Every mine's rows from `from` to `to` (both included, ≤ 7 days: the relay's bound for all mines). */
  async rows(from: string, to: string, now = Date.now()): Promise<DailyRow[]> {
    const today = beijingDay(now);
    const days = daysFrom(from, to);
    const missing = days.filter((d) => d >= today || !this.#days.has(d));
    const fetched = missing.length ? await this.#fetch(missing[0]!, missing[missing.length - 1]!, today, now) : new Map<string, DailyRow[]>();
    const stale = days.filter((d) => d < today && !missing.includes(d) && now - this.#days.get(d)!.at > this.#maxAgeMs);
    if (stale.length && !this.#refreshing) {
      this.#refreshing = this.#fetch(stale[0]!, stale[stale.length - 1]!, today, now)
        .then(() => undefined, () => undefined)
        .finally(() => (this.#refreshing = undefined));
    }
    return days.flatMap((d) => fetched.get(d) ?? this.#days.get(d)?.rows ?? []);
  }

  /** for tests: the refresh under way, if any */
  settled(): Promise<void> {
    return this.#refreshing ?? Promise.resolve();
  }

  async #fetch(from: string, to: string, today: string, now: number): Promise<Map<string, DailyRow[]>> {
    const { rows } = await this.#get<{ rows: DailyRow[] }>(`/admin/daily?from=${from}&to=${to}`);
    const byDay = new Map<string, DailyRow[]>(daysFrom(from, to).map((d) => [d, []]));
    for (const r of rows) byDay.get(r.day)?.push(r);
    for (const [d, list] of byDay) if (d < today) this.#days.set(d, { rows: list, at: now });
    // the oldest days go first
    const kept = [...this.#days.keys()].sort();
    for (const d of kept.slice(0, Math.max(0, kept.length - this.#maxDays))) this.#days.delete(d);
    return byDay;
  }
}

const caches = new WeakMap<ConsoleContext, DailyCache>();

/** The console's one cache (per running console). */
export function dailyCacheOf(ctx: ConsoleContext): DailyCache {
  let c = caches.get(ctx);
  if (!c) caches.set(ctx, (c = new DailyCache((path) => ctx.relay.get(path))));
  return c;
}
