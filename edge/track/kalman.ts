// Constant-velocity Kalman filter for one box, state (cx, cy, w, h) and their rates, time in
// seconds because the detector runs at irregular instants (motion gating skips frames).
//
// Why four independent 2-state filters instead of one 8-state filter: the transition, the
// measurement (positions only) and the noise covariances, all diagonal per coordinate as in
// SORT/ByteTrack, never couple two coordinates, so the 8×8 filter factors exactly into four
// (position, rate) filters. The noise scales with the box size (larger boxes jitter more in pixels):
// x-like coordinates scale with the width, y-like ones with the height.
import type { Box } from '../types.ts';

export interface KalmanNoise {
  /** measurement standard deviation, as a share of the box size */
  measurement: number;
  /** position process noise std per 0.2 s step (one frame at 5 fps), share of the box size */
  position: number;
  /** rate process noise std, share of the box size per second, per √second */
  velocity: number;
  /** std of the unknown initial rate, share of the box size per second */
  initialVelocity: number;
}

export const DEFAULT_KALMAN_NOISE: KalmanNoise = {
  measurement: 0.05,
  position: 0.05,
  velocity: 0.5,
  initialVelocity: 1,
};

/** One coordinate and its rate: value x, rate v, covariance [[pxx, pxv], [pxv, pvv]]. */
class Axis {
  x: number;
  v = 0;
  pxx: number;
  pxv = 0;
  pvv: number;

  constructor(x: number, posStd: number, velStd: number) {
    this.x = x;
    this.pxx = posStd * posStd;
    this.pvv = velStd * velStd;
  }

  predict(dt: number, qx: number, qv: number): void {
    this.x += this.v * dt;
    this.pxx += 2 * dt * this.pxv + dt * dt * this.pvv + qx;
    this.pxv += dt * this.pvv;
    this.pvv += qv;
  }

  update(z: number, r: number): void {
    const s = this.pxx + r;
    const kx = this.pxx / s;
    const kv = this.pxv / s;
    const innovation = z - this.x;
    this.x += kx * innovation;
    this.v += kv * innovation;
    const pxx = this.pxx;
    const pxv = this.pxv;
    this.pxx = (1 - kx) * pxx;
    this.pxv = (1 - kx) * pxv;
    this.pvv -= kv * pxv;
  }
}

export class BoxKalman {
  readonly #noise: KalmanNoise;
  readonly #cx: Axis;
  readonly #cy: Axis;
  readonly #w: Axis;
  readonly #h: Axis;

  constructor(box: Box, noise: KalmanNoise = DEFAULT_KALMAN_NOISE) {
    this.#noise = noise;
    const w = box.x2 - box.x1;
    const h = box.y2 - box.y1;
    const pos = 2 * noise.measurement;
    const vel = noise.initialVelocity;
    this.#cx = new Axis((box.x1 + box.x2) / 2, pos * w, vel * w);
    this.#cy = new Axis((box.y1 + box.y2) / 2, pos * h, vel * h);
    this.#w = new Axis(w, pos * w, vel * w);
    this.#h = new Axis(h, pos * h, vel * h);
  }

  /** Moves the estimate dt seconds forward (dt ≥ 0). */
  predict(dt: number): void {
    if (!(dt > 0)) return;
    const w = Math.max(1, this.#w.x);
    const h = Math.max(1, this.#h.x);
    const steps = dt / 0.2;
    const qp = this.#noise.position * this.#noise.position * steps;
    const qv = this.#noise.velocity * this.#noise.velocity * dt;
    this.#cx.predict(dt, qp * w * w, qv * w * w);
    this.#w.predict(dt, qp * w * w, qv * w * w);
    this.#cy.predict(dt, qp * h * h, qv * h * h);
    this.#h.predict(dt, qp * h * h, qv * h * h);
  }

  /** Corrects the estimate with a measured box. */
  update(box: Box): void {
    const w = box.x2 - box.x1;
    const h = box.y2 - box.y1;
    const m = this.#noise.measurement;
    const rw = (m * w) ** 2;
    const rh = (m * h) ** 2;
    this.#cx.update((box.x1 + box.x2) / 2, rw);
    this.#w.update(w, rw);
    this.#cy.update((box.y1 + box.y2) / 2, rh);
    this.#h.update(h, rh);
  }

  /** The current estimate as a box (width and height at least 1 px). */
  box(): Box {
    const w = Math.max(1, this.#w.x);
    const h = Math.max(1, this.#h.x);
    return { x1: this.#cx.x - w / 2, y1: this.#cy.x - h / 2, x2: this.#cx.x + w / 2, y2: this.#cy.x + h / 2 };
  }

  /** Estimated rates in pixels per second. */
  velocity(): { cx: number; cy: number; w: number; h: number } {
    return { cx: this.#cx.v, cy: this.#cy.v, w: this.#w.v, h: this.#h.v };
  }
}
