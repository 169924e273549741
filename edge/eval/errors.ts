// The evaluation set's error catalogue (the photos' error lives beside their loader).
import { defineError } from '../../src/errors.ts';

export const EvalTruthInvalid = defineError(
  'ESEAL_ERR_EVAL_TRUTH',
  400,
  'a ground-truth file of the evaluation set is malformed (the message names the field)',
);

export const EvalDetectedInvalid = defineError(
  'ESEAL_ERR_EVAL_DETECTED',
  400,
  'an event handed to the scorer is malformed (unknown kind, bad time, count or belt status)',
);

export const EvalEncodeFailed = defineError(
  'ESEAL_ERR_EVAL_ENCODE',
  500,
  'ffmpeg failed to encode or decode an evaluation clip',
);
