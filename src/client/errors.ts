// Errors of the clients of the national API (and of another relay's tus endpoint), and of the
// login session with the upstream (the relay's forwarder and the edge's uploader share it).
import { defineError } from '../errors.ts';

export const TusClientGaveUp = defineError('ESEAL_ERR_TUS_CLIENT_RETRIES', 502, 'the upstream stayed unreachable or failing through every retry of a resumable upload');
export const TusClientProtocol = defineError('ESEAL_ERR_TUS_CLIENT_PROTOCOL', 502, 'the upstream answered a resumable upload outside tus 1.0');
/** The token goes only where the upload was created: a Location (or a stored upload URL) elsewhere is refused. */
export const TusClientLocation = defineError(
  'ESEAL_ERR_TUS_CLIENT_LOCATION',
  502,
  "the upstream named an upload URL on another origin than its own; the client does not send the account's token there",
);

/** GET /sm2 or the login answered a status that is neither success nor a refusal; detail.status holds it. */
export const UpstreamHttpError = defineError(
  'ESEAL_ERR_UPSTREAM_HTTP',
  502,
  'the upstream answered GET /sm2 or the login with an unexpected HTTP status (detail.status): a fault upstream (5xx) or a request it cannot read (4xx: check the url and client settings)',
);
/** The relay forwarding for a mine account, or the edge reporting: the message says whose credentials and what to fix. */
export const UpstreamLoginRefused = defineError(
  'ESEAL_ERR_UPSTREAM_LOGIN',
  502,
  'the upstream (national platform, or the relay the edge reports to) refused the credentials',
);
export const UpstreamNoCredentials = defineError(
  'ESEAL_ERR_UPSTREAM_NO_CREDENTIALS',
  502,
  'the account has no national credentials to forward its data with',
);
