// Detections of a real failure, kept as synthetic input: two persons walk towards each other on the
// far side of a counting line (704×576 frame, line y = 0.6·576 ≈ 346, "in" downwards), meet, and
// the one walking right turns down towards the camera and crosses the line. Where they meet the
// detector sees only the front one for two runs (the other is hidden behind it), and the rear
// person's track takes those two detections. Scores and boxes as a CenterNet detector gave them
// at 5 fps; times in ms from the first frame.
import type { Detection } from '../../../edge/types.ts';

export const TURN_FRAME = { width: 704, height: 576 };

type Row = [number, number, number, number, number];

const RUNS: [number, Row[]][] = [
  [0, [[0.62, 265, 122, 315, 293], [0.59, 19, 114, 69, 278]]],
  [200, [[0.67, 34, 117, 82, 279], [0.67, 250, 124, 298, 292]]],
  [400, [[0.67, 50, 119, 100, 285], [0.62, 236, 123, 283, 290]]],
  [600, [[0.71, 67, 119, 115, 289], [0.62, 217, 121, 264, 293]]],
  [800, [[0.65, 82, 120, 131, 290], [0.62, 202, 121, 251, 291]]],
  [1000, [[0.66, 99, 121, 149, 294], [0.62, 185, 121, 235, 291]]],
  [1200, [[0.69, 113, 124, 162, 294], [0.61, 166, 125, 216, 290]]],
  [1400, [[0.57, 132, 125, 180, 294], [0.25, 161, 123, 203, 292]]],
  // only the front person (turning down) is seen
  [1600, [[0.67, 135, 123, 188, 313]]],
  [1800, [[0.6, 127, 145, 194, 332], [0.21, 121, 125, 150, 257], [0.15, 125, 131, 180, 214]]],
  // both again: the rear one walking on left, the front one already past the line
  [2000, [[0.68, 106, 127, 153, 286], [0.62, 147, 168, 200, 351], [0.27, 156, 164, 191, 197]]],
  [2200, [[0.68, 90, 121, 135, 291], [0.64, 152, 185, 207, 374], [0.16, 168, 181, 197, 211]]],
  [2400, [[0.68, 72, 122, 122, 292], [0.63, 157, 195, 216, 396]]],
  [2600, [[0.71, 55, 123, 104, 291], [0.67, 160, 210, 221, 414]]],
  [2800, [[0.66, 40, 123, 87, 289], [0.66, 166, 225, 231, 435]]],
  [3000, [[0.69, 22, 123, 70, 288], [0.67, 170, 236, 238, 457]]],
];

/** Index of the first run where both are seen again after the meeting. */
export const TURN_REAPPEARS = 10;

/** The detector runs, at `start` + their offsets. */
export function turnBehindRuns(start = 1_700_000_000_000): { at: number; detections: Detection[] }[] {
  return RUNS.map(([dt, rows]) => ({
    at: start + dt,
    detections: rows.map(([score, x1, y1, x2, y2]) => ({ box: { x1, y1, x2, y2 }, score, cls: 'person' as const })),
  }));
}
