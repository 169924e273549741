// Error catalogue of the motion stage: only configuration can be wrong here (thresholds, ignore
// masks, a detector made for another frame size).

import { defineError } from '../../src/errors.ts';

export const MotionBadOptions = defineError(
  'ESEAL_ERR_MOTION_BAD_OPTIONS',
  400,
  'the motion options are out of range (threshold, ratios, ignore-mask polygons, frame size)',
);
