// The tus 1.0 client side, for the forwarder when its upstream is another eseal relay (city →
// province → nation): a 10 MiB video over a flaky link resumes at the byte offset the upstream
// holds instead of starting over.
//
//   create (POST) or resume (HEAD a known upload) → PATCH chunks, each with an Upload-Checksum when
//   asked → on a network error, a 5xx, 409 or 460: HEAD again and go on from the upstream's offset,
//   with backoff; an upload the upstream no longer knows (404, 410) is made again (the relay's
//   dedupe makes the re-send harmless).
//
// Returns rather than throws when the upstream refuses (a 4xx with its envelope: the video is not
// an H.264 MP4, the token expired): `completed` is false and `answer` says why. Throws when it
// cannot finish: retries spent (TusClientGaveUp), an answer outside tus (TusClientProtocol), the
// signal aborted, the source failing.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { SUCCESS } from '../contract/index.ts';
import { TusClientGaveUp, TusClientLocation, TusClientProtocol } from './errors.ts';
import { DEFAULT_VIDEO_TYPE, OFFSET_OCTET_STREAM, TUS_PATH, TUS_VERSION, formatMetadata } from '../contract/tus.ts';

export interface TusUploadOptions {
  /** the upstream relay, e.g. https://province.example:8443 */
  baseUrl: string;
  /** the Bearer token of the account the upload is made for */
  token: string;
  /** evidence part name (personVideo, …) or endpoint id (fileOperator/personVideo) */
  kind: string;
  /** the guide's file name */
  fileName: string;
  size: number;
  /** the file's bytes from `start` to its end; called once per attempt and checksum pass */
  open: (start: number) => Readable;
  /**
   * The bytes from `start` to the end for the PATCH that completes the upload, in place of open():
   * a source that checks the whole file (the bytes before `start` too) as it streams and fails
   * rather than give its last bytes when the file is not the one announced (the relay's verified
   * blob read), so that an upload, resumed or not, never completes with wrong bytes.
   */
  openLast?: (start: number) => Readable;
  /** told the upload's URL once it is known (created or resumed), to resume or terminate it after a throw */
  onUploadUrl?: (url: string) => void;
  dispatcher?: Dispatcher;
  /** bytes per PATCH (default 2 MiB) */
  chunkBytes?: number;
  /** Upload-Checksum on every chunk; without it a chunk cut off midway keeps what arrived */
  checksum?: 'sha1' | 'sm3';
  /** resume this upload (an absolute URL, or a path below baseUrl) instead of creating one */
  uploadUrl?: string;
  onProgress?: (offset: number) => void;
  signal?: AbortSignal;
  /** failures in a row without progress before giving up (default 8) */
  retries?: number;
  /** first backoff delay (default 250 ms), doubled per failure in a row, at most 15 s */
  retryDelayMs?: number;
  /** Upload-Metadata filetype (default application/mp4) */
  contentType?: string;
}

export interface TusUploadResult {
  /** the upload's URL ('' when the creation itself was refused) */
  uploadUrl: string;
  /** bytes the upstream holds */
  offset: number;
  /** the upstream holds the whole file and committed its evidence item */
  completed: boolean;
  /** the envelope of the final answer: success, or the upstream's refusal */
  answer: unknown;
  /** HTTP status of the final answer */
  status: number;
}

export const DEFAULT_CHUNK_BYTES = 2 * 1024 * 1024;
const DEFAULT_RETRIES = 8;
const DEFAULT_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 15_000;
/** a Retry-After longer than this is cut to it */
const MAX_RETRY_AFTER_MS = 60_000;

/** Errors of the connection (never of our own source), by their constant codes. */
const RETRY_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
/** Answers after which the same step is tried again after a pause. */
const RETRY_STATUSES = new Set([408, 423, 425, 429, 500, 502, 503, 504]);

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A failure worth another attempt (after a HEAD). */
class Transient extends Error {
  constructor(
    message: string,
    readonly retryAfterMs = 0,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

function headerOf(reply: Reply, name: string): string | undefined {
  const v = reply.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function retryAfterMs(reply: Reply): number {
  const v = headerOf(reply, 'retry-after');
  if (v === undefined) return 0;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : 0;
}

/** The first `length` bytes of `source`; the source is closed after. */
/**
 * `length` bytes of the source `open` gives. The source is opened on the first read, not before: a
 * body that is never read (the connection failed first) must not leave a file open, and a generator
 * that never started runs no `finally`.
 */
async function* slice(open: () => Readable, length: number): AsyncGenerator<Buffer> {
  let left = length;
  const source = open();
  try {
    for await (const piece of source) {
      const buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
      if (buf.length >= left) {
        if (left > 0) yield buf.subarray(0, left);
        left = 0;
        break;
      }
      yield buf;
      left -= buf.length;
    }
  } finally {
    source.destroy();
  }
  if (left > 0) throw new Error(`tus upload: the source ended ${left} bytes before the announced size`);
}

/**
 * An upload URL (a Location, a stored URL) resolved against the upstream, on the upstream's own
 * origin only: the account's token is sent to every URL of the upload, and an upstream (or whoever
 * answers for it) must not be able to send it elsewhere.
 */
export function sameOriginUploadUrl(location: string, baseUrl: string, what: string): string {
  const base = new URL(baseUrl);
  let url: URL;
  try {
    url = new URL(location, base);
  } catch (err) {
    throw TusClientProtocol(`${what} ${JSON.stringify(location.slice(0, 200))}: not a URL`, { cause: err });
  }
  if (url.origin !== base.origin) {
    throw TusClientLocation(`${what} on ${url.origin}, not on the upstream's origin ${base.origin}: the account's token is sent to the upstream only`, {
      detail: { location: location.slice(0, 200) },
    });
  }
  return url.href;
}

/**
 * Terminates an upload (tus termination: DELETE), so that an upload that must not complete (its
 * source is damaged) holds nothing at the upstream until it expires. Resolves with the status, or
 * 0 when the upstream could not be reached; never throws for the upstream's answer.
 */
export async function terminateUpload(options: Pick<TusUploadOptions, 'baseUrl' | 'token' | 'dispatcher'> & { uploadUrl: string }): Promise<number> {
  const url = sameOriginUploadUrl(options.uploadUrl, options.baseUrl, 'the upload URL to terminate is');
  try {
    const res = await request(url, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${options.token}`, 'tus-resumable': TUS_VERSION },
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  }
}

export async function uploadWithTus(options: TusUploadOptions): Promise<TusUploadResult> {
  const { baseUrl, token, size, signal } = options;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const retries = options.retries ?? DEFAULT_RETRIES;
  const firstDelay = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`tus upload: size must be a whole number of bytes >= 1, got ${size}`);
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`tus upload: chunkBytes must be >= 1, got ${chunkBytes}`);
  const auth = { authorization: `Bearer ${token}`, 'tus-resumable': TUS_VERSION };

  async function call(method: Dispatcher.HttpMethod, url: string, headers: Record<string, string>, body?: Readable): Promise<Reply> {
    const res = await request(url, {
      method,
      headers: { ...auth, ...headers },
      ...(body ? { body } : {}),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      ...(signal ? { signal } : {}),
    });
    const text = await res.body.text();
    let parsed: unknown = text === '' ? undefined : text;
    try {
      if (text) parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, headers: res.headers, body: parsed };
  }

  function offsetOf(reply: Reply, what: string): number {
    const v = headerOf(reply, 'upload-offset');
    const n = v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n > size) {
      throw TusClientProtocol(`${what} answered ${reply.status} with Upload-Offset ${JSON.stringify(v)} (upload of ${size} bytes)`);
    }
    return n;
  }

  const refused = (reply: Reply, url: string, offset: number): TusUploadResult => ({
    uploadUrl: url,
    offset,
    completed: false,
    answer: reply.body,
    status: reply.status,
  });
  const done = (url: string, status: number): TusUploadResult => {
    options.onProgress?.(size);
    return { uploadUrl: url, offset: size, completed: true, answer: { ...SUCCESS }, status };
  };

  let url = options.uploadUrl ? sameOriginUploadUrl(options.uploadUrl, baseUrl, 'the upload URL to resume is') : undefined;
  let offset = 0;
  let needHead = url !== undefined;
  let failures = 0;

  for (;;) {
    signal?.throwIfAborted();
    let pause = 0;
    try {
      if (url === undefined) {
        const created = await call('POST', new URL(TUS_PATH, baseUrl).href, {
          'upload-length': String(size),
          'upload-metadata': formatMetadata({ kind: options.kind, filename: options.fileName, filetype: options.contentType ?? DEFAULT_VIDEO_TYPE }),
        });
        if (RETRY_STATUSES.has(created.status)) throw new Transient(`create answered ${created.status}`, retryAfterMs(created));
        if (created.status !== 201) return refused(created, '', 0);
        const location = headerOf(created, 'location');
        if (!location) throw TusClientProtocol(`create answered 201 without a Location`);
        url = sameOriginUploadUrl(location, baseUrl, 'create answered 201 with its Location');
        options.onUploadUrl?.(url);
        offset = 0;
        needHead = false;
      } else if (needHead) {
        const head = await call('HEAD', url, {});
        if (head.status === 404 || head.status === 410) {
          // gone (expired, removed): make it again; counts as a failure so this cannot loop
          url = undefined;
          throw new Transient(`HEAD answered ${head.status}: the upload is gone`);
        }
        if (RETRY_STATUSES.has(head.status)) throw new Transient(`HEAD answered ${head.status}`, retryAfterMs(head));
        if (head.status < 200 || head.status > 299) return refused(head, url, offset);
        const length = headerOf(head, 'upload-length');
        if (length !== undefined && Number(length) !== size) {
          throw TusClientProtocol(`${url} holds an upload of ${length} bytes, not of ${size}: another file's upload URL?`);
        }
        const held = offsetOf(head, 'HEAD');
        options.onUploadUrl?.(url);
        if (held > offset) failures = 0;
        offset = held;
        needHead = false;
        options.onProgress?.(offset);
        if (offset === size) return done(url, head.status);
      }

      const end = Math.min(offset + chunkBytes, size);
      const headers: Record<string, string> = {
        'content-type': OFFSET_OCTET_STREAM,
        'upload-offset': String(offset),
        'content-length': String(end - offset),
      };
      // the PATCH that completes the upload reads through openLast (for its checksum too): wrong
      // bytes fail it before it starts, or before its end if they changed in between
      const source = end === size && options.openLast ? options.openLast : options.open;
      if (options.checksum) {
        const hash = createHash(options.checksum);
        for await (const piece of slice(() => source(offset), end - offset)) hash.update(piece);
        headers['upload-checksum'] = `${options.checksum} ${hash.digest('base64')}`;
      }
      const patched = await call('PATCH', url, headers, Readable.from(slice(() => source(offset), end - offset), { objectMode: false }));
      if (patched.status === 204 || patched.status === 200) {
        const next = offsetOf(patched, 'PATCH');
        if (next <= offset) throw TusClientProtocol(`PATCH at ${offset} answered ${patched.status} with Upload-Offset ${next}`);
        offset = next;
        failures = 0;
        if (offset === size) return done(url, patched.status);
        options.onProgress?.(offset);
        continue;
      }
      if (patched.status === 404 || patched.status === 410) {
        url = undefined;
        throw new Transient(`PATCH answered ${patched.status}: the upload is gone`);
      }
      if (patched.status === 409 || patched.status === 460) throw new Transient(`PATCH at ${offset} answered ${patched.status}`);
      if (RETRY_STATUSES.has(patched.status)) throw new Transient(`PATCH answered ${patched.status}`, retryAfterMs(patched));
      return refused(patched, url, offset);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (!(err instanceof Transient) && !RETRY_CODES.has((err as NodeJS.ErrnoException)?.code ?? '')) throw err;
      failures++;
      if (failures > retries) {
        throw TusClientGaveUp(`resumable upload of ${options.fileName}: gave up after ${failures} failures in a row at offset ${offset} of ${size} (${(err as Error).message})`, {
          cause: err,
          detail: { uploadUrl: url, offset },
        });
      }
      if (url !== undefined) needHead = true;
      pause = Math.max(err instanceof Transient ? Math.min(err.retryAfterMs, MAX_RETRY_AFTER_MS) : 0, Math.min(firstDelay * 2 ** (failures - 1), MAX_RETRY_DELAY_MS));
    }
    if (pause > 0) await sleep(pause, undefined, signal ? { signal } : {});
  }
}
