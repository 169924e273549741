// Errors of the model tools: reading a TF.js graph model and converting it to ONNX.
import { defineError } from '../../src/errors.ts';

export const ModelFormatInvalid = defineError(
  'ESEAL_ERR_MODEL_FORMAT',
  500,
  'the TF.js graph model (model.json or its weight shards) is malformed or incomplete',
);

export const ModelOpUnsupported = defineError(
  'ESEAL_ERR_MODEL_UNSUPPORTED',
  500,
  'the model holds an operation or attribute the ONNX converter does not handle',
);

export const ModelInputSizeInvalid = defineError(
  'ESEAL_ERR_MODEL_INPUT_SIZE',
  400,
  'the detector input size must be a multiple of 32 between 128 and 1024',
);
