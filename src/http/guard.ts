// A guard for every node:http listener of ours: no request, however malformed, may take the
// process down. A handler that throws or rejects is answered 400 (the request could not be
// parsed) or 500 (a fault of ours) when nothing was sent yet, and logged; a request that Node's
// parser refuses ('clientError': garbage, bad headers, NUL bytes, HTTP/0.9) is answered the way Node
// would, but counted and logged instead of passing silently. Fastify (the relay) has its own.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { EsealError } from '../errors.ts';
import { HttpBadRequest } from './errors.ts';

/** What the guard logs through (pino fits). */
export interface GuardLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

export interface GuardOptions {
  /** the listener, in log lines: 'live stream aux-1', 'simulator data port' */
  name: string;
  log?: GuardLogger | undefined;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * The request target as a URL against `base`. An origin-form target (`/path?q`) or an absolute-form
 * one (`http://host:port/path`) that cannot be parsed (a port past 65535, a bad host) throws
 * ESEAL_ERR_HTTP_BAD_REQUEST rather than a TypeError.
 */
export function requestUrl(req: IncomingMessage, base: string): URL {
  const target = req.url ?? '/';
  try {
    return new URL(target, base);
  } catch (err) {
    throw HttpBadRequest(`request target ${JSON.stringify(target.slice(0, 100))} is not a valid URL`, { field: 'url', cause: err });
  }
}

/** 400 for what the client sent wrong (an unparsable target, %-encoding), else 500. */
export function guardStatus(err: unknown): number {
  if (err instanceof EsealError && err.statusCode >= 400 && err.statusCode < 500) return err.statusCode;
  if (err instanceof URIError) return 400;
  if ((err as NodeJS.ErrnoException | undefined)?.code === 'ERR_INVALID_URL') return 400;
  return 500;
}

/**
 * The handler, wrapped: whatever it throws or rejects with is answered and logged, never left to
 * reach the process. The returned promise always resolves, once the handler has settled.
 */
export function guardHandler(handler: RequestHandler, options: GuardOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    const status = guardStatus(err);
    const fields = { listener: options.name, method: req.method, status, remote: req.socket.remoteAddress, err: String(err) };
    if (status >= 500) options.log?.warn(fields, 'a request failed inside the listener');
    else options.log?.info(fields, 'a request that cannot be parsed was refused');
    if (res.headersSent || res.destroyed || !res.writable) {
      res.destroy();
      return;
    }
    const text = status >= 500 ? 'internal error\n' : `${STATUS_CODES[status] ?? 'Bad Request'}: ${err instanceof Error ? err.message : String(err)}\n`;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), Connection: 'close' });
    res.end(text);
    // the body (if any) is not read: the connection closes after the answer
  };
  return (req, res) => {
    // a write after the socket went away is reported on the response: never an unhandled 'error'
    res.on('error', (err) => options.log?.info({ listener: options.name, err: String(err) }, 'response error'));
    let result: unknown;
    try {
      result = handler(req, res);
    } catch (err) {
      fail(req, res, err);
      return Promise.resolve();
    }
    return Promise.resolve(result).then(
      () => undefined,
      (err: unknown) => fail(req, res, err),
    );
  };
}

/**
 * Answers what Node's HTTP parser refuses (or a request that timed out) on the raw socket, as Node
 * does without a listener (400, 408, 431, then close), and logs it.
 */
export function guardClientErrors(server: Server, options: GuardOptions): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const remote = (socket as { remoteAddress?: string }).remoteAddress;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    options.log?.info({ listener: options.name, remote, code: err.code, status }, 'a request the HTTP parser refused');
    // an answer already under way on this socket (pipelining) must not be cut into: just close
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
}

/** The handler wrapped by guardHandler on `server`, and its client errors handled. */
export function guardServer<S extends Server>(server: S, handler: RequestHandler, options: GuardOptions): S {
  server.on('request', guardHandler(handler, options));
  guardClientErrors(server, options);
  return server;
}
