// One camera's analysis, frame by frame: motion → (detector, when the detection gate lets it: motion
// where an analysis looks, a track followed, the keep-alive) → tracker → the camera's analyses →
// events and marks. The same object serves the live
// role and `eseal edge eval`, so what is evaluated is what runs.
import { EventEmitter } from 'node:events';
import type { Detector } from '../detect/detector.ts';
import { hasFocusLines, refineNearLines, type RefineOptions } from '../detect/refine.ts';
import { MotionDetector, type MotionOptions } from '../motion/MotionDetector.ts';
import { DetectionGate, type DetectionGateOptions, type GateReason } from './DetectionGate.ts';
import { ByteTracker, type ByteTrackerOptions } from '../track/ByteTracker.ts';
import type { Analysis, AnalysisEvent, Frame, Marks, MotionResult, Track } from '../types.ts';

/** Detector runs a moving track may go unmatched and still keep the detector running. */
const FOLLOW_MISSED_RUNS = 5;

export interface CameraPipelineOptions {
  camera: string;
  width: number;
  height: number;
  analyses: Analysis[];
  /** required when an analysis needs detections */
  detector?: Detector;
  motion?: MotionOptions;
  tracker?: Partial<ByteTrackerOptions>;
  /** the second look at small objects near a counting line (detect/refine.ts); false turns it off */
  refine?: Partial<RefineOptions> | false;
  /** which frames go to the detector (DetectionGate.ts); false: every frame the motion stage lets through */
  gate?: Partial<DetectionGateOptions> | false;
}

export interface CameraPipelineEvents {
  /** every processed frame with the marks that apply to it (for the live stream and clips) */
  frame: [frame: Frame, marks: Marks[]];
  event: [event: AnalysisEvent];
}

export interface CameraPipelineStats {
  frames: number;
  detected: number;
  /** frames the detector dropped for a newer one of this camera */
  detectorDropped: number;
  events: number;
  /** frames the detector ran on, by why the gate let them through */
  gated: Partial<Record<GateReason | 'motion', number>>;
}

export class CameraPipeline extends EventEmitter<CameraPipelineEvents> {
  readonly camera: string;
  readonly analyses: readonly Analysis[];
  readonly #detector: Detector | undefined;
  readonly #needsDetections: boolean;
  readonly #motion: MotionDetector;
  readonly #tracker: ByteTracker;
  #tracks: Track[] = [];
  readonly #refine: Partial<RefineOptions> | false;
  readonly #gate: DetectionGate | undefined;
  readonly #stats: CameraPipelineStats = { frames: 0, detected: 0, detectorDropped: 0, events: 0, gated: {} };

  constructor(options: CameraPipelineOptions) {
    super();
    this.camera = options.camera;
    this.analyses = options.analyses;
    this.#needsDetections = options.analyses.some((a) => a.needsDetections);
    if (this.#needsDetections && !options.detector) throw new Error(`camera ${options.camera}: an analysis needs detections but no detector was given`);
    this.#detector = options.detector;
    this.#motion = new MotionDetector(options.width, options.height, options.motion);
    this.#tracker = new ByteTracker(options.tracker);
    this.#refine = options.refine ?? {};
    this.#gate = options.gate === false ? undefined : new DetectionGate(options.analyses, options.width, options.height, options.gate);
  }

  get needsDetections(): boolean {
    return this.#needsDetections;
  }

  stats(): CameraPipelineStats {
    return { ...this.#stats, gated: { ...this.#stats.gated } };
  }

  /** Analyses one frame; resolves with its events once the detector (if it ran) answered. */
  async process(frame: Frame): Promise<AnalysisEvent[]> {
    this.#stats.frames++;
    const motion = this.#motion.update(frame);
    let detections;
    // The motion stage misses a small person far away (a few hundred pixels of change, under
    // minRatio): while a track is moving, the detector keeps running (the gate is told), or the
    // tracker, fed every keep-alive period only, loses the person it follows and a line count never
    // sees them cross.
    const reason = this.#needsDetections ? this.#runDetector(motion) : undefined;
    if (reason) {
      this.#stats.gated[reason] = (this.#stats.gated[reason] ?? 0) + 1;
      detections = await this.#detector!.detect(frame);
      if (detections && this.#refine !== false) {
        const lines = this.analyses.flatMap((a) => (hasFocusLines(a) ? a.focusLines(frame.width, frame.height) : []));
        if (lines.length) detections = await refineNearLines(this.#detector!, frame, detections, lines, this.#detector!.stats().inputSize, this.#refine);
      }
      if (detections) {
        this.#stats.detected++;
        this.#tracks = this.#tracker.update(detections, frame.at);
      } else {
        this.#stats.detectorDropped++;
      }
    }
    const ctx = { frame, motion, detections, tracks: this.#tracks };
    const events: AnalysisEvent[] = [];
    for (const analysis of this.analyses) events.push(...analysis.process(ctx));
    this.#stats.events += events.length;
    this.emit('frame', frame, this.analyses.map((a) => a.marks()));
    for (const event of events) this.emit('event', event);
    return events;
  }

  #runDetector(motion: MotionResult): GateReason | 'motion' | undefined {
    if (this.#gate) return this.#gate.decide(motion, this.#following(), this.#tracks);
    return motion.active || this.#following() ? 'motion' : undefined;
  }

  /**
   * A confirmed track whose foot point moved over its last few points, seen within the last few
   * runs: two people overlapping can both go undetected for a frame or two, and stopping the
   * detector then lets their tracks die.
   */
  #following(): boolean {
    return this.#tracks.some((t) => {
      if (!t.confirmed || t.missed > FOLLOW_MISSED_RUNS || t.path.length < 2) return false;
      const a = t.path[Math.max(0, t.path.length - 5)]!;
      const b = t.path[t.path.length - 1]!;
      return Math.hypot(b.x - a.x, b.y - a.y) >= 2;
    });
  }

  /** The end of the input (a replayed file, a shutdown): events the analyses still hold. */
  flush(): AnalysisEvent[] {
    const events: AnalysisEvent[] = [];
    for (const analysis of this.analyses) events.push(...(analysis.flush?.() ?? []));
    this.#stats.events += events.length;
    for (const event of events) this.emit('event', event);
    return events;
  }
}
