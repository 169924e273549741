// 数车辆 (aiTypeCode 02): trucks leaving, counted where the bottom of their box crosses a line
// (e.g. across the gate road) towards the outside. One event per group of crossings (see
// lineCrossing.ts). The detector maps car/bus/truck to 'vehicle'; all of them count.
import { LINE_COUNT_DEFAULTS, LineCountAnalysis, type LineCountInput, type LineCountOptions, validateLineCountOptions } from './lineCrossing.ts';

export type TrucksLeavingOptions = LineCountOptions;
export type TrucksLeavingInput = LineCountInput;
export const TRUCKS_LEAVING_DEFAULTS = LINE_COUNT_DEFAULTS;

/** edge.cameras[i].analyses.truck → options; throws ESEAL_ERR_EDGE_ANALYSIS_OPTION naming every problem. */
export function validateTrucksLeavingOptions(raw: unknown, path: string): TrucksLeavingOptions {
  return validateLineCountOptions(raw, path);
}

export class TrucksLeaving extends LineCountAnalysis {
  constructor(camera: string, options: TrucksLeavingInput) {
    super(camera, options, {
      kind: 'truck',
      cls: 'vehicle',
      labels: { noun: 'truck', counted: 'out', wrongWay: 'in' },
      describe: (n) => `${n} ${n === 1 ? 'truck' : 'trucks'} left`,
    });
  }
}
