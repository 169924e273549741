// Failed logins counted per source address and per user name over a sliding window; past either
// limit, logins are refused before the password is checked (scrypt is costly, guessing is slow).
// In memory and bounded: at most `maxKeys` keys, the oldest dropped first.
export interface LoginLimits {
  perAddress: number;
  perUser: number;
  windowMs: number;
  maxKeys: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perAddress: 20, perUser: 5, windowMs: 15 * 60_000, maxKeys: 10_000 };

export class LoginLimiter {
  readonly #limits: LoginLimits;
  readonly #failures = new Map<string, number[]>();

  constructor(limits: Partial<LoginLimits> = {}) {
    this.#limits = { ...DEFAULT_LOGIN_LIMITS, ...limits };
  }

  #recent(key: string, now: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((at) => at > now - this.#limits.windowMs);
    if (list.length) this.#failures.set(key, list);
    else this.#failures.delete(key);
    return list;
  }

  /** 'address' or 'user' when that limit is reached, else undefined */
  blocked(address: string, user: string, now = Date.now()): 'address' | 'user' | undefined {
    if (this.#recent(`a:${address}`, now).length >= this.#limits.perAddress) return 'address';
    if (this.#recent(`u:${user}`, now).length >= this.#limits.perUser) return 'user';
    return undefined;
  }

  failed(address: string, user: string, now = Date.now()): void {
    for (const key of [`a:${address}`, `u:${user.slice(0, 64)}`]) {
      const list = this.#recent(key, now);
      list.push(now);
      this.#failures.delete(key);
      this.#failures.set(key, list.slice(-this.#limits.perAddress));
    }
    while (this.#failures.size > this.#limits.maxKeys) this.#failures.delete(this.#failures.keys().next().value!);
  }

  /** a good login clears its user's count (not its address's: one address may try many names) */
  succeeded(user: string): void {
    this.#failures.delete(`u:${user}`);
  }
}
