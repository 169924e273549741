// Error kinds of the model registry (area MODEL): a manifest that cannot be trusted, and what the
// relay's registry refuses. The edge's download failures live in edge/models/updaterErrors.ts.
import { defineError } from '../errors.ts';

export const ManifestMalformed = defineError('ESEAL_ERR_MODEL_MANIFEST', 400, 'a model manifest field breaks its rule');
export const ManifestUnsigned = defineError('ESEAL_ERR_MODEL_UNSIGNED', 403, 'a model manifest carries no signature');
export const ManifestWrongKey = defineError('ESEAL_ERR_MODEL_KEY', 403, 'a model manifest is signed by a key other than the trusted one');
export const ManifestBadSignature = defineError('ESEAL_ERR_MODEL_SIGNATURE', 403, "a model manifest's signature does not verify");
export const ModelNotFound = defineError('ESEAL_ERR_MODEL_NOT_FOUND', 404, 'no such model, model file, or no manifest published yet');
export const ModelPublish = defineError('ESEAL_ERR_MODEL_PUBLISH', 400, 'a model cannot be published as asked');
