// A tiny seeded PRNG (mulberry32) so the evaluation set is the same bytes on every run and every
// machine: Math.random would give a different set, and different scores, each time.

export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform in [lo, hi) */
  range(lo: number, hi: number): number;
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number;
  /** standard normal (Box–Muller) */
  normal(): number;
  /** one element of a non-empty list */
  pick<T>(items: readonly T[]): T;
}

/** A generator seeded by a number or a string (hashed), e.g. `rng('persons-1:frame:12')`. */
export function rng(seed: number | string): Rng {
  let state = (typeof seed === 'string' ? hashString(seed) : seed) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    range: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor((hi - lo + 1) * next()),
    normal: () => {
      const u = 1 - next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
  };
}

/** FNV-1a, 32 bits: enough to turn a label into a seed. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
