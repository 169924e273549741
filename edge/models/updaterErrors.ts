// Why the edge's model updater refused a download (area MODEL). A refused model is never
// installed; the edge keeps the one it has and tries again at the next poll.
import { defineError } from '../../src/errors.ts';

export const ModelDownload = defineError('ESEAL_ERR_MODEL_DOWNLOAD', 502, 'the model registry could not be reached or answered an error');
export const ModelSize = defineError('ESEAL_ERR_MODEL_SIZE', 502, 'a downloaded model file is not the size its manifest states (truncated?)');
export const ModelHash = defineError('ESEAL_ERR_MODEL_HASH', 502, 'a downloaded model file does not match the SM3 its manifest states');
export const ModelReplay = defineError('ESEAL_ERR_MODEL_REPLAY', 403, 'a model manifest older than the one accepted before (a replay?)');
