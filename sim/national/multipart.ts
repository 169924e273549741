// A streaming multipart/form-data reader (RFC 7578 over RFC 2046): parts are handed to sinks chunk
// by chunk as they arrive, so a 10 MiB video never sits in memory. Only what the national API's
// uploads need: one level (no nested multipart), any number of parts up to a limit,
// Content-Disposition with quoted or bare parameters and RFC 5987 `filename*`.
import { SimMultipart } from '../errors.ts';

export interface PartHead {
  /** the form field name (Content-Disposition `name`) */
  name: string;
  /** present for file parts */
  fileName: string | undefined;
  /** the part's Content-Type, '' when absent */
  contentType: string;
  headers: Record<string, string>;
}

/** Receives one part's bytes; a throw stops the reading and is passed on. */
export interface PartSink {
  write(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

export interface MultipartLimits {
  maxParts: number;
  /** bytes of one part's header block */
  maxHeaderBytes: number;
  /** bytes before the first boundary */
  maxPreambleBytes: number;
}

export const DEFAULT_MULTIPART_LIMITS: MultipartLimits = { maxParts: 16, maxHeaderBytes: 8 * 1024, maxPreambleBytes: 16 * 1024 };

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

function fail(rule: string): never {
  throw SimMultipart(`body: ${rule}`, { field: 'body' });
}

/** The boundary of a `multipart/form-data` Content-Type, or undefined when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

function unquote(v: string): string {
  const s = v.trim();
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) return s.slice(1, -1).replace(/\\(.)/g, '$1');
  return s;
}

/** The parameters of a header value such as `form-data; name="a"; filename="b.MP4"` (names lower-cased). */
export function headerParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const key = m[1]!.toLowerCase();
    let v = unquote(m[2]!);
    if (key.endsWith('*')) {
      // RFC 5987: charset'language'percent-encoded
      const ext = /^([^']*)'[^']*'(.*)$/.exec(v);
      if (ext) {
        try {
          v = decodeURIComponent(ext[2]!);
        } catch {
          continue;
        }
      }
      out[key.slice(0, -1)] = v;
      continue;
    }
    if (!(key in out)) out[key] = v;
  }
  return out;
}

function parseHeaders(block: Buffer): PartHead {
  const headers: Record<string, string> = {};
  let last = '';
  for (const line of block.toString('utf8').split('\r\n')) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      headers[last] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) fail(`a part header line is not "Name: value": ${JSON.stringify(line.slice(0, 60))}`);
    last = line.slice(0, colon).trim().toLowerCase();
    headers[last] = line.slice(colon + 1).trim();
  }
  const disposition = headers['content-disposition'];
  if (!disposition || !/^\s*form-data\s*(;|$)/i.test(disposition)) {
    fail(`every part needs "Content-Disposition: form-data; name=…", got ${JSON.stringify(disposition ?? '')}`);
  }
  const params = headerParams(disposition);
  if (params['name'] === undefined) fail(`a part's Content-Disposition has no name: ${JSON.stringify(disposition.slice(0, 100))}`);
  return { name: params['name'], fileName: params['filename'], contentType: headers['content-type'] ?? '', headers };
}

/**
 * Reads a multipart body from `source` and calls `onPart` for each part; the sink it returns gets
 * the part's bytes and then `end()`. Resolves after the closing boundary (the epilogue is read and
 * dropped); rejects with ESEAL_ERR_SIM_MULTIPART when the body breaks the format or ends early.
 */
export async function readMultipart(
  source: AsyncIterable<Buffer>,
  boundary: string,
  onPart: (head: PartHead) => PartSink | Promise<PartSink>,
  limits: MultipartLimits = DEFAULT_MULTIPART_LIMITS,
): Promise<void> {
  // Every delimiter is CRLF "--" boundary; a CRLF put in front of the body lets the first one match too.
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let buf: Buffer = CRLF;
  // (declared with `as`: the closure below changes it, which TypeScript's narrowing cannot see)
  let state = 'preamble' as 'preamble' | 'delimiter' | 'headers' | 'body' | 'epilogue';
  let sink: PartSink | undefined;
  let parts = 0;
  let preamble = 0;

  const step = async (): Promise<void> => {
    for (;;) {
      switch (state) {
        case 'preamble': {
          const at = buf.indexOf(delimiter);
          if (at < 0) {
            const keep = Math.min(buf.length, delimiter.length - 1);
            preamble += buf.length - keep;
            if (preamble > limits.maxPreambleBytes) fail(`no boundary --${boundary} in the first ${limits.maxPreambleBytes} bytes (is the Content-Type's boundary the one the body uses?)`);
            buf = buf.subarray(buf.length - keep);
            return;
          }
          buf = buf.subarray(at + delimiter.length);
          state = 'delimiter';
          break;
        }
        case 'delimiter': {
          if (buf.length < 2) return;
          if (buf[0] === 0x2d && buf[1] === 0x2d) {
            state = 'epilogue';
            break;
          }
          const eol = buf.indexOf(CRLF);
          if (eol < 0) {
            if (buf.length > 256) fail('a boundary line is not followed by CRLF');
            return;
          }
          if (!/^[ \t]*$/.test(buf.subarray(0, eol).toString('latin1'))) fail('a boundary line is followed by text other than white space');
          buf = buf.subarray(eol + 2);
          state = 'headers';
          break;
        }
        case 'headers': {
          let block: Buffer;
          if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) {
            block = Buffer.alloc(0);
            buf = buf.subarray(2);
          } else {
            const end = buf.indexOf(HEADER_END);
            if (end < 0) {
              if (buf.length > limits.maxHeaderBytes) fail(`a part's headers are longer than ${limits.maxHeaderBytes} bytes`);
              return;
            }
            if (end > limits.maxHeaderBytes) fail(`a part's headers are longer than ${limits.maxHeaderBytes} bytes`);
            block = buf.subarray(0, end);
            buf = buf.subarray(end + HEADER_END.length);
          }
          if (++parts > limits.maxParts) fail(`more than ${limits.maxParts} parts`);
          sink = await onPart(parseHeaders(block));
          state = 'body';
          break;
        }
        case 'body': {
          const at = buf.indexOf(delimiter);
          if (at >= 0) {
            if (at > 0) await sink!.write(buf.subarray(0, at));
            await sink!.end();
            sink = undefined;
            buf = buf.subarray(at + delimiter.length);
            state = 'delimiter';
            break;
          }
          // Keep what could be the start of a delimiter split across chunks.
          const safe = buf.length - (delimiter.length - 1);
          if (safe > 0) {
            await sink!.write(buf.subarray(0, safe));
            buf = buf.subarray(safe);
          }
          return;
        }
        case 'epilogue':
          buf = Buffer.alloc(0);
          return;
      }
    }
  };

  for await (const chunk of source) {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    await step();
  }
  if (state !== 'epilogue') {
    fail(
      state === 'preamble'
        ? `no boundary --${boundary} in the body (is the Content-Type's boundary the one the body uses?)`
        : `the body ended before its closing boundary --${boundary}-- (the upload is incomplete)`,
    );
  }
}
