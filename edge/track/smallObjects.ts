// The detector's confidence falls with an object's size even where it finds the object well: on
// the evaluation set's elevated views, CenterNet at input 512 found 77% of persons 24–40 px tall
// (IoU ≥ 0.3) but scored only 1% of them 0.5 or more (median 0.31; 0.46 at 40–64 px, 0.57 above).
// Fixed thresholds made of 0.5 then drop every far person: nobody walking towards the camera from
// the far end got a track before being 60 px tall, and a person walking away lost theirs. So
// thresholds are applied to a score scaled up for small boxes, as far as `floor` allows.

export interface SmallObjectScaling {
  /** boxes at least this tall (frame pixels) keep their score */
  fullHeight: number;
  /** the least factor a threshold is multiplied by, for the smallest boxes (1 turns scaling off) */
  floor: number;
}

export const SMALL_OBJECT_DEFAULTS: SmallObjectScaling = { fullHeight: 80, floor: 0.6 };

/** The score thresholds compare against: `score` divided by max(floor, height / fullHeight). */
export function sizedScore(score: number, height: number, s: SmallObjectScaling = SMALL_OBJECT_DEFAULTS): number {
  if (s.floor >= 1 || height >= s.fullHeight) return score;
  return score / Math.max(s.floor, height / s.fullHeight);
}
