// Error catalogue of the GB/T 28181 viewer (the bridge's HTTP/WebSocket live view).
import { defineError } from '../../src/errors.ts';

export const ViewToken = defineError('ESEAL_ERR_GBVIEW_TOKEN', 401, 'the viewer URL lacks the right token (dataDir/gb28181/view.token)');
export const ViewNotFound = defineError('ESEAL_ERR_GBVIEW_NOT_FOUND', 404, 'no such viewer path: use /play/<device>/<channel>, /live/<device>/<channel>.mp4 or .mjpeg');
export const ViewTooMany = defineError('ESEAL_ERR_GBVIEW_TOO_MANY', 503, 'the channel, or the client address, already has the most viewers allowed');
export const ViewCodec = defineError('ESEAL_ERR_GBVIEW_CODEC', 415, 'the channel is H.265: fragmented MP4 is served for H.264 only; use the .mjpeg URL');
export const ViewListen = defineError('ESEAL_ERR_GBVIEW_LISTEN', 500, 'the viewer could not listen on gb28181.http.listen');
export const ViewUnavailable = defineError('ESEAL_ERR_GBVIEW_UNAVAILABLE', 503, 'the channel could not be pulled (device offline, no answer to INVITE, no media)');
export const ViewAdmin = defineError('ESEAL_ERR_GBVIEW_ADMIN', 401, "the viewer's /api/ needs Authorization: Bearer <dataDir/gb28181/admin.token>, from this machine (loopback) only");
