// A PATCH body as pieces, so that every byte that reached the relay is kept even when the
// connection breaks: a stream's async iterator stops at the break and drops what the stream still
// had buffered; this reader hands that over first, then throws.
import type { Readable } from 'node:stream';

export interface BodyPieces {
  pieces: AsyncIterable<Buffer>;
  /**
   * Ends the reading early (a newer request for the upload came): what is buffered now still comes,
   * then the pieces throw BodyStopped. The caller closes the connection afterwards.
   */
  stop(): void;
}

export class BodyStopped extends Error {
  constructor() {
    super('a newer request for this upload took over');
    this.name = 'BodyStopped';
  }
}

export function bodyPieces(source: Readable): BodyPieces {
  let ended = source.readableEnded;
  let failure: unknown = source.destroyed && !ended ? Object.assign(new Error('the request was closed before its end'), { code: 'ECONNRESET' }) : undefined;
  /** bytes still to hand over once stopped (what was buffered when stop() came) */
  let stopBudget: number | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onError = (err: unknown) => {
    failure ??= err;
    notify();
  };
  const onClose = () => {
    if (!ended) failure ??= Object.assign(new Error('the request was closed before its end'), { code: 'ECONNRESET' });
    notify();
  };
  source.on('readable', notify).on('end', onEnd).on('error', onError).on('close', onClose);

  async function* pieces(): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        // read() still returns what was buffered after the stream was destroyed
        for (let piece = source.read() as Buffer | null; piece !== null; piece = source.read() as Buffer | null) {
          if (stopBudget !== undefined) {
            if (stopBudget <= 0) throw new BodyStopped();
            stopBudget -= piece.length;
          }
          yield piece;
        }
        if (ended) return;
        if (failure !== undefined) throw failure;
        if (stopBudget !== undefined) throw new BodyStopped();
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      source.off('readable', notify).off('end', onEnd).off('error', onError).off('close', onClose);
      // an error after we stopped listening must not crash the process
      source.on('error', () => {});
    }
  }

  return {
    pieces: pieces(),
    stop() {
      stopBudget ??= source.readableLength;
      notify();
    },
  };
}
