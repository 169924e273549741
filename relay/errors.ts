// The relay's own error catalogue (authentication, uploads, capacity). Input rule errors live in
// src/contract/errors.ts, storage in src/store/errors.ts, media in src/media/errors.ts.
import { defineError } from '../src/errors.ts';

export const AuthClient = defineError('ESEAL_ERR_AUTH_CLIENT', 401, 'missing or wrong Basic client credentials on the token endpoint');
export const AuthBadCredentials = defineError('ESEAL_ERR_AUTH_BAD_CREDENTIALS', 426, 'wrong username or password');
export const AuthLocked = defineError('ESEAL_ERR_AUTH_LOCKED', 426, 'the account is locked after too many failed logins');
export const AuthUndecryptable = defineError('ESEAL_ERR_AUTH_UNDECRYPTABLE', 426, "the password is not SM2-encrypted with the relay's public key");
export const AuthRateLimited = defineError('ESEAL_ERR_AUTH_RATE_LIMITED', 429, 'too many login attempts from one address');
export const AuthTokenInvalid = defineError('ESEAL_ERR_AUTH_TOKEN', 424, 'missing, unknown or expired Bearer token');
export const AuthForbiddenMine = defineError('ESEAL_ERR_AUTH_MINE', 403, 'the account may not send data for this mine');
export const AuthAdmin = defineError('ESEAL_ERR_AUTH_ADMIN', 401, 'missing or wrong admin token');

export const UploadPart = defineError('ESEAL_ERR_UPLOAD_PART', 400, 'the multipart body does not carry exactly one file part of the right name');
export const UploadNotMultipart = defineError('ESEAL_ERR_UPLOAD_NOT_MULTIPART', 415, 'an evidence upload must be multipart/form-data');
export const UploadBusy = defineError('ESEAL_ERR_UPLOAD_BUSY', 503, 'too many uploads at once; retry after the Retry-After delay');
export const UploadAborted = defineError('ESEAL_ERR_UPLOAD_ABORTED', 400, 'the upload ended before the file was complete');

export const AccountExists = defineError('ESEAL_ERR_ACCOUNT_EXISTS', 409, 'an account of that name exists already');
export const AccountUnknown = defineError('ESEAL_ERR_ACCOUNT_UNKNOWN', 404, 'no account of that name');
export const AccountInvalid = defineError('ESEAL_ERR_ACCOUNT_INVALID', 400, 'an account option breaks its rule');
export const MineStatusUnknown = defineError('ESEAL_ERR_MINE_STATUS_UNKNOWN', 404, "the relay does not know this mine's status");
export const NotFound = defineError('ESEAL_ERR_RELAY_NOT_FOUND', 404, 'no such endpoint');
export const MethodNotAllowed = defineError('ESEAL_ERR_RELAY_METHOD', 405, 'the endpoint does not take this method');
export const Internal = defineError('ESEAL_ERR_RELAY_INTERNAL', 500, 'an unexpected error inside the relay');

// Resumable uploads (tus 1.0, relay/tus/): the server's refusals, then the client's failures.
export const TusVersion = defineError('ESEAL_ERR_TUS_VERSION', 412, 'a resumable-upload request without Tus-Resumable: 1.0.0');
export const TusNotFound = defineError('ESEAL_ERR_TUS_NOT_FOUND', 404, 'no resumable upload of this id for this account');
export const TusExpired = defineError('ESEAL_ERR_TUS_EXPIRED', 410, 'the resumable upload expired before it was complete; start a new one');
export const TusOffset = defineError('ESEAL_ERR_TUS_OFFSET', 409, 'Upload-Offset is not the offset the relay holds; HEAD the upload and resume from there');
export const TusChecksum = defineError('ESEAL_ERR_TUS_CHECKSUM', 460, 'the chunk does not match its Upload-Checksum; it was discarded');

export const TusLimit = defineError(
  'ESEAL_ERR_TUS_LIMIT',
  429,
  'the account holds as many open resumable uploads (or reserved bytes) as it may; finish or DELETE one, or retry after Retry-After',
);

export { TusHeader, TusChecksumAlgorithm } from '../src/contract/errors.ts';
export { TusClientGaveUp, TusClientLocation, TusClientProtocol } from '../src/client/errors.ts';

// Connection limits (relay/http/ConnectionGuard.ts).
export const ConnectionLimit = defineError('ESEAL_ERR_RELAY_CONNECTIONS', 503, 'too many connections at once from one address; the new one was closed');
export const SlowBody = defineError('ESEAL_ERR_RELAY_SLOW_BODY', 408, "the request body arrived slower than the relay's minimum rate; the connection was closed");
