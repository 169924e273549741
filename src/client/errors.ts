// Errors of the clients of the national API (and of another relay's tus endpoint).
import { defineError } from '../errors.ts';

export const TusClientGaveUp = defineError('ESEAL_ERR_TUS_CLIENT_RETRIES', 502, 'the upstream stayed unreachable or failing through every retry of a resumable upload');
export const TusClientProtocol = defineError('ESEAL_ERR_TUS_CLIENT_PROTOCOL', 502, 'the upstream answered a resumable upload outside tus 1.0');
