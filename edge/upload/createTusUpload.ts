// The creation step of a tus upload (POST on the resumable path), on its own: the outbox must hold
// the upload's URL before the first byte goes, so that a process killed mid-upload resumes at the
// offset the relay holds instead of starting over. uploadWithTus (src/client/TusClient.ts) does
// the rest, given that URL.
import { request, type Dispatcher } from 'undici';
import type { ApiAnswer } from '../../src/client/NationalClient.ts';
import { readEnvelope } from '../../src/contract/index.ts';
import { DEFAULT_VIDEO_TYPE, TUS_PATH, TUS_VERSION, formatMetadata } from '../../src/contract/tus.ts';

export interface CreateTusUpload {
  baseUrl: string;
  token: string;
  /** evidence part name (personVideo, …) */
  kind: string;
  fileName: string;
  size: number;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
}

/** The new upload's absolute URL, or the server's answer when it did not create one. */
export async function createTusUpload(o: CreateTusUpload): Promise<{ uploadUrl: string } | { answer: ApiAnswer }> {
  const res = await request(new URL(TUS_PATH, o.baseUrl).href, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${o.token}`,
      'tus-resumable': TUS_VERSION,
      'upload-length': String(o.size),
      'upload-metadata': formatMetadata({ kind: o.kind, filename: o.fileName, filetype: DEFAULT_VIDEO_TYPE }),
    },
    ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const text = (await res.body.text()).slice(0, 64 * 1024);
  const location = res.headers['location'];
  const where = Array.isArray(location) ? location[0] : location;
  if (res.statusCode === 201 && where) return { uploadUrl: new URL(where, o.baseUrl).href };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // a 201 without a Location is outside tus: answered as a server fault, so it is retried later
  const status = res.statusCode === 201 ? 502 : res.statusCode;
  return { answer: { status, envelope: readEnvelope(json), text } };
}
