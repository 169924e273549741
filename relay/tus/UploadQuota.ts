// What the open resumable uploads hold, per account and in all: how many, and their Upload-Length
// added up (the disk they may fill). An upload counts from its creation until it is complete,
// expired or removed. Counted in memory, from the records at start, so a creation is checked
// without reading every record; keyed by upload id, so an upload released twice counts once.
export interface QuotaLimits {
  maxOpenPerAccount: number;
  maxOpen: number;
  maxReservedBytesPerAccount: number;
  maxReservedBytes: number;
}

export interface Holding {
  open: number;
  bytes: number;
}

/** Why a creation does not fit: the account's own limit, or the relay's for everyone. */
export interface OverQuota {
  scope: 'account' | 'all';
  what: 'open' | 'bytes';
  held: Holding;
  limit: number;
}

export class UploadQuota {
  readonly #limits: QuotaLimits;
  readonly #uploads = new Map<string, { account: string; bytes: number }>();
  readonly #byAccount = new Map<string, Holding>();
  readonly #all: Holding = { open: 0, bytes: 0 };

  constructor(limits: QuotaLimits) {
    this.#limits = limits;
  }

  /** What `account` would exceed by opening an upload of `bytes`, or undefined when it fits. */
  check(account: string, bytes: number): OverQuota | undefined {
    const l = this.#limits;
    const mine = this.held(account);
    if (mine.open + 1 > l.maxOpenPerAccount) return { scope: 'account', what: 'open', held: mine, limit: l.maxOpenPerAccount };
    if (mine.bytes + bytes > l.maxReservedBytesPerAccount) return { scope: 'account', what: 'bytes', held: mine, limit: l.maxReservedBytesPerAccount };
    const all = this.held();
    if (all.open + 1 > l.maxOpen) return { scope: 'all', what: 'open', held: all, limit: l.maxOpen };
    if (all.bytes + bytes > l.maxReservedBytes) return { scope: 'all', what: 'bytes', held: all, limit: l.maxReservedBytes };
    return undefined;
  }

  /** Counts an open upload (once per id). */
  hold(id: string, account: string, bytes: number): void {
    if (this.#uploads.has(id)) return;
    this.#uploads.set(id, { account, bytes });
    const mine = this.#byAccount.get(account) ?? { open: 0, bytes: 0 };
    mine.open++;
    mine.bytes += bytes;
    this.#byAccount.set(account, mine);
    this.#all.open++;
    this.#all.bytes += bytes;
  }

  /** The upload no longer counts (complete, expired, removed); a no-op for one not counted. */
  release(id: string): void {
    const u = this.#uploads.get(id);
    if (!u) return;
    this.#uploads.delete(id);
    const mine = this.#byAccount.get(u.account)!;
    mine.open--;
    mine.bytes -= u.bytes;
    if (mine.open === 0) this.#byAccount.delete(u.account);
    this.#all.open--;
    this.#all.bytes -= u.bytes;
  }

  /** What an account holds, or all accounts together. */
  held(account?: string): Holding {
    const h = account === undefined ? this.#all : this.#byAccount.get(account);
    return { open: h?.open ?? 0, bytes: h?.bytes ?? 0 };
  }
}
