// GET /openapi.json: the national API this listener mirrors, as OpenAPI 3 for mine integrators,
// built from src/contract (src/contract/openapi.ts) with the relay's limits and the errors its
// routes answer. Public (an integrator reads it before having an account), built once, served as
// the same bytes.
import type { FastifyInstance } from 'fastify';
import {
  BodyTooLarge,
  InvalidField,
  InvalidFileName,
  InvalidJson,
  TusChecksumAlgorithm,
  TusHeader,
  UnsupportedContentType,
} from '../../src/contract/index.ts';
import { buildNationalApiDocument, documentBytes, type ErrorAnswer, type OpenApiDocument, type OperationFamily } from '../../src/contract/openapi.ts';
import { packageVersion } from '../../src/cli/run.ts';
import { MediaCorrupt, MediaNoMoov, MediaNoVideo, MediaNotH264, MediaNotMp4 } from '../../src/media/errors.ts';
import { NoSpace } from '../../src/store/errors.ts';
import type { ErrorKind } from '../../src/errors.ts';
import type { RelayContext } from '../RelayContext.ts';
import {
  AccountExists,
  AccountInvalid,
  AccountUnknown,
  AuthAdmin,
  AuthBadCredentials,
  AuthClient,
  AuthForbiddenMine,
  AuthLocked,
  AuthRateLimited,
  AuthTokenInvalid,
  AuthUndecryptable,
  ConnectionLimit,
  Internal,
  MethodNotAllowed,
  MineStatusUnknown,
  NotFound,
  SlowBody,
  TusChecksum,
  TusClientGaveUp,
  TusClientLocation,
  TusClientProtocol,
  TusExpired,
  TusLimit,
  TusNotFound,
  TusOffset,
  TusVersion,
  UploadAborted,
  UploadBusy,
  UploadNotMultipart,
  UploadPart,
} from '../errors.ts';

export const OPENAPI_PATH = '/openapi.json';

const as = (kind: ErrorKind, statuses?: number[]): ErrorAnswer => (statuses ? { kind, statuses } : { kind });

/** the MP4 checks answer 400, as every input rule of the API (relay/ingest/evidence.ts) */
const MEDIA = [MediaNotMp4, MediaNoMoov, MediaNoVideo, MediaNotH264, MediaCorrupt].map((k) => as(k, [400]));

/** The errors the national API's routes answer, by family of operation (see each route). */
export const ANSWERED: Record<OperationFamily, readonly ErrorAnswer[]> = {
  any: [as(MethodNotAllowed), as(SlowBody), as(ConnectionLimit), as(Internal)],
  token: [as(InvalidField), as(BodyTooLarge), as(AuthClient), as(AuthBadCredentials), as(AuthLocked), as(AuthUndecryptable), as(AuthRateLimited)],
  data: [as(AuthTokenInvalid), as(AuthForbiddenMine)],
  record: [as(InvalidField), as(InvalidJson), as(BodyTooLarge), as(UnsupportedContentType), as(NoSpace)],
  evidence: [as(InvalidFileName), as(UploadNotMultipart), as(UploadPart), as(UploadBusy), as(BodyTooLarge), as(UnsupportedContentType), as(NoSpace), ...MEDIA],
  query: [as(InvalidField), as(MineStatusUnknown, [MineStatusUnknown.statusCode, 503])],
  resumable: [
    as(TusVersion),
    as(TusHeader),
    as(TusChecksumAlgorithm),
    as(TusNotFound),
    as(TusExpired),
    as(TusOffset),
    as(TusChecksum),
    as(TusLimit),
    as(UploadBusy),
    as(UploadAborted),
    as(InvalidFileName),
    as(BodyTooLarge),
    as(UnsupportedContentType),
    as(NoSpace),
    ...MEDIA,
  ],
};

/** Kinds of the relay's catalogue that no national API call answers, and why. */
export const NOT_ANSWERED: readonly { kind: ErrorKind; why: string }[] = [
  { kind: AuthAdmin, why: 'the admin API and /metrics, not the national API' },
  { kind: NotFound, why: 'a path outside the document' },
  { kind: AccountExists, why: 'the account CLI' },
  { kind: AccountUnknown, why: 'the account CLI' },
  { kind: AccountInvalid, why: 'the account CLI' },
  { kind: TusClientGaveUp, why: 'the relay as a client upstream' },
  { kind: TusClientProtocol, why: 'the relay as a client upstream' },
  { kind: TusClientLocation, why: 'the relay as a client upstream' },
];

export function relayOpenApiDocument(ctx: RelayContext): OpenApiDocument {
  const relay = ctx.config.relay;
  return buildNationalApiDocument({
    version: packageVersion(),
    errors: ANSWERED,
    limits: { jsonMaxBytes: relay.limits.jsonMaxBytes, videoMaxBytes: relay.limits.videoMaxBytes },
    clockSkewSeconds: relay.clockSkewSeconds,
    publicKeyFormat: relay.publicKeyFormat,
  });
}

export async function openapiRoute(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  const bytes = documentBytes(relayOpenApiDocument(ctx));
  app.get(OPENAPI_PATH, async (_request, reply) => {
    reply.type('application/json; charset=utf-8').header('Cache-Control', 'public, max-age=300');
    return reply.send(bytes);
  });
}
