// A tus client written from the protocol text, one call at a time, so that a test can assert each
// answer of the relay's resumable uploads (the relay's own client is src/client/TusClient.ts).
import { request } from 'undici';
import { TUS_PATH, formatMetadata } from '../../src/contract/tus.ts';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** One account's calls to a relay's resumable uploads (`baseUrl` is the relay's URL). */
export class Tus {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async call(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Answer> {
    const res = await request(this.baseUrl + path, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${this.token}`, 'tus-resumable': '1.0.0', ...headers },
      ...(body ? { body } : {}),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // empty or not JSON
    }
    return { status: res.statusCode, headers: res.headers as Answer['headers'], body: parsed };
  }

  create(kind: string | undefined, fileName: string | undefined, length: number, extra: Record<string, string> = {}): Promise<Answer> {
    const meta: Record<string, string> = {};
    if (kind !== undefined) meta['kind'] = kind;
    if (fileName !== undefined) meta['filename'] = fileName;
    return this.call('POST', TUS_PATH, { 'upload-length': String(length), 'upload-metadata': formatMetadata(meta), ...extra });
  }

  head(path: string): Promise<Answer> {
    return this.call('HEAD', path);
  }

  patch(path: string, offset: number, bytes: Buffer, extra: Record<string, string> = {}): Promise<Answer> {
    return this.call('PATCH', path, { 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), ...extra }, bytes);
  }

  /** Creates an upload and sends `bytes` in `chunks` PATCHes; the last answer. */
  async upload(kind: string, fileName: string, bytes: Buffer, chunks: number): Promise<{ path: string; last: Answer }> {
    const created = await this.create(kind, fileName, bytes.length);
    if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
    const path = String(created.headers['location']);
    const size = Math.ceil(bytes.length / chunks);
    let last: Answer | undefined;
    for (let offset = 0; offset < bytes.length; offset += size) {
      last = await this.patch(path, offset, bytes.subarray(offset, offset + size));
      if (last.status !== 204) break;
    }
    return { path, last: last! };
  }
}
