// Debounce by event time: a new state is taken only after frames have voted for it for `holdMs`.
// A few contrary votes in a row (`tolerance`) are forgiven, so one odd frame (a compression
// glitch, a flash) does not restart the clock; a frame that cannot decide neither helps nor hurts.

export class Persistence<S> {
  /** the confirmed state; undefined until the first one is confirmed */
  state: S | undefined;
  /** the state frames are voting for, not yet confirmed */
  pending: S | undefined;
  /** when the pending state's votes began; after a change, when the new state began */
  since = 0;
  private contrary = 0;

  constructor(
    private readonly holdMs: number,
    initial?: S,
    private readonly tolerance = 2,
  ) {
    this.state = initial;
  }

  /** Feeds one frame's vote (undefined: undecided). True when the confirmed state changed on this frame. */
  update(at: number, vote: S | undefined): boolean {
    if (vote === undefined) return false;
    if (vote === this.state) {
      if (this.pending !== undefined && ++this.contrary > this.tolerance) this.pending = undefined;
      return false;
    }
    if (vote !== this.pending) {
      this.pending = vote;
      this.since = at;
    }
    this.contrary = 0;
    if (at - this.since < this.holdMs) return false;
    this.state = vote;
    this.pending = undefined;
    return true;
  }

  /** Sets the confirmed state outright (e.g. after a new reference is adopted). */
  reset(state: S | undefined): void {
    this.state = state;
    this.pending = undefined;
    this.contrary = 0;
  }
}
