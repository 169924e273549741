// Plumbing of the simulator's HTTP listeners: answers, and request bodies read through the shared
// bandwidth cap, with the "reset the socket half-way" fault built in.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenBucket } from './TokenBucket.ts';

export interface Answer {
  status: number;
  /** an object is sent as JSON, a string as is */
  body: unknown;
  /** Content-Type for a string body (default text/plain; charset=utf-8) */
  type?: string;
  headers?: Record<string, string>;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): Answer {
  return headers ? { status, body, headers } : { status, body };
}

/** Writes an answer unless the connection is gone. */
export function send(res: ServerResponse, answer: Answer): void {
  if (res.destroyed || res.headersSent) return;
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  const type = typeof answer.body === 'string' ? (answer.type ?? 'text/plain; charset=utf-8') : 'application/json;charset=UTF-8';
  res.writeHead(answer.status, { 'content-type': type, 'content-length': String(Buffer.byteLength(text)), ...answer.headers });
  res.end(text);
}

/** Thrown by a body read when the simulator reset the connection on purpose. */
export class ConnectionResetByFault extends Error {
  constructor() {
    super('connection reset by the resetMidUploadRate fault');
    this.name = 'ConnectionResetByFault';
  }
}

export interface BodyReaderOptions {
  bucket: TokenBucket;
  /** called with the size of every chunk read */
  onBytes?: (n: number) => void;
  /** called just before the socket is reset on purpose (so the count is there before the client notices) */
  onReset?: () => void;
}

/**
 * A request body, read chunk by chunk through the shared bandwidth cap. A consumer may stop early
 * (its loop breaks) without destroying the request; `finish()` then reads and drops the rest so
 * that the answer reaches a client that is still sending.
 */
export class BodyReader {
  #read = 0;
  #ended = false;
  /** reset the socket once this many bytes have been read */
  resetAfter: number | undefined;

  constructor(
    readonly req: IncomingMessage,
    private readonly options: BodyReaderOptions,
  ) {}

  get bytesRead(): number {
    return this.#read;
  }

  get ended(): boolean {
    return this.#ended;
  }

  async *chunks(): AsyncGenerator<Buffer> {
    if (this.#ended) return;
    for await (const chunk of this.req.iterator({ destroyOnReturn: false })) {
      const buf = chunk as Buffer;
      await this.options.bucket.take(buf.length);
      // the connection may have been cut while this reader waited for its share (down, close)
      if (this.req.socket.destroyed) throw new Error('the connection closed while the body was being read');
      this.#read += buf.length;
      this.options.onBytes?.(buf.length);
      if (this.resetAfter !== undefined && this.#read >= this.resetAfter) {
        const socket = this.req.socket;
        this.options.onReset?.();
        // RST rather than FIN: what a broken VPN line or a crashed proxy looks like to the client.
        if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
        else socket.destroy();
        throw new ConnectionResetByFault();
      }
      yield buf;
    }
    this.#ended = true;
  }

  /** The whole body, refused past `limit` bytes (the rest is left for finish()). */
  async readAll(limit: number, tooLarge: () => Error): Promise<Buffer> {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.chunks()) {
      size += chunk.length;
      if (size > limit) throw tooLarge();
      parts.push(chunk);
    }
    return Buffer.concat(parts);
  }

  /**
   * Reads and drops what is left of the body, up to `cap` bytes; past that the connection is
   * marked to close after the answer. Returns false when the body could not be finished.
   */
  async finish(res: ServerResponse, cap: number): Promise<boolean> {
    if (this.#ended || this.req.complete) return true;
    this.resetAfter = undefined; // the answer is decided: let it arrive
    let dropped = 0;
    try {
      for await (const chunk of this.chunks()) {
        dropped += chunk.length;
        if (dropped > cap) {
          res.setHeader('connection', 'close');
          return false;
        }
      }
      return true;
    } catch {
      return false;
    }
  }
}

/** A delay that does not keep a closed simulator's process alive. */
export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms).unref()) : Promise.resolve();
}
