// 数人 (aiTypeCode 01): persons entering, counted where their feet cross a line (e.g. the shaft
// gate) towards the inside. One event per group of crossings (see lineCrossing.ts).
import { LINE_COUNT_DEFAULTS, LineCountAnalysis, type LineCountInput, type LineCountOptions, validateLineCountOptions } from './lineCrossing.ts';

export type PersonsEnteringOptions = LineCountOptions;
export type PersonsEnteringInput = LineCountInput;
export const PERSONS_ENTERING_DEFAULTS = LINE_COUNT_DEFAULTS;

/** edge.cameras[i].analyses.person → options; throws ESEAL_ERR_EDGE_ANALYSIS_OPTION naming every problem. */
export function validatePersonsEnteringOptions(raw: unknown, path: string): PersonsEnteringOptions {
  return validateLineCountOptions(raw, path);
}

export class PersonsEntering extends LineCountAnalysis {
  constructor(camera: string, options: PersonsEnteringInput) {
    super(camera, options, {
      kind: 'person',
      cls: 'person',
      labels: { noun: 'person', counted: 'in', wrongWay: 'out' },
      describe: (n) => `${n} ${n === 1 ? 'person' : 'persons'} entered`,
    });
  }
}
