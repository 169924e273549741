// The 'boxes' decoder for operator-supplied detectors that end in their own NMS: one output of
// [N, 6] or [1, N, 6] rows x1, y1, x2, y2, score, classId in input pixels.
import type { Detection, ObjectClass } from '../types.ts';
import { nmsPerClass } from './nms.ts';

export function decodeBoxes(
  data: Float32Array,
  dims: readonly number[],
  classes: Readonly<Record<string, ObjectClass>>,
  scoreThreshold: number,
  nmsIou = 0.5,
): Detection[] {
  const rows = dims.length === 3 && dims[0] === 1 ? dims[1]! : dims.length === 2 ? dims[0]! : -1;
  if (rows < 0 || dims[dims.length - 1] !== 6) throw new RangeError(`a 'boxes' detector output must be [N,6] or [1,N,6], got [${dims.join(',')}]`);
  const found: Detection[] = [];
  for (let r = 0; r < rows; r++) {
    const o = r * 6;
    const score = data[o + 4]!;
    if (!(score >= scoreThreshold)) continue;
    const cls = classes[String(Math.round(data[o + 5]!))];
    if (!cls) continue;
    const box = { x1: data[o]!, y1: data[o + 1]!, x2: data[o + 2]!, y2: data[o + 3]! };
    if (box.x2 > box.x1 && box.y2 > box.y1) found.push({ box, score: Math.min(score, 1), cls });
  }
  // the model's NMS ran per its own classes; two of them may map onto one of ours
  return nmsPerClass(found, nmsIou);
}
