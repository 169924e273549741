// The media engine as LiveSessions sees it, with one addition for the cascade: every time a mine
// stream is closed (its last viewer left, no media, the device's BYE, offline, unregistered), the
// cascade hears it and BYEs the upper platform's legs of that stream. Everything else is the engine's.
import type { IncomingStreamSpec, MediaEngineLike, OutgoingLegSpec } from '../invite/MediaEngineLike.ts';

/** the engine's own listener type (it follows MediaEngineLike) */
type Listener = Parameters<MediaEngineLike['off']>[1];

export class StreamEndTap implements MediaEngineLike {
  readonly inner: MediaEngineLike;
  readonly #closed = new Set<(streamId: string) => void>();

  constructor(inner: MediaEngineLike) {
    this.inner = inner;
  }

  /** `fn` runs after the engine closed a stream; returns the unsubscribe. */
  onStreamClosed(fn: (streamId: string) => void): () => void {
    this.#closed.add(fn);
    return () => this.#closed.delete(fn);
  }

  get canSendOn(): boolean {
    return typeof this.inner.openOutgoing === 'function' && typeof this.inner.closeOutgoing === 'function';
  }

  openIncoming(spec: IncomingStreamSpec): Promise<{ port: number }> {
    return this.inner.openIncoming(spec);
  }

  answerIncoming(streamId: string, answer: { host: string; port: number; ssrc?: string }): Promise<void> {
    return this.inner.answerIncoming(streamId, answer);
  }

  async closeStream(streamId: string): Promise<void> {
    try {
      await this.inner.closeStream(streamId);
    } finally {
      for (const fn of this.#closed) {
        try {
          fn(streamId);
        } catch {
          /* a listener's failure is its own */
        }
      }
    }
  }

  openOutgoing(spec: OutgoingLegSpec): Promise<{ port: number }> {
    if (!this.inner.openOutgoing) return Promise.reject(new Error('the media engine cannot send streams on (no openOutgoing)'));
    return this.inner.openOutgoing(spec);
  }

  async closeOutgoing(legId: string): Promise<void> {
    await this.inner.closeOutgoing?.(legId);
  }

  on(event: 'firstMedia' | 'noMedia' | 'ended', listener: Listener): unknown {
    return this.inner.on(event as 'ended', listener as never);
  }

  off(event: 'firstMedia' | 'noMedia' | 'ended', listener: Listener): unknown {
    return this.inner.off(event, listener);
  }
}
