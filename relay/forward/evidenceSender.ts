// How a video goes upstream. The national API takes whole multipart files only, so there a failed
// upload is retried from the stored blob. When the upstream is another eseal relay (chaining city →
// province → nation) the video goes by tus instead and a failed upload resumes at the byte offset
// the upstream holds. upstream.kind says which; `auto` asks the upstream (OPTIONS on the resumable
// path) and asks again every few minutes while the answer is no.
//
// Either way the video is read through the verified read (blobSource.ts): by tus, the PATCH that
// completes the upload hashes the whole stored file, the bytes the upstream already holds included,
// and fails before its end when the file is not what its SM3 address says; the upload is then
// terminated at the upstream, so a damaged video never completes there.
import { readEnvelope, type EvidenceEndpoint } from '../../src/contract/index.ts';
import type { ApiAnswer } from '../../src/client/NationalClient.ts';
import type { RelayContext } from '../RelayContext.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';
import { terminateUpload, uploadWithTus } from '../../src/client/TusClient.ts';
import { TUS_PATH } from '../../src/contract/tus.ts';
import type { EvidenceSender } from './Forwarder.ts';
import { corruptionOf, forwardedChunks } from './blobSource.ts';

const RECHECK_MS = 5 * 60_000;

export function evidenceSender(ctx: RelayContext, multipart: EvidenceSender): EvidenceSender {
  const client = ctx.upstream!.client;
  const kind = ctx.config.upstream.kind;
  if (kind === 'national') return multipart;
  let speaksTus = kind === 'eseal';
  let checkedAt = kind === 'eseal' ? Infinity : 0;
  /** upload URLs of unfinished tus uploads, so that the next attempt resumes instead of restarting */
  const resume = new Map<number | string, string>();
  const log = ctx.log.child({ part: 'forward' });

  const viaTus = async (endpoint: EvidenceEndpoint, item: RelayItem, token: string): Promise<ApiAnswer> => {
    const file = item.file!;
    const key = `${item.account}\u0000${file.name}\u0000${file.blob}`;
    const known = resume.get(key);
    let r;
    try {
      r = await uploadWithTus({
        baseUrl: client.base,
        token,
        kind: endpoint.partName,
        fileName: file.name,
        size: file.size,
        ...forwardedChunks(ctx.blobs, file),
        // an attempt that failed midway is resumed by the next one at the upstream's offset
        onUploadUrl: (url) => resume.set(key, url),
        dispatcher: client.dispatcher,
        checksum: 'sm3',
        contentType: file.contentType,
        ...(known ? { uploadUrl: known } : {}),
      });
    } catch (err) {
      const url = resume.get(key);
      if (corruptionOf(err) && url) {
        // its bytes are not worth resuming: free what the upstream holds for it (and its quota)
        resume.delete(key);
        const status = await terminateUpload({ baseUrl: client.base, token, uploadUrl: url, dispatcher: client.dispatcher });
        log.info({ upstream: client.base, fileName: file.name, status }, 'terminated the resumable upload of a damaged video at the upstream');
      }
      throw err;
    }
    if (r.completed) resume.delete(key);
    else if (r.uploadUrl) resume.set(key, r.uploadUrl);
    const envelope = readEnvelope(r.answer);
    return { status: r.completed ? 200 : r.status, envelope, text: JSON.stringify(r.answer ?? null) };
  };

  return async (endpoint, item, token) => {
    if (!speaksTus && Date.now() - checkedAt > RECHECK_MS) {
      checkedAt = Date.now();
      speaksTus = await client.speaksTus(TUS_PATH, token);
      if (speaksTus) log.info({ upstream: client.base }, 'the upstream is an eseal relay: videos go by tus and resume at the byte offset');
    }
    return speaksTus ? viaTus(endpoint, item, token) : multipart(endpoint, item, token);
  };
}
