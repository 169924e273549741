// The guide checks occlusion and camera movement continuously but wants them reported at most once
// an hour. One limiter can serve every camera: it remembers, per camera and kind, the event time of
// the last report. Event time (frame.at), not the wall clock, so replays and tests behave the same.
import type { AnalysisKind } from '../types.ts';

export class ReportLimiter {
  private readonly last = new Map<string, number>();
  readonly intervalMs: number;

  constructor(intervalSeconds: number) {
    if (!(intervalSeconds >= 0)) throw new RangeError(`report interval must be ≥ 0 s, got ${intervalSeconds}`);
    this.intervalMs = intervalSeconds * 1000;
  }

  /**
   * True when a report at `at` would be allowed. A clock that went back by more than the interval
   * (a wrong clock corrected) counts as a new interval rather than silencing the camera.
   */
  allows(camera: string, kind: AnalysisKind, at: number): boolean {
    const last = this.last.get(key(camera, kind));
    return last === undefined || Math.abs(at - last) >= this.intervalMs;
  }

  /** Records a report at `at` when allowed; returns whether it was. */
  tryReport(camera: string, kind: AnalysisKind, at: number): boolean {
    if (!this.allows(camera, kind, at)) return false;
    this.last.set(key(camera, kind), at);
    return true;
  }

  /**
   * For a condition that began at `onset` and still holds at `now`: its first report is dated at
   * the onset, later ones (once per interval while it lasts) at `now`. Returns the time recorded,
   * or undefined when no report is allowed yet.
   */
  tryReportHeld(camera: string, kind: AnalysisKind, onset: number, now: number, first: boolean): number | undefined {
    const at = first && this.allows(camera, kind, onset) ? onset : now;
    return this.tryReport(camera, kind, at) ? at : undefined;
  }

  /** Time of the last report (ms), if any. */
  lastReport(camera: string, kind: AnalysisKind): number | undefined {
    return this.last.get(key(camera, kind));
  }
}

function key(camera: string, kind: AnalysisKind): string {
  return `${camera}\u0000${kind}`;
}
