// What the signalling needs from the media engine (gb28181/media/, written beside this): open a
// receiving port for a stream before the INVITE, tell it the device's answer after, close it, and
// hear when media starts, stops arriving, or ends. Declared structurally here (with the engine's own
// request shapes) so that tests and the cascade's tap can stand in for gb28181/media/MediaEngine.ts.
import type { StreamNumber } from '../../src/gb28181/sdp.ts';

/** what opens a device's stream, and a leg that sends a stream on to an upper platform (cascade): the engine's own shapes */
export type { IncomingSpec as IncomingStreamSpec, OutgoingSpec as OutgoingLegSpec } from '../media/MediaTypes.ts';
import type { IncomingSpec as IncomingStreamSpec, OutgoingSpec as OutgoingLegSpec } from '../media/MediaTypes.ts';

export interface MediaEngineLike {
  /** cascade (optional until the engine has it): our sending port for the leg's SDP answer */
  openOutgoing?(spec: OutgoingLegSpec): Promise<{ port: number }>;
  closeOutgoing?(legId: string): Promise<void>;
  /** binds (UDP, TCP passive) or reserves (TCP active) a port for the stream */
  openIncoming(spec: IncomingStreamSpec): Promise<{ port: number }>;
  /** the device's answer: where it sends from (UDP, TCP passive) or listens (TCP active: connect there); its SSRC when it differs */
  answerIncoming(streamId: string, answer: { host: string; port: number; ssrc?: string }): Promise<void>;
  closeStream(streamId: string): Promise<void>;
  on(event: 'firstMedia', listener: (e: { streamId: string; ssrc: string | number }) => void): unknown;
  on(event: 'noMedia', listener: (e: { streamId: string }) => void): unknown;
  on(event: 'ended', listener: (e: { streamId: string; reason: string }) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the shape of EventEmitter.off, so a typed emitter satisfies it
  off(event: 'firstMedia' | 'noMedia' | 'ended', listener: (...args: any[]) => void): unknown;
}

/** What the viewer (and through it the edge) asks of the signalling: a shared live stream of a channel. */
export interface LiveSource {
  /**
   * One INVITE per (channel, stream: 0 main, the default; 1 sub) however many callers; resolves when the device accepted (media may
   * follow within noMediaSeconds). Rejects with ESEAL_ERR_GB28181_UNKNOWN_DEVICE / _UNKNOWN_CHANNEL /
   * _OFFLINE / _REFUSED / _BAD_ANSWER / _MEDIA / _LIMIT, ESEAL_ERR_SIP_TIMEOUT / _UNREACHABLE.
   */
  acquire(deviceId: string, channelId: string, stream?: StreamNumber): Promise<{ streamId: string; release(): void; ended?: Promise<string> }>;
}
