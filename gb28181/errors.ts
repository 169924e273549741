// The GB/T 28181 bridge's error catalogue: signalling (ESEAL_ERR_SIP_*) and what a viewer or the edge
// is told when a channel cannot be played (ESEAL_ERR_GB28181_*).
import { defineError } from '../src/errors.ts';

export const SipListen = defineError('ESEAL_ERR_SIP_LISTEN', 500, 'the SIP port (gb28181.sip.listen) cannot be bound: in use, or not an address of this machine');
export const SipTimeout = defineError('ESEAL_ERR_SIP_TIMEOUT', 504, 'the device did not answer a SIP request in time');
export const SipClosed = defineError('ESEAL_ERR_SIP_CLOSED', 503, 'the SIP service is closing; the request was not sent');
export const SipUnreachable = defineError('ESEAL_ERR_SIP_UNREACHABLE', 502, "the device's address or TCP connection is gone; it must register again");

export const GbUnknownDevice = defineError('ESEAL_ERR_GB28181_UNKNOWN_DEVICE', 404, 'no device of that id has registered with the bridge');
export const GbUnknownChannel = defineError('ESEAL_ERR_GB28181_UNKNOWN_CHANNEL', 404, "the device's catalog has no channel of that id");
export const GbOffline = defineError('ESEAL_ERR_GB28181_OFFLINE', 503, 'the device is offline (not registered, or keepalives missed)');
export const GbRefused = defineError('ESEAL_ERR_GB28181_REFUSED', 502, 'the device refused the INVITE (its SIP status is in the message)');
export const GbBadAnswer = defineError('ESEAL_ERR_GB28181_BAD_ANSWER', 502, "the device's SDP answer is unusable (no video, bad address or port)");
export const GbMedia = defineError('ESEAL_ERR_GB28181_MEDIA', 502, 'the media engine could not open or answer the stream');
export const GbLimit = defineError('ESEAL_ERR_GB28181_LIMIT', 503, 'a configured limit of the bridge (devices, channels, streams) is reached');
export const GbNotRunning = defineError('ESEAL_ERR_GB28181_NOT_RUNNING', 503, 'no running gb28181 bridge answers on gb28181.http.listen (start it: eseal start --roles gb28181)');
