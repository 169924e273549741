// The lockout after failed logins, as decisions that hold under any concurrency. An attempt is
// counted when it starts: the failures on record plus the attempts still being checked never
// exceed maxFailures, so no more than maxFailures wrong passwords are ever tried between locks,
// however many arrive at once (those beyond wait for a check to end, then are decided again). A
// lock, once set, ends only with time: no attempt, however it ends, clears it.
// AccountStore keeps the failures of real accounts in LMDB and of invented usernames in
// UnknownLogins (bounded memory); the attempts in flight are counted in memory, as they end with
// the process.

export interface LoginState {
  /** consecutive failed logins since the last success or lock */
  failures: number;
  /** ms since epoch; 0 = not locked */
  lockedUntil: number;
}

export interface LockPolicy {
  maxFailures: number;
  /** 0 = no lockout */
  lockMs: number;
}

/**
 * ok: the password was right; failed: it was wrong; undecided: nobody could say (the national
 * platform unreachable for an account the relay has not seen), which counts as no attempt
 */
export type LoginOutcome = 'ok' | 'failed' | 'undecided';

export type StartDecision =
  | { kind: 'admit' }
  /** checks in flight could still make maxFailures: wait for one to end, then decide again */
  | { kind: 'wait' }
  /** locked until then; `next` is the lock to record when this decision sets it */
  | { kind: 'locked'; lockedUntil: number; next?: LoginState };

export interface FinishDecision {
  /** the state to record: undefined = no change, null = none (remove the record) */
  next?: LoginState | null;
  /** whether the attempt logs in */
  admitted: boolean;
  /** ms since epoch; 0 = not locked */
  lockedUntil: number;
}

/** A lock starts a fresh count: after it lapses the account gets maxFailures tries again. */
function lock(policy: LockPolicy, now: number): LoginState {
  return { failures: 0, lockedUntil: now + policy.lockMs };
}

/** An attempt is about to check a password; `inFlight` attempts of this username are being checked. */
export function decideStart(state: LoginState | undefined, inFlight: number, policy: LockPolicy, now: number): StartDecision {
  if (state && state.lockedUntil > now) return { kind: 'locked', lockedUntil: state.lockedUntil };
  if (policy.lockMs <= 0) return { kind: 'admit' };
  const failures = state?.failures ?? 0;
  if (failures >= policy.maxFailures) {
    // on record without a lock (maxFailures lowered since): lock now
    const next = lock(policy, now);
    return { kind: 'locked', lockedUntil: next.lockedUntil, next };
  }
  return failures + inFlight < policy.maxFailures ? { kind: 'admit' } : { kind: 'wait' };
}

/** An attempt admitted by decideStart ended with `outcome`. */
export function decideFinish(state: LoginState | undefined, outcome: LoginOutcome, policy: LockPolicy, now: number): FinishDecision {
  const lockedUntil = state && state.lockedUntil > now ? state.lockedUntil : 0;
  if (policy.lockMs <= 0) return { admitted: outcome === 'ok', lockedUntil: 0 };
  switch (outcome) {
    case 'ok':
      // a lock set by attempts that ran beside this one holds against it too
      if (lockedUntil) return { admitted: false, lockedUntil };
      return { next: state ? null : undefined, admitted: true, lockedUntil: 0 };
    case 'failed': {
      if (lockedUntil) return { admitted: false, lockedUntil }; // counted towards the lock already set
      const failures = (state?.failures ?? 0) + 1;
      const next = failures >= policy.maxFailures ? lock(policy, now) : { failures, lockedUntil: 0 };
      return { next, admitted: false, lockedUntil: next.lockedUntil };
    }
    case 'undecided':
      return { admitted: false, lockedUntil };
  }
}

/**
 * Login states of usernames that have no account, in memory only: an invented username costs no
 * database record. Bounded: when full, the least recently tried name is forgotten, and a state
 * untouched for longer than a lock lasts is dropped. Forgetting only ever makes it more lenient;
 * the per-address rate limit still applies to every attempt.
 */
export class UnknownLogins {
  readonly #states = new Map<string, LoginState & { at: number }>();
  readonly #maxEntries: number;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#states.size;
  }

  get(username: string, policy: LockPolicy, now: number): LoginState | undefined {
    const s = this.#states.get(username);
    if (s && s.lockedUntil <= now && now - s.at > policy.lockMs) {
      this.#states.delete(username);
      return undefined;
    }
    return s;
  }

  /** Records a decision's new state: undefined = no change, null = forget. */
  set(username: string, next: LoginState | null | undefined, now: number): void {
    if (next === undefined) return;
    this.#states.delete(username); // re-insert: Map order is recency
    if (next === null) return;
    if (this.#states.size >= this.#maxEntries) {
      const oldest = this.#states.keys().next().value;
      if (oldest !== undefined) this.#states.delete(oldest);
    }
    this.#states.set(username, { ...next, at: now });
  }
}
