// The cascade's error catalogue: why the bridge is not registered with an upper platform (what
// `eseal gb28181 cascade` shows as the platform's last error).
import { defineError } from '../../src/errors.ts';

export const CascadeRefused = defineError('ESEAL_ERR_CASCADE_REFUSED', 502, 'the upper platform refused our REGISTER (403/404 or another final answer): check gb28181.cascade[].password, localId and domain');
export const CascadeUnreachable = defineError('ESEAL_ERR_CASCADE_UNREACHABLE', 504, 'the upper platform did not answer (timeout, transport error); the bridge retries with backoff');
export const CascadeChallenge = defineError('ESEAL_ERR_CASCADE_CHALLENGE', 502, "the upper platform's digest challenge is unusable (not MD5 Digest, no nonce, or our credentials were challenged again)");
