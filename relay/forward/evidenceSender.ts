// How a video goes upstream. The national API takes whole multipart files only, so there a failed
// upload is retried from the stored blob. When the upstream is another eseal relay (chaining city →
// province → nation) the video goes by tus instead and a failed upload resumes at the byte offset
// the upstream holds. upstream.kind says which; `auto` asks the upstream (OPTIONS on the resumable
// path) and asks again every few minutes while the answer is no.
import { readEnvelope, type EvidenceEndpoint } from '../../src/contract/index.ts';
import type { ApiAnswer } from '../../src/client/NationalClient.ts';
import type { RelayContext } from '../RelayContext.ts';
import type { RelayItem } from '../ingest/RelayItem.ts';
import { uploadWithTus } from '../../src/client/TusClient.ts';
import { TUS_PATH } from '../../src/contract/tus.ts';
import type { EvidenceSender } from './Forwarder.ts';

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
    const r = await uploadWithTus({
      baseUrl: client.base,
      token,
      kind: endpoint.partName,
      fileName: file.name,
      size: file.size,
      open: (start) => ctx.blobs.read(file.blob, { start }),
      dispatcher: client.dispatcher,
      checksum: 'sm3',
      contentType: file.contentType,
      ...(known ? { uploadUrl: known } : {}),
    });
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
