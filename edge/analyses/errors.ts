// Errors of the analyses. 500 like ESEAL_ERR_CONFIG_INVALID: a wrong configuration is the
// appliance's fault, not a client's.
import { defineError, type EsealError } from '../../src/errors.ts';
import { pathOf } from '../../src/config/rules.ts';

export const InvalidAnalysisOption = defineError(
  'ESEAL_ERR_EDGE_ANALYSIS_OPTION',
  500,
  'an option of an analysis (edge.cameras[].analyses) is missing, unknown or breaks its rule',
);

export const BeltBaselineUnreadable = defineError(
  'ESEAL_ERR_EDGE_BELT_BASELINE',
  500,
  "the belt's empty-belt reference image (analyses.belt.baselineImage) cannot be read as a JPEG",
);

/** Every problem of one analysis's options (each `<config path>: <rule>`) as one error; `field` is the first's path. */
export function invalidOptions(problems: readonly string[]): EsealError {
  return InvalidAnalysisOption(problems.join('; '), { field: pathOf(problems[0] ?? ''), detail: { problems: [...problems] } });
}
