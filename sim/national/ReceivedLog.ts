// What the simulated platform has received, in arrival order, with the counters behind stats().
// A call identical to an earlier one (same endpoint and same record; same endpoint, file name and
// bytes) is recorded again and marked duplicate: the tests of the relay's delivery count on it.
import { endpointById } from '../../src/contract/index.ts';
import type { ReceivedFilter, ReceivedItem, SimStats } from './SimTypes.ts';

function emptyStats(): SimStats {
  return {
    received: 0,
    duplicates: 0,
    byEndpoint: {},
    logins: 0,
    loginFailures: 0,
    tokenRejected: 0,
    invalid: 0,
    rejectedByFault: 0,
    byFault: { error5xx: 0, code1: 0, resetMidUpload: 0, reject: 0 },
    mineStatusQueries: 0,
    bodyBytes: 0,
    lastSeq: 0,
  };
}

/** The endpoint id for an id or a full path (`/jy-essa/electronicSeal/infoReport/person`). */
export function endpointIdOf(idOrPath: string): string {
  if (endpointById(idOrPath)) return idOrPath;
  const i = idOrPath.indexOf('/electronicSeal/');
  return i >= 0 ? idOrPath.slice(i + '/electronicSeal/'.length) : idOrPath.replace(/^\//, '');
}

export class ReceivedLog {
  #items: ReceivedItem[] = [];
  #seen = new Set<string>();
  #stats = emptyStats();

  /** Records an accepted call; the seq and the duplicate mark are filled in. */
  add(item: Omit<ReceivedItem, 'seq' | 'duplicate'>): ReceivedItem {
    const key = item.file
      ? `f\u0000${item.endpoint}\u0000${item.file.fileName}\u0000${item.file.sm3}`
      : `r\u0000${item.endpoint}\u0000${JSON.stringify(item.record ?? null)}`;
    const duplicate = this.#seen.has(key);
    this.#seen.add(key);
    const s = this.#stats;
    const full: ReceivedItem = { seq: ++s.lastSeq, ...item, duplicate };
    this.#items.push(full);
    s.received++;
    if (duplicate) s.duplicates++;
    s.byEndpoint[item.endpoint] = (s.byEndpoint[item.endpoint] ?? 0) + 1;
    return full;
  }

  list(filter: ReceivedFilter = {}): ReceivedItem[] {
    const endpoint = filter.endpoint ? endpointIdOf(filter.endpoint) : undefined;
    return this.#items.filter(
      (i) =>
        (endpoint === undefined || i.endpoint === endpoint) &&
        (filter.mineId === undefined || i.mineId === filter.mineId) &&
        (filter.account === undefined || i.account === filter.account) &&
        (filter.since === undefined || i.seq > filter.since),
    );
  }

  /** The live counters (the caller increments the ones about refusals). */
  get counters(): SimStats {
    return this.#stats;
  }

  snapshot(): SimStats {
    return structuredClone(this.#stats);
  }

  /** Forgets every item, the duplicate memory and the counters; seq starts again at 1. */
  reset(): void {
    this.#items = [];
    this.#seen = new Set();
    this.#stats = emptyStats();
  }
}
