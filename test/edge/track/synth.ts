// Synthetic detections for tracker and analysis tests: objects moving along known paths, seen by an
// imperfect detector (box noise, missed frames, low scores). Seeded, so every run is the same.
import { ByteTracker } from '../../../edge/track/ByteTracker.ts';
import type { Analysis, AnalysisEvent, Box, Detection, Frame, FrameContext, ObjectClass, Track } from '../../../edge/types.ts';
import { seededRandom as prng } from '../../../sim/national/faults.ts';

export { prng };

export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** One object: its foot point moves through `waypoints` (ms, px) linearly; visible from first to last. */
export interface Mover {
  cls: ObjectClass;
  w: number;
  h: number;
  waypoints: { at: number; x: number; y: number }[];
  /** detection score at time t (default 0.9) */
  score?: (at: number) => number;
  /** true when the detector misses it at time t */
  hidden?: (at: number) => boolean;
}

/** The true box of a mover at time t, or undefined outside its waypoints. */
export function trueBox(m: Mover, at: number): Box | undefined {
  const w = m.waypoints;
  if (w.length === 0 || at < w[0]!.at || at > w[w.length - 1]!.at) return undefined;
  let i = 0;
  while (i < w.length - 2 && at > w[i + 1]!.at) i++;
  const a = w[i]!;
  const b = w[Math.min(i + 1, w.length - 1)]!;
  const f = b.at === a.at ? 0 : (at - a.at) / (b.at - a.at);
  const x = a.x + (b.x - a.x) * f;
  const y = a.y + (b.y - a.y) * f;
  return { x1: x - m.w / 2, y1: y - m.h, x2: x + m.w / 2, y2: y };
}

export interface SceneFrame {
  at: number;
  detections: Detection[];
  /** index of the mover each detection came from */
  source: number[];
}

export interface SceneOptions {
  start?: number;
  fps?: number;
  durationMs: number;
  /** std of the noise added to each box edge, px */
  noise?: number;
  seed?: number;
}

export function scene(movers: Mover[], o: SceneOptions): SceneFrame[] {
  const rand = prng(o.seed ?? 1);
  const start = o.start ?? 1_700_000_000_000;
  const step = 1000 / (o.fps ?? 5);
  const frames: SceneFrame[] = [];
  for (let t = 0; t <= o.durationMs; t += step) {
    const at = start + t;
    const detections: Detection[] = [];
    const source: number[] = [];
    movers.forEach((m, i) => {
      const b = trueBox(m, t);
      if (!b || m.hidden?.(t)) return;
      const n = () => gaussian(rand) * (o.noise ?? 0);
      detections.push({ box: { x1: b.x1 + n(), y1: b.y1 + n(), x2: b.x2 + n(), y2: b.y2 + n() }, score: m.score?.(t) ?? 0.9, cls: m.cls });
      source.push(i);
    });
    frames.push({ at, detections, source });
  }
  return frames;
}

/**
 * ID switches, counted as CLEAR MOT does: each detected mover keeps the confirmed track it had
 * while that track still overlaps its detection (IoU ≥ 0.5); otherwise it takes the best free
 * overlapping track, and a change of id counts one switch.
 */
export function idSwitches(frames: SceneFrame[], tracksPerFrame: Track[][], iouOf: (a: Box, b: Box) => number): { switches: number; idsPerMover: Map<number, Set<number>> } {
  const last = new Map<number, number>();
  const idsPerMover = new Map<number, Set<number>>();
  let switches = 0;
  frames.forEach((f, k) => {
    const tracks = (tracksPerFrame[k] ?? []).filter((t) => t.confirmed && t.missed === 0);
    const taken = new Set<number>();
    const pending: number[] = [];
    f.detections.forEach((d, j) => {
      const prev = tracks.find((t) => t.id === last.get(f.source[j]!));
      if (prev && prev.cls === d.cls && iouOf(prev.box, d.box) >= 0.5) taken.add(prev.id);
      else pending.push(j);
    });
    for (const j of pending) {
      const d = f.detections[j]!;
      const mover = f.source[j]!;
      let best: Track | undefined;
      let bestIou = 0.5;
      for (const t of tracks) {
        const v = iouOf(t.box, d.box);
        if (!taken.has(t.id) && t.cls === d.cls && v >= bestIou) {
          best = t;
          bestIou = v;
        }
      }
      if (!best) continue;
      taken.add(best.id);
      const prev = last.get(mover);
      if (prev !== undefined && prev !== best.id) switches++;
      last.set(mover, best.id);
      if (!idsPerMover.has(mover)) idsPerMover.set(mover, new Set());
      idsPerMover.get(mover)!.add(best.id);
    }
  });
  return { switches, idsPerMover };
}

const WIDTH = 640;
const HEIGHT = 360;
const pixels = { rgb: new Uint8Array(WIDTH * HEIGHT * 3), gray: new Uint8Array(WIDTH * HEIGHT) };

/** A frame for analyses that look only at detections and tracks. */
export function frameAt(at: number, seq = 0, width = WIDTH, height = HEIGHT): Frame {
  const same = width === WIDTH && height === HEIGHT;
  return {
    camera: 'test-cam',
    seq,
    at,
    width,
    height,
    rgb: same ? pixels.rgb : new Uint8Array(width * height * 3),
    gray: same ? pixels.gray : new Uint8Array(width * height),
  };
}

export function context(at: number, detections: Detection[] | undefined, tracks: readonly Track[], seq = 0): FrameContext {
  return { frame: frameAt(at, seq), motion: { ratio: detections ? 0.1 : 0, active: detections !== undefined, regions: [] }, detections, tracks };
}

export const FRAME_SIZE = { width: WIDTH, height: HEIGHT };

export interface RunOptions {
  /** the detector runs on every k-th frame only (motion gating); other frames see no detections */
  detectEvery?: number;
  /** call flush() at the end, when the analysis has one */
  flush?: boolean;
}

/** Feeds a scene through a real ByteTracker into an analysis, as the pipeline does; returns the events. */
export function runAnalysis(frames: SceneFrame[], analysis: Analysis & { flush?: () => AnalysisEvent[] }, o: RunOptions = {}, tracker = new ByteTracker()): AnalysisEvent[] {
  const events: AnalysisEvent[] = [];
  let tracks: Track[] = [];
  frames.forEach((f, k) => {
    const ran = k % (o.detectEvery ?? 1) === 0;
    if (ran) tracks = tracker.update(f.detections, f.at);
    events.push(...analysis.process(context(f.at, ran ? f.detections : undefined, tracks, k)));
  });
  if (o.flush !== false && analysis.flush) events.push(...analysis.flush());
  return events;
}
