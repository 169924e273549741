// A gb28181:// camera read through the GB/T 28181 bridge's viewer: one HTTP GET of the channel's
// live stream, whose body capture pipes into ffmpeg's stdin. Node makes the request, not ffmpeg,
// so that the viewer token never sits in ffmpeg's command line (which every local user can read
// in /proc), and so that the bridge's answer is read exactly: 415 means an H.265 channel, which
// the bridge serves as MJPEG instead, and the bridge's JSON {code, msg} becomes the camera's
// offline reason (device offline, channel unknown, token refused). ffmpeg cannot tell a 415 from
// any other 4xx.
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  GB28181_VIEW_TOKEN,
  gbLiveUrl,
  gbViewBaseUrl,
  gbAdminTokenFile,
  gbViewTokenFile,
  type GbAddress,
  type GbLiveFormat,
} from '../../src/contract/gb28181.ts';
import { CaptureGb28181Unavailable } from './errors.ts';
import { redactSecrets } from './sourceUrl.ts';

/** Where gb28181:// cameras are read (edge.gb28181 and the data directory). */
export interface GbBridge {
  /** the bridge's viewer, http(s)://host:port ('' = the bridge on this machine, http://127.0.0.1:9092) */
  url: string;
  /** the viewer token ('' = read <dataDir>/gb28181/view.token at each connection) */
  token: string;
  /** the data directory the bridge on this machine shares (its token file) */
  dataDir: string;
}

export interface GbStream {
  /** what the body is: fragmented MP4, or multipart MJPEG (an H.265 channel) */
  format: GbLiveFormat;
  body: IncomingMessage;
  /** the token, for redacting anything that might quote it */
  token: string;
  /** ends the request (the bridge lets its pull go once no viewer is left) */
  close(): void;
}

export interface OpenGbStreamOptions {
  /** the format asked first; an H.265 channel answers 415 to mp4 and is asked again as mjpeg */
  format: GbLiveFormat;
  /** the bridge must answer (it first INVITEs the device and waits for a picture) within this long */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** most bytes of an error answer read */
const MAX_ERROR_BODY = 4096;

export function bridgeBaseUrl(bridge: GbBridge): string {
  return (bridge.url || gbViewBaseUrl()).replace(/\/+$/, '');
}

/** The token: the configured one, else the bridge's token file on this machine. */
export function bridgeToken(bridge: GbBridge): string {
  if (bridge.token) return bridge.token;
  const file = gbViewTokenFile(bridge.dataDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist yet (the gb28181 role makes it when it first starts)' : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    throw CaptureGb28181Unavailable(`the bridge's viewer token ${file} ${why}; for a bridge on another server set edge.gb28181.token`, { field: 'edge.gb28181.token', cause: err });
  }
  if (!GB28181_VIEW_TOKEN.test(text)) throw CaptureGb28181Unavailable(`the bridge's viewer token ${file} is not a token (20 or more letters, digits, - or _)`, { field: 'edge.gb28181.token' });
  return text;
}

/**
 * The bridge's admin token when the bridge is this server's own (no token configured): sent as a
 * Bearer so that the viewer does not hold the edge's many channels to its per-address limit. Absent
 * (an older bridge, another server's) it is simply not sent.
 */
function localAdminToken(bridge: GbBridge): string | undefined {
  if (bridge.token) return undefined;
  try {
    const text = readFileSync(gbAdminTokenFile(bridge.dataDir), 'utf8').trim();
    return GB28181_VIEW_TOKEN.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens a channel's live stream at the bridge. Resolves once the bridge answered 200 (it has the
 * channel's first picture); rejects with CaptureGb28181Unavailable, whose message names the bridge
 * (never the token) and what it said, detail.status being its HTTP status (0: no answer).
 */
export async function openGbStream(address: GbAddress, bridge: GbBridge, options: OpenGbStreamOptions): Promise<GbStream> {
  const token = bridgeToken(bridge);
  const first = await get(address, bridge, token, options.format, options);
  if (first.status === 415 && options.format === 'mp4') {
    // H.265: the bridge transcodes to MJPEG for us
    first.close();
    return get(address, bridge, token, 'mjpeg', options).then((s) => stream(s, token, bridge));
  }
  return stream(first, token, bridge);
}

interface Answer {
  status: number;
  format: GbLiveFormat;
  body: IncomingMessage;
  close(): void;
  text: string;
}

function stream(a: Answer, token: string, bridge: GbBridge): GbStream {
  if (a.status === 200) return { format: a.format, body: a.body, token, close: a.close };
  a.close();
  let said = a.text.slice(0, 300);
  try {
    const j = JSON.parse(a.text) as { code?: unknown; msg?: unknown };
    if (typeof j.msg === 'string') said = typeof j.code === 'string' ? `${j.code}: ${j.msg}` : j.msg;
  } catch {
    /* not JSON: the text as it is */
  }
  const hint =
    a.status === 401 ? ' (the viewer token is not this bridge\'s: set edge.gb28181.token, or leave it empty on the bridge\'s own server)' : '';
  const message = `the bridge at ${bridgeBaseUrl(bridge)} answered ${a.status} for ${a.format}${said ? `: ${said}` : ''}${hint}`;
  throw CaptureGb28181Unavailable(redactSecrets(message, [token]), { detail: { status: a.status } });
}

function get(address: GbAddress, bridge: GbBridge, token: string, format: GbLiveFormat, options: OpenGbStreamOptions): Promise<Answer> {
  const base = bridgeBaseUrl(bridge);
  const url = gbLiveUrl(base, address, format, token);
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise<Answer>((resolve, reject) => {
    let settled = false;
    const fail = (why: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      reject(CaptureGb28181Unavailable(redactSecrets(`the bridge at ${base}: ${why}`, [token]), { detail: { status: 0 }, ...(cause ? { cause } : {}) }));
    };
    const headers: Record<string, string> = { Accept: format === 'mp4' ? 'video/mp4' : 'multipart/x-mixed-replace' };
    const admin = localAdminToken(bridge);
    if (admin) headers['Authorization'] = `Bearer ${admin}`;
    const req = request(url, { headers }, (res) => {
      if (settled) return void res.destroy();
      clearTimeout(timer);
      const close = (): void => {
        res.destroy();
        req.destroy();
      };
      if (res.statusCode === 200) {
        settled = true;
        options.signal?.removeEventListener('abort', onAbort);
        return resolve({ status: 200, format, body: res, close, text: '' });
      }
      // an error answer: its JSON, bounded
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_ERROR_BODY) chunks.push(c.subarray(0, MAX_ERROR_BODY - size));
        size += c.length;
        if (size >= MAX_ERROR_BODY) res.destroy();
      });
      const done = (): void => {
        if (settled) return;
        settled = true;
        options.signal?.removeEventListener('abort', onAbort);
        resolve({ status: res.statusCode ?? 0, format, body: res, close, text: Buffer.concat(chunks).toString('utf8') });
      };
      res.on('end', done);
      res.on('close', done);
      res.on('error', () => undefined);
    });
    const timer = setTimeout(() => fail(`no answer within ${Math.round(options.timeoutMs / 1000)} s (the device did not start the channel's stream?)`), options.timeoutMs);
    const onAbort = (): void => fail('stopped');
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ECONNREFUSED' ? 'not reachable (connection refused): is the gb28181 role running, and is edge.gb28181.url its gb28181.http.listen?' : `not reachable (${err.code ?? err.message})`;
      fail(why, err);
    });
    req.end();
  });
}
