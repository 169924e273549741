// 调度室空岗 (aiTypeCode 06): the dispatch room left unstaffed. One event when no person has been
// seen in the room's ROI for emptySeconds continuously, then silence until the room has been staffed
// again (a person seen for presentSeconds): one event per absence, however long it lasts.
//
// Absence is only ever concluded from frames where the detector ran (ctx.detections defined).
// Frames without a detector run say nothing: the clock neither advances a verdict nor resets. If
// the detector has not run for more than maxGapSeconds (motion gating, a stalled detector, a camera
// outage), what happened in between is unknown, so the absence clock restarts at the next run:
// "empty" needs emptySeconds of detector runs with no gap longer than maxGapSeconds. An empty room
// has no motion, so the pipeline must run the detector on a dispatch-room camera at least every
// few seconds whatever the motion stage says, or this analysis never reports.
//
// A single detection resets the absence clock (one false positive delays an event, never causes
// one); re-arming after an event needs presentSeconds of presence, so one false positive does not
// produce a second event for the same absence.
import { Type } from '../../src/config/rules.ts';
import type { Analysis, AnalysisEvent, Box, FrameContext, Marks, Point, Rgb } from '../types.ts';
import { boxCentre, footPoint, pointInPolygon, polygonToPixels } from './geometry.ts';
import { Region, WHOLE_FRAME, defineOptions, regionPoints, validateOptions } from './options.ts';

export interface EmptyDispatchRoomOptions {
  /** the room's area in the picture, normalised polygon */
  roi: Point[];
  /** seconds without anyone before the room counts as empty */
  emptySeconds: number;
  /** least detection score that counts as a person (confirmed tracks count whatever their score) */
  minScore: number;
  /** seconds a person must be seen before the room counts as staffed again after an event */
  presentSeconds: number;
  /** longest gap between detector runs over which absence is still believed */
  maxGapSeconds: number;
}

/** `analyses.dispatchRoom` in the YAML. */
export const EmptyDispatchRoomSchema = Type.Object({
  roi: Region({ default: WHOLE_FRAME }),
  emptySeconds: Type.Number({ minimum: 1, maximum: 86_400, default: 180 }),
  minScore: Type.Number({ minimum: 0, maximum: 1, default: 0.4 }),
  presentSeconds: Type.Number({ minimum: 0, maximum: 600, default: 2 }),
  maxGapSeconds: Type.Number({ minimum: 1, maximum: 3600, default: 30 }),
});

export const EMPTY_DISPATCH_ROOM_OPTIONS = defineOptions(
  EmptyDispatchRoomSchema,
  (o, problem): EmptyDispatchRoomOptions => ({ ...o, roi: regionPoints(o.roi, 'roi', problem) }),
);

/** edge.cameras[i].analyses.dispatchRoom → options; throws ESEAL_ERR_EDGE_ANALYSIS_OPTION naming every problem. */
export function validateEmptyDispatchRoomOptions(raw: unknown, path: string): EmptyDispatchRoomOptions {
  return validateOptions(EMPTY_DISPATCH_ROOM_OPTIONS, raw, path);
}

export const EMPTY_DISPATCH_ROOM_DEFAULTS: Readonly<EmptyDispatchRoomOptions> = Object.freeze(validateEmptyDispatchRoomOptions({}, 'dispatchRoom'));

const ROI_COLOR: Rgb = [255, 160, 0];
const PERSON_COLOR: Rgb = [0, 220, 0];

export class EmptyDispatchRoom implements Analysis {
  readonly kind = 'dispatchRoom';
  readonly needsDetections = true;
  readonly camera: string;
  readonly options: EmptyDispatchRoomOptions;
  #roiPx: { width: number; height: number; points: Point[] } | undefined;
  #lastRunAt: number | undefined;
  /** first detector run of the current observed absence; undefined while someone is seen */
  #emptySince: number | undefined;
  /** an event was sent for the current absence; cleared once the room is staffed again */
  #reported = false;
  #presentSince: number | undefined;
  #lastPresentAt: number | undefined;
  #now = 0;
  #seen: Box[] = [];

  constructor(camera: string, options: Partial<EmptyDispatchRoomOptions> = {}) {
    this.camera = camera;
    this.options = { ...EMPTY_DISPATCH_ROOM_DEFAULTS, ...options };
  }

  process(ctx: FrameContext): AnalysisEvent[] {
    const at = ctx.frame.at;
    this.#now = at;
    const roi = this.#roiFor(ctx.frame.width, ctx.frame.height);
    if (ctx.detections === undefined) return [];
    const o = this.options;
    if (this.#lastRunAt !== undefined && at - this.#lastRunAt > o.maxGapSeconds * 1000) {
      // blind for too long: neither the absence nor the presence so far can be vouched for
      this.#emptySince = undefined;
      this.#presentSince = undefined;
    }
    this.#lastRunAt = at;

    const inRoom = (b: Box) => pointInPolygon(boxCentre(b), roi) || pointInPolygon(footPoint(b), roi);
    const seen: Box[] = [];
    for (const d of ctx.detections) if (d.cls === 'person' && d.score >= o.minScore && inRoom(d.box)) seen.push(d.box);
    for (const t of ctx.tracks) if (t.cls === 'person' && t.confirmed && t.missed === 0 && inRoom(t.box)) seen.push(t.box);
    this.#seen = seen;

    if (seen.length > 0) {
      this.#emptySince = undefined;
      if (this.#presentSince === undefined || at - (this.#lastPresentAt ?? at) > o.presentSeconds * 1000) this.#presentSince = at;
      this.#lastPresentAt = at;
      if (this.#reported && at - this.#presentSince >= o.presentSeconds * 1000) this.#reported = false;
      return [];
    }
    this.#emptySince ??= at;
    if (this.#reported || at - this.#emptySince < o.emptySeconds * 1000) return [];
    this.#reported = true;
    return [
      {
        kind: this.kind,
        camera: this.camera,
        at,
        detail: `no person in the dispatch room for ${Math.round((at - this.#emptySince) / 1000)} s`,
      },
    ];
  }

  marks(): Marks {
    const m: Marks = { boxes: [], lines: [], polygons: [], texts: [] };
    if (this.#roiPx) m.polygons.push({ points: this.#roiPx.points, color: ROI_COLOR, label: 'dispatch room' });
    for (const box of this.#seen) m.boxes.push({ box, label: 'person', color: PERSON_COLOR });
    m.texts.push(this.#status());
    return m;
  }

  #status(): string {
    if (this.#lastRunAt === undefined) return 'room: not judged yet';
    const blind = this.#now - this.#lastRunAt;
    if (blind > this.options.maxGapSeconds * 1000) return `room: no detection for ${Math.round(blind / 1000)} s`;
    if (this.#emptySince === undefined) return 'room: staffed';
    const empty = `room: empty ${Math.round((this.#now - this.#emptySince) / 1000)} s`;
    return this.#reported ? `${empty}, reported` : empty;
  }

  #roiFor(width: number, height: number): Point[] {
    const r = this.#roiPx;
    if (r && r.width === width && r.height === height) return r.points;
    const points = polygonToPixels(this.options.roi, width, height);
    this.#roiPx = { width, height, points };
    return points;
  }
}
