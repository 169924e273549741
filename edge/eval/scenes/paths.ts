// Keyframed motion of a pasted object (a walker's foot point, a truck's bottom centre) and the
// exact times it crosses a counting line: the ground truth comes from the same path the frames
// are drawn from, so the two cannot disagree.

export interface Key {
  /** seconds from clip start */
  t: number;
  /** frame pixels: the object's bottom centre */
  x: number;
  y: number;
}

export interface Crossing {
  t: number;
  /** +1 into the counted side, −1 out of it */
  direction: 1 | -1;
}

export class Path {
  readonly keys: readonly Key[];

  constructor(keys: readonly Key[]) {
    if (keys.length < 2) throw new RangeError('a path needs at least two keys');
    for (let i = 1; i < keys.length; i++) {
      if (!(keys[i]!.t > keys[i - 1]!.t)) throw new RangeError(`path keys must go forward in time (key ${i})`);
    }
    this.keys = keys;
  }

  get start(): number {
    return this.keys[0]!.t;
  }

  get end(): number {
    return this.keys[this.keys.length - 1]!.t;
  }

  /** Position at `t`, or undefined before the first key and after the last. */
  at(t: number): { x: number; y: number } | undefined {
    if (t < this.start || t > this.end) return undefined;
    for (let i = 1; i < this.keys.length; i++) {
      const b = this.keys[i]!;
      if (t <= b.t) {
        const a = this.keys[i - 1]!;
        const f = (t - a.t) / (b.t - a.t);
        return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
      }
    }
    const last = this.keys[this.keys.length - 1]!;
    return { x: last.x, y: last.y };
  }

  /**
   * Times the point crosses the segment a–b (pixels), signed by the side `towards` lies on.
   * Within a key segment the motion is linear, so the signed distance is too: one root at most.
   */
  crossings(a: { x: number; y: number }, b: { x: number; y: number }, towards: { x: number; y: number }): Crossing[] {
    const side = (p: { x: number; y: number }): number => (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
    const sign = Math.sign(side(towards));
    const out: Crossing[] = [];
    for (let i = 1; i < this.keys.length; i++) {
      const p = this.keys[i - 1]!;
      const q = this.keys[i]!;
      const sp = side(p) * sign;
      const sq = side(q) * sign;
      // A point on the line has not crossed yet: only strictly inside counts as the other side.
      if (sp > 0 === sq > 0) continue;
      const f = sp / (sp - sq);
      const x = p.x + (q.x - p.x) * f;
      const y = p.y + (q.y - p.y) * f;
      // Only where the crossing lies on the drawn segment, not on its extension.
      const len2 = (b.x - a.x) ** 2 + (b.y - a.y) ** 2;
      const along = ((x - a.x) * (b.x - a.x) + (y - a.y) * (b.y - a.y)) / len2;
      if (along < 0 || along > 1) continue;
      out.push({ t: p.t + (q.t - p.t) * f, direction: sq > 0 ? 1 : -1 });
    }
    return out;
  }
}
