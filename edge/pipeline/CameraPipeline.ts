// One camera's analysis, frame by frame: motion → (detector, when motion lets it and an analysis
// needs it) → tracker → the camera's analyses → events and marks. The same object serves the live
// role and `eseal edge eval`, so what is evaluated is what runs.
import { EventEmitter } from 'node:events';
import type { Detector } from '../detect/detector.ts';
import { MotionDetector, type MotionOptions } from '../motion/MotionDetector.ts';
import { ByteTracker, type ByteTrackerOptions } from '../track/ByteTracker.ts';
import type { Analysis, AnalysisEvent, Frame, Marks, Track } from '../types.ts';

export interface CameraPipelineOptions {
  camera: string;
  width: number;
  height: number;
  analyses: Analysis[];
  /** required when an analysis needs detections */
  detector?: Detector;
  motion?: MotionOptions;
  tracker?: Partial<ByteTrackerOptions>;
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
}

export class CameraPipeline extends EventEmitter<CameraPipelineEvents> {
  readonly camera: string;
  readonly analyses: readonly Analysis[];
  readonly #detector: Detector | undefined;
  readonly #needsDetections: boolean;
  readonly #motion: MotionDetector;
  readonly #tracker: ByteTracker;
  #tracks: Track[] = [];
  readonly #stats: CameraPipelineStats = { frames: 0, detected: 0, detectorDropped: 0, events: 0 };

  constructor(options: CameraPipelineOptions) {
    super();
    this.camera = options.camera;
    this.analyses = options.analyses;
    this.#needsDetections = options.analyses.some((a) => a.needsDetections);
    if (this.#needsDetections && !options.detector) throw new Error(`camera ${options.camera}: an analysis needs detections but no detector was given`);
    this.#detector = options.detector;
    this.#motion = new MotionDetector(options.width, options.height, options.motion);
    this.#tracker = new ByteTracker(options.tracker);
  }

  get needsDetections(): boolean {
    return this.#needsDetections;
  }

  stats(): CameraPipelineStats {
    return { ...this.#stats };
  }

  /** Analyses one frame; resolves with its events once the detector (if it ran) answered. */
  async process(frame: Frame): Promise<AnalysisEvent[]> {
    this.#stats.frames++;
    const motion = this.#motion.update(frame);
    let detections;
    if (this.#needsDetections && motion.active) {
      detections = await this.#detector!.detect(frame);
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

  /** The end of the input (a replayed file, a shutdown): events the analyses still hold. */
  flush(): AnalysisEvent[] {
    const events: AnalysisEvent[] = [];
    for (const analysis of this.analyses) events.push(...(analysis.flush?.() ?? []));
    this.#stats.events += events.length;
    for (const event of events) this.emit('event', event);
    return events;
  }
}
