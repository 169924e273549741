// Errors of the image analyses (belt, occlusion, moved).
import { defineError } from '../../src/errors.ts';

export const ImageOptionInvalid = defineError(
  'ESEAL_ERR_EDGE_IMAGE_OPTION',
  500,
  'an option of the belt, occlusion or moved analysis in edge.cameras[].analyses is wrong',
);

export const BeltBaselineUnreadable = defineError(
  'ESEAL_ERR_EDGE_BELT_BASELINE',
  500,
  "the belt's empty-belt reference image (analyses.belt.baselineImage) cannot be read as a JPEG",
);
