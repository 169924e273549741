// The vocabulary every stage of the edge pipeline shares (capture → motion → detect → track →
// analyses → evidence / live / upload). Stages depend on these types, not on each other.
import type { AiTypeCode, BeltStatusCode } from '../src/contract/codes.ts';

/** One decoded frame at the analysis size, as capture hands it on. */
export interface Frame {
  /** camera key from config (e.g. 'aux-shaft-1'), not the guide's 2-digit cameraId */
  camera: string;
  /** 0, 1, 2… per capture session */
  seq: number;
  /** capture time, ms since the epoch: wall clock for live sources; for `file://` in eval mode, start + seq/fps */
  at: number;
  width: number;
  height: number;
  /** RGB24, row-major, width × height × 3 bytes */
  rgb: Uint8Array;
  /** luma (BT.601), width × height bytes, computed once by capture */
  gray: Uint8Array;
}

export interface Point {
  x: number;
  y: number;
}

/** Axis-aligned box in frame pixels; x2 > x1, y2 > y1. */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** The classes the analyses use; a detector maps its own labels onto these (car/bus/truck → vehicle). */
export type ObjectClass = 'person' | 'vehicle';

export interface Detection {
  box: Box;
  /** 0…1 */
  score: number;
  cls: ObjectClass;
}

export interface Track {
  /** unique per camera for the life of the tracker */
  id: number;
  box: Box;
  score: number;
  cls: ObjectClass;
  /** frames matched in total */
  hits: number;
  /** frames since the last match (0 = matched this frame) */
  missed: number;
  /** confirmed tracks are the ones analyses count */
  confirmed: boolean;
  /** bottom-centre (foot point) of each matched box, oldest first, bounded */
  path: { at: number; x: number; y: number }[];
}

/** What the motion stage says about a frame. */
export interface MotionResult {
  /** share of the (masked) frame whose pixels changed, 0…1 */
  ratio: number;
  /** true when the detector should run on this frame */
  active: boolean;
  /** bounding boxes of changed regions (frame pixels), for marks and for cropping */
  regions: Box[];
}

/** Everything an analysis sees for one frame. */
export interface FrameContext {
  frame: Frame;
  motion: MotionResult;
  /** detector output when the detector ran on this frame, else undefined */
  detections: Detection[] | undefined;
  /** tracker state after this frame (empty when no analysis of the camera needs detections) */
  tracks: readonly Track[];
}

export type AnalysisKind = 'person' | 'truck' | 'belt' | 'dispatchRoom' | 'occlusion' | 'moved';

/** The guide's aiTypeCode for each analysis. */
export const AI_TYPE_OF: Record<AnalysisKind, AiTypeCode> = {
  person: '01',
  truck: '02',
  belt: '03',
  occlusion: '04',
  moved: '05',
  dispatchRoom: '06',
};

/** A finding to report: a record (producing mine) or an evidence clip (shut-down mine). */
export interface AnalysisEvent {
  kind: AnalysisKind;
  camera: string;
  /** when it happened (ms since the epoch); the clip is cut around this instant */
  at: number;
  /** persons or trucks counted by this event (person, truck) */
  count?: number;
  /** belt only */
  beltStatus?: BeltStatusCode;
  /** tracks that caused it, for marks */
  trackIds?: number[];
  /** a short human-readable reason, logged and drawn on the clip */
  detail: string;
}

export type Rgb = readonly [number, number, number];

/** What an analysis wants drawn on the live stream and the evidence clips. */
export interface Marks {
  boxes: { box: Box; label: string; color: Rgb }[];
  lines: { a: Point; b: Point; color: Rgb; label?: string }[];
  polygons: { points: Point[]; color: Rgb; label?: string }[];
  /** status lines drawn top-left (e.g. "belt: running, coal") */
  texts: string[];
}

export function emptyMarks(): Marks {
  return { boxes: [], lines: [], polygons: [], texts: [] };
}

/** One of the six analyses on one camera. Synchronous and cheap: heavy work belongs to the detector. */
export interface Analysis {
  readonly kind: AnalysisKind;
  /** true when it needs detections (and so tracks) on the frames motion lets through */
  readonly needsDetections: boolean;
  /** feeds one frame; returns the events it found on it (usually none) */
  process(ctx: FrameContext): AnalysisEvent[];
  /** what to draw for the latest frame */
  marks(): Marks;
  /** events held back (a group of crossings still open), given out at the end of input or at shutdown */
  flush?(): AnalysisEvent[];
}
