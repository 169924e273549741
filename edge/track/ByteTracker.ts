// Multi-object tracker after the idea of ByteTrack (Zhang et al., 2022): keep low-score detections
// instead of dropping them, and use them to continue tracks that are already established (an
// occluded or blurred person scores low but is still there), while only confident detections may
// start tracks. Motion is a constant-velocity Kalman filter per track; association is by IoU with an
// optimal assignment, per class (a person never continues a vehicle's track).
//
// Time: call update() only on frames where the detector ran. Every call is one "frame" for the
// hit/miss counts; frames the detector skipped do not age tracks. The Kalman prediction uses the
// real time between calls (capped at maxPredictSeconds, so a track does not fly off after a long
// pause of the detector) and a lost track also expires after maxLostSeconds of wall time, so that an
// object that left before the detector paused is not revived by a new one minutes later.
//
// Occlusion, after OC-SORT's observation-centric recovery (Cao et al., 2023): while a track is lost
// its prediction keeps the velocity it had, but a person who turns while hidden behind someone else
// comes out where that velocity does not lead. So, before a new track is born for a confident
// detection that no followed track took, a track lost for a moment may take it by overlapping
// either its prediction or the box it was last *seen* with. Otherwise the person gets a second id
// part-way along the walk, and a line count sees neither id cross.
import type { Box, Detection, ObjectClass, Track } from '../types.ts';
import { matchWithLimit } from './assignment.ts';
import { iou } from './iou.ts';
import { BoxKalman, DEFAULT_KALMAN_NOISE, type KalmanNoise } from './kalman.ts';
import { SMALL_OBJECT_DEFAULTS, sizedScore, type SmallObjectScaling } from './smallObjects.ts';

export interface ByteTrackerOptions {
  /** detections at or above this score are "high" (first association, may start tracks) */
  highThreshold: number;
  /** detections below this are ignored; between low and high they only continue confirmed tracks */
  lowThreshold: number;
  /** a high detection left unmatched starts a track only at or above this score */
  newTrackThreshold: number;
  /** least IoU to match a high detection with a confirmed or lost track */
  highIou: number;
  /** least IoU to match a low detection with a confirmed track (stricter: low scores are doubtful) */
  lowIou: number;
  /**
   * added to the cost (1 − IoU) of matching a lost track, so that a lost track whose prediction
   * drifts over a visible object does not take it from the track that follows it (not in the
   * paper; on two people crossing with the rear one hidden, 0.15 cut ID switches from 65 to 3 in
   * 200 runs). A lost track must then overlap by highIou + lostPenalty.
   */
  lostPenalty: number;
  /**
   * least IoU, with its prediction or with the box it was last seen with, for a lost track to take a
   * confident detection that no followed track took (recovery; no lostPenalty: nothing is taken
   * from a followed track). Infinity turns recovery off.
   */
  recoverIou: number;
  /**
   * recovery is for short occlusions: only tracks unseen for at most this long may recover. Where an
   * object was seen says little about where it is a few seconds later, and an object that left the
   * frame would otherwise hand its id (and its state in the analyses) to the next one entering there.
   */
  recoverSeconds: number;
  /** least IoU to match a high detection with a tentative track */
  tentativeIou: number;
  /** matches before a track is confirmed */
  minHits: number;
  /** detector runs a confirmed track may go unmatched before it is dropped */
  maxMissedFrames: number;
  /** seconds a track may go unmatched before it is dropped, whatever the number of runs */
  maxLostSeconds: number;
  /** longest gap between calls that the prediction extrapolates over */
  maxPredictSeconds: number;
  /** foot points kept per track */
  pathLength: number;
  kalman: KalmanNoise;
  /** score thresholds apply to the score scaled up for small boxes (see smallObjects.ts) */
  small: SmallObjectScaling;
}

export const BYTE_TRACKER_DEFAULTS: ByteTrackerOptions = {
  highThreshold: 0.5,
  lowThreshold: 0.1,
  newTrackThreshold: 0.6,
  highIou: 0.2,
  lowIou: 0.5,
  lostPenalty: 0.15,
  recoverIou: 0.2,
  recoverSeconds: 1,
  tentativeIou: 0.3,
  minHits: 2,
  maxMissedFrames: 15,
  maxLostSeconds: 5,
  maxPredictSeconds: 1,
  pathLength: 64,
  kalman: DEFAULT_KALMAN_NOISE,
  small: SMALL_OBJECT_DEFAULTS,
};

interface TrackState {
  id: number;
  cls: ObjectClass;
  filter: BoxKalman;
  box: Box;
  /** the last measured box */
  seen: Box;
  score: number;
  hits: number;
  missed: number;
  confirmed: boolean;
  lastSeenAt: number;
  path: { at: number; x: number; y: number }[];
}

export class ByteTracker {
  readonly options: ByteTrackerOptions;
  #tracks: TrackState[] = [];
  #nextId = 1;
  #lastAt: number | undefined;
  #calls = 0;

  constructor(options: Partial<ByteTrackerOptions> = {}) {
    this.options = { ...BYTE_TRACKER_DEFAULTS, ...options };
  }

  /**
   * Feeds the detections of one detector run at time `at` (ms) and returns the live tracks, by id:
   * tentative, confirmed and lost ones (missed > 0, box = prediction). Analyses count confirmed ones.
   */
  update(detections: readonly Detection[], at: number): Track[] {
    const o = this.options;
    this.#calls++;
    const dt = this.#lastAt === undefined ? 0 : Math.min(Math.max(0, (at - this.#lastAt) / 1000), o.maxPredictSeconds);
    this.#lastAt = at;
    for (const t of this.#tracks) {
      t.filter.predict(dt);
      t.box = t.filter.box();
    }

    const sized = new Map(detections.map((d) => [d, sizedScore(d.score, d.box.y2 - d.box.y1, o.small)]));
    const valid = detections.filter((d) => sized.get(d)! >= o.lowThreshold && d.box.x2 > d.box.x1 && d.box.y2 > d.box.y1);
    const high = valid.filter((d) => sized.get(d)! >= o.highThreshold);
    const low = valid.filter((d) => sized.get(d)! < o.highThreshold);
    const matched = new Set<TrackState>();

    // 1. confident detections against every established track, lost ones included
    const established = this.#tracks.filter((t) => t.confirmed);
    const first = associate(established, high, o.highIou, o.lostPenalty);
    for (const [t, d] of first.pairs) this.#hit(t, d, at, matched);

    // 2. doubtful detections only continue tracks that were being followed until now
    const following = first.tracks.filter((t) => t.missed === 0);
    const second = associate(following, low, o.lowIou);
    for (const [t, d] of second.pairs) this.#hit(t, d, at, matched);

    // 3. lost tracks may recover confident detections nobody followed, by their last observation too
    const lost = first.tracks.filter((t) => t.missed > 0 && at - t.lastSeenAt <= o.recoverSeconds * 1000);
    const recovery = o.recoverIou <= 1 ? associate(lost, first.detections, o.recoverIou, 0, true) : { pairs: [], detections: first.detections };
    for (const [t, d] of recovery.pairs) this.#hit(t, d, at, matched);

    // 4. tentative tracks get a second chance with what confident detections are left
    const tentative = this.#tracks.filter((t) => !t.confirmed);
    const third = associate(tentative, recovery.detections, o.tentativeIou);
    for (const [t, d] of third.pairs) this.#hit(t, d, at, matched);

    const survivors: TrackState[] = [];
    for (const t of this.#tracks) {
      if (matched.has(t)) {
        survivors.push(t);
        continue;
      }
      if (!t.confirmed) continue; // a tentative track missed once was most likely noise
      t.missed++;
      if (t.missed > o.maxMissedFrames || at - t.lastSeenAt > o.maxLostSeconds * 1000) continue;
      survivors.push(t);
    }

    // 5. new tracks from confident detections nothing claimed
    for (const d of third.detections) {
      if (sized.get(d)! < o.newTrackThreshold) continue;
      const t: TrackState = {
        id: this.#nextId++,
        cls: d.cls,
        filter: new BoxKalman(d.box, o.kalman),
        box: { ...d.box },
        seen: { ...d.box },
        score: d.score,
        hits: 1,
        missed: 0,
        // objects already in view when the tracker starts are taken as real at once
        confirmed: this.#calls === 1 || o.minHits <= 1,
        lastSeenAt: at,
        path: [footOf(d.box, at)],
      };
      survivors.push(t);
    }
    this.#tracks = survivors.sort((a, b) => a.id - b.id);
    return this.tracks();
  }

  /** The live tracks after the last update, without changing anything. */
  tracks(): Track[] {
    return this.#tracks.map((t) => ({
      id: t.id,
      box: { ...t.box },
      score: t.score,
      cls: t.cls,
      hits: t.hits,
      missed: t.missed,
      confirmed: t.confirmed,
      path: t.path.slice(),
    }));
  }

  #hit(t: TrackState, d: Detection, at: number, matched: Set<TrackState>): void {
    t.filter.update(d.box);
    t.seen = { ...d.box };
    t.box = { ...d.box }; // report the measured box: analyses reason about what was seen
    t.score = d.score;
    t.hits++;
    t.missed = 0;
    t.lastSeenAt = at;
    if (t.hits >= this.options.minHits) t.confirmed = true;
    t.path.push(footOf(d.box, at));
    if (t.path.length > this.options.pathLength) t.path.splice(0, t.path.length - this.options.pathLength);
    matched.add(t);
  }
}

function footOf(box: Box, at: number): { at: number; x: number; y: number } {
  return { at, x: (box.x1 + box.x2) / 2, y: box.y2 };
}

interface Association {
  pairs: [TrackState, Detection][];
  /** tracks left unmatched */
  tracks: TrackState[];
  /** detections left unmatched */
  detections: Detection[];
}

/**
 * Optimal IoU matching; a lost track pays lostPenalty on top of 1 − IoU (see the option). With
 * `bySeen`, a track's IoU is the better of its prediction's and its last observed box's.
 */
function associate(tracks: TrackState[], detections: Detection[], minIou: number, lostPenalty = 0, bySeen = false): Association {
  const overlap = (t: TrackState, d: Detection) => (bySeen ? Math.max(iou(t.box, d.box), iou(t.seen, d.box)) : iou(t.box, d.box));
  const cost = tracks.map((t) => detections.map((d) => (d.cls === t.cls ? 1 - overlap(t, d) + (t.missed > 0 ? lostPenalty : 0) : Infinity)));
  const m = matchWithLimit(cost, 1 - minIou, detections.length);
  return {
    pairs: m.matches.map(([i, j]) => [tracks[i]!, detections[j]!]),
    tracks: m.unmatchedRows.map((i) => tracks[i]!),
    detections: m.unmatchedCols.map((j) => detections[j]!),
  };
}
