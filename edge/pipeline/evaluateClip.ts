// `eseal edge eval`: runs a recorded clip through the same CameraPipeline the live role uses, in
// replay mode (every frame, as fast as the machine allows, times from the frame index so results
// repeat exactly), and scores the events against the clip's ground truth.
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ANALYSES, linkAnalyses } from '../analyses/registry.ts';
import { readFrames } from '../capture/FfmpegCapture.ts';
import type { Detector } from '../detect/detector.ts';
import { scoreEvents, type ClipScore, type DetectedEvent } from '../eval/score.ts';
import type { TruthFile } from '../eval/truth.ts';
import type { Analysis, AnalysisKind } from '../types.ts';
import { CameraPipeline, type CameraPipelineOptions } from './CameraPipeline.ts';

/** A fixed start so event times are the same on every run (any instant would do). */
export const EVAL_START_AT = Date.UTC(2026, 0, 5, 0, 0, 0);

export interface EvaluateClipOptions {
  /** the clip; default: the truth's `clip` beside the truth file */
  clipPath?: string;
  truth: TruthFile;
  /** where the truth file is, to find the clip by its name */
  truthPath?: string;
  /** needed when the truth asks for person, truck or dispatchRoom */
  detector?: Detector;
  /** the pipeline's settings beyond its analyses (gate, refine, motion, tracker); default: the live role's defaults */
  pipeline?: PipelineSettings;
}

/** What, besides the analyses and the detector, decides what a CameraPipeline finds: the benchmark measures speed and score with one object of these. */
export type PipelineSettings = Pick<CameraPipelineOptions, 'gate' | 'refine' | 'motion' | 'tracker'>;

export interface ClipEvaluation {
  clip: string;
  frames: number;
  events: DetectedEvent[];
  score: ClipScore;
  /** wall time of the run, ms */
  elapsedMs: number;
}

/** The truth's analyses, made as a camera with the same options in edge.cameras[].analyses would make them. */
function analysesOf(truth: TruthFile): Analysis[] {
  const validated: Partial<Record<AnalysisKind, unknown>> = {};
  for (const [kind, raw] of Object.entries(truth.camera.analyses) as [AnalysisKind, unknown][]) {
    if (raw !== undefined) validated[kind] = ANALYSES[kind].validate(raw, `truth.camera.analyses.${kind}`);
  }
  return Object.entries(linkAnalyses(validated)).map(([kind, options]) => ANALYSES[kind as AnalysisKind].create('eval', options));
}

export async function evaluateClip(options: EvaluateClipOptions): Promise<ClipEvaluation> {
  const { truth } = options;
  const clipPath = options.clipPath ?? join(options.truthPath ? dirname(options.truthPath) : '.', truth.clip);
  const analyses = analysesOf(truth);
  const pipeline = new CameraPipeline({
    camera: 'eval',
    width: truth.width,
    height: truth.height,
    analyses,
    ...options.pipeline,
    ...(options.detector ? { detector: options.detector } : {}),
  });
  const events: DetectedEvent[] = [];
  pipeline.on('event', (e) => {
    const d: DetectedEvent = { kind: e.kind, atSeconds: (e.at - EVAL_START_AT) / 1000 };
    if (e.count !== undefined) d.count = e.count;
    if (e.beltStatus !== undefined) d.beltStatus = e.beltStatus;
    events.push(d);
  });
  const started = Date.now();
  let frames = 0;
  for await (const frame of readFrames(pathToFileURL(resolve(clipPath)).href, { camera: 'eval', width: truth.width, height: truth.height, fps: truth.fps, startAt: EVAL_START_AT })) {
    await pipeline.process(frame);
    frames++;
  }
  pipeline.flush();
  return { clip: truth.clip, frames, events, score: scoreEvents(truth, events), elapsedMs: Date.now() - started };
}
