// The audit log: every operator action, appended, never changed. Entries are numbered in one
// sequence across processes (the console and the CLI): the number is taken and the entry written
// in one LMDB write transaction.
import type { Database, RootDatabase } from 'lmdb';

export interface AuditEntry {
  seq: number;
  at: number;
  user: string;
  /** the user's role then ('' for a failed login or the CLI) */
  role: string;
  /** login, logout, replay, purge, settings, binding, user.add, user.remove */
  action: string;
  target: string;
  /** ok, or what went wrong */
  result: string;
  /** the client's address, or 'cli' */
  address: string;
}

const SEQ_KEY = -1;

export class AuditLog {
  readonly #root: RootDatabase;
  readonly #db: Database<AuditEntry | number, number>;

  constructor(root: RootDatabase, db: Database<AuditEntry | number, number>) {
    this.#root = root;
    this.#db = db;
  }

  append(entry: Omit<AuditEntry, 'seq' | 'at'> & { at?: number }): Promise<AuditEntry> {
    const clip = (s: string) => s.slice(0, 512);
    return this.#root.transaction(() => {
      const seq = ((this.#db.get(SEQ_KEY) as number | undefined) ?? 0) + 1;
      const full: AuditEntry = {
        seq,
        at: entry.at ?? Date.now(),
        user: clip(entry.user),
        role: clip(entry.role),
        action: clip(entry.action),
        target: clip(entry.target),
        result: clip(entry.result),
        address: clip(entry.address),
      };
      void this.#db.put(SEQ_KEY, seq);
      void this.#db.put(seq, full);
      return full;
    });
  }

  /** Newest first, below `before` (a seq) when given. */
  list(options: { limit: number; before?: number }): AuditEntry[] {
    const out: AuditEntry[] = [];
    const start = options.before === undefined ? Number.MAX_SAFE_INTEGER : options.before - 1;
    for (const { key, value } of this.#db.getRange({ start, end: 0, reverse: true, limit: options.limit })) {
      if (key > 0) out.push(value as AuditEntry);
    }
    return out;
  }
}
