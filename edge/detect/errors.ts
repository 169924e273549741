// Errors of the detector stage.
import { defineError } from '../../src/errors.ts';

export const DetectorSpecInvalid = defineError(
  'ESEAL_ERR_DETECT_SPEC',
  400,
  'the detector model description (sidecar JSON or config) is missing a field or has a bad value',
);

export const DetectorModelLoadFailed = defineError(
  'ESEAL_ERR_DETECT_MODEL_LOAD',
  500,
  'the detector model could not be loaded or does not follow the detector contract; the previous model stays in use',
);

export const DetectorWorkerFailed = defineError(
  'ESEAL_ERR_DETECT_WORKER',
  500,
  'the detector worker thread died or hung; it is restarted and the frames it held are failed',
);

export const DetectorRunFailed = defineError('ESEAL_ERR_DETECT_RUN', 500, 'the detector model failed on a frame');

export const DetectorClosed = defineError('ESEAL_ERR_DETECT_CLOSED', 503, 'the detector was closed');
