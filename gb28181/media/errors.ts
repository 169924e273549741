// Error catalogue of the GB/T 28181 media engine.
import { defineError } from '../../src/errors.ts';

export const MediaNoPort = defineError('ESEAL_ERR_GBMEDIA_NO_PORT', 503, 'every even port of the media port range (gb28181 media ports) is in use');
export const MediaUnknownStream = defineError('ESEAL_ERR_GBMEDIA_UNKNOWN_STREAM', 404, 'no media stream (or outgoing leg) with this id is open');
export const MediaDuplicateStream = defineError('ESEAL_ERR_GBMEDIA_DUPLICATE_STREAM', 409, 'a media stream or outgoing leg with this id is already open');
export const MediaBadRequest = defineError('ESEAL_ERR_GBMEDIA_BAD_REQUEST', 400, 'a media request has a bad field (transport, SSRC, host or port)');
export const MediaWorkerDown = defineError('ESEAL_ERR_GBMEDIA_WORKER', 503, 'the media worker process is not running (it died and is being restarted, or the engine is closed)');
export const MediaConnectFailed = defineError('ESEAL_ERR_GBMEDIA_CONNECT', 502, 'the TCP media connection to the device or the upper platform could not be made');
