// Sends what the outbox holds, as a mine device would: SM2 login (token reused while valid, one
// re-login when it is refused), records as JSON, clips by tus when the server is an eseal relay
// (resuming at the byte offset the relay holds, across restarts: the upload URL is in the outbox
// entry before the first byte goes) and as multipart uploads otherwise (the national platform).
//
// What an answer means is decided by src/client/outcome.ts, as in the relay's forwarder:
//   delivered  entry and clip deleted
//   reject     a definite refusal (a 4xx with a code other than 0, after a fresh login): dead letter
//              with the reason; the rest goes on
//   retry      backoff with jitter; when the network or the server is at fault (refused
//              connection, 5xx, 429) every worker pauses, so a dead link is not hammered and the
//              order of the outbox is kept
//   corrupt    the clip on disk is not what was staged (checked against its SM3 address as it
//              streams, src/store/verifiedRead.ts; the upload is cut off before its last piece): dead letter
//              marked ESEAL_ERR_STORE_CORRUPT, logged at error level, counted; the rest goes on
// A refused login pauses sending (backoff up to maxSeconds) and is logged at error level; the
// password is never logged.
//
// With more than one worker, worker 0 takes only status calls and records, so they never wait
// behind clips (the guide gives records 30 s and clips 300 s).
import type { EsealError } from '../../src/errors.ts';
import { checkedBlob, type CheckedBlob } from '../../src/store/verifiedRead.ts';
import type { Logger } from '../../src/log.ts';
import type { ApiAnswer } from '../../src/client/NationalClient.ts';
import { uploadWithTus } from '../../src/client/TusClient.ts';
import { TusClientGaveUp, UpstreamHttpError, UpstreamLoginRefused } from '../../src/client/errors.ts';
import {
  backoffMs,
  DEFAULT_RETRY_LISTS,
  outcomeAfterRelogin,
  outcomeOfAnswer,
  outcomeOfError,
  type Outcome,
  type RetryLists,
} from '../../src/client/outcome.ts';
import { checkEvidenceFileName, readEnvelope, type Lane } from '../../src/contract/index.ts';
import { createTusUpload } from './createTusUpload.ts';
import type { Outbox } from './Outbox.ts';
import type { EvidenceEntry, OutboxEntry, OutboxStats } from './OutboxTypes.ts';
import { ReportSession, type ReportTarget } from './ReportSession.ts';

export interface UploaderOptions extends ReportTarget {
  outbox: Outbox;
  /** sends at once (default 2) */
  concurrency?: number;
  retry: {
    /** first backoff; doubles per failure, with jitter, up to maxSeconds */
    baseSeconds: number;
    maxSeconds: number;
    /** HTTP statuses worth a retry (default: DEFAULT_RETRY_LISTS.statuses, as the relay's forwarder) */
    statuses?: readonly number[];
    /** network error codes worth a retry (default: DEFAULT_RETRY_LISTS.errors) */
    errors?: readonly string[];
  };
  tus?: {
    /** 'auto' (default) asks the server once per login; 'never' always sends multipart */
    mode?: 'auto' | 'never';
    /** bytes per PATCH (default 2 MiB) */
    chunkBytes?: number;
  };
  /** how long close() lets sends under way finish before cutting them off (default 10) */
  drainSeconds?: number;
  log: Logger;
}

export interface InFlightSend {
  id: string;
  endpoint: string;
  fileName?: string;
  /** bytes the relay holds (tus uploads) */
  offset?: number;
  /** the offset a resumed tus upload started from */
  resumedFrom?: number;
}

export interface UploaderStats {
  delivered: number;
  deadLettered: number;
  /** failed attempts that will be retried */
  retried: number;
  /** clips found not to be what was staged and set aside (ESEAL_ERR_STORE_CORRUPT), since start */
  corrupt: number;
  logins: number;
  /** sending is paused until then (ms since epoch; 0 = not paused) */
  pausedUntil: number;
  lastError?: string;
  inFlight: InFlightSend[];
  outbox: OutboxStats;
}

const IDLE_POLL_MS = 5_000;
/** tus retries inside one attempt; beyond them the outbox's backoff takes over (with the URL kept) */
const TUS_RETRIES = 2;
const FIRST_LANES: readonly Lane[] = ['status', 'record'];

/** What becomes of an entry after an attempt: an answer's outcome, or a clip that failed its check. */
type Verdict = Outcome | { kind: 'corrupt'; error: EsealError };

/** The mine and camera a clip's name gives (table 5-25), for the log. */
function cameraOf(entry: EvidenceEntry): { mineId?: string; cameraId?: string } {
  try {
    const { mineId, cameraId } = checkEvidenceFileName(entry.endpoint, entry.fileName, { now: Date.now(), maxSkewMs: Infinity }).value;
    return { mineId, cameraId };
  } catch {
    return {};
  }
}

/** An upload is kept as its path: resumed against the configured URL, which may change (a new address, a proxy). */
function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

export class Uploader {
  readonly session: ReportSession;
  readonly #outbox: Outbox;
  readonly #log: Logger;
  readonly #concurrency: number;
  readonly #retry: { baseSeconds: number; maxSeconds: number };
  readonly #lists: RetryLists;
  readonly #tusMode: 'auto' | 'never';
  readonly #chunkBytes: number | undefined;
  readonly #drainMs: number;
  readonly #abort = new AbortController();
  readonly #inFlight = new Map<string, InFlightSend>();
  readonly #sleepers = new Set<() => void>();
  #workers: Promise<void>[] = [];
  #stopping = false;
  #closing: Promise<void> | undefined;
  #pausedUntil = 0;
  /** transport failures in a row (network, 5xx, refused login): the pause grows with them */
  #failStreak = 0;
  #delivered = 0;
  #deadLettered = 0;
  #retried = 0;
  #corrupt = 0;
  #lastError: string | undefined;

  constructor(options: UploaderOptions) {
    this.#outbox = options.outbox;
    this.#log = options.log.child({ part: 'upload' });
    const { outbox: _o, concurrency: _c, retry: _r, tus: _t, drainSeconds: _d, log: _l, ...target } = options;
    this.session = new ReportSession({ ...target, log: this.#log });
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 2));
    this.#retry = { baseSeconds: options.retry.baseSeconds, maxSeconds: options.retry.maxSeconds };
    this.#lists = {
      statuses: options.retry.statuses ?? DEFAULT_RETRY_LISTS.statuses,
      errors: options.retry.errors ?? DEFAULT_RETRY_LISTS.errors,
    };
    this.#tusMode = options.tus?.mode ?? 'auto';
    this.#chunkBytes = options.tus?.chunkBytes;
    this.#drainMs = (options.drainSeconds ?? 10) * 1000;
  }

  start(): void {
    if (this.#workers.length > 0 || this.#stopping) return;
    for (let i = 0; i < this.#concurrency; i++) {
      const lanes = i === 0 && this.#concurrency > 1 ? FIRST_LANES : undefined;
      this.#workers.push(this.#work(lanes));
    }
  }

  /** Something was added to the outbox: look now instead of at the next poll. */
  kick(): void {
    for (const wake of [...this.#sleepers]) wake();
  }

  stats(): UploaderStats {
    return {
      delivered: this.#delivered,
      deadLettered: this.#deadLettered,
      retried: this.#retried,
      corrupt: this.#corrupt,
      logins: this.session.logins,
      pausedUntil: this.#pausedUntil > Date.now() ? this.#pausedUntil : 0,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
      inFlight: [...this.#inFlight.values()].map((s) => ({ ...s })),
      outbox: this.#outbox.stats(),
    };
  }

  /**
   * Stops taking entries, lets the sends under way finish for up to drainSeconds, then cuts the
   * rest off (their entries stay in the outbox; a tus upload resumes at its offset next time).
   * Leaves the outbox open: it is the caller's.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopping = true;
      this.kick();
      const drained = Promise.all(this.#workers);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.#drainMs)));
      if ((await Promise.race([drained, late])) === 'late') {
        this.#log.info({ inFlight: [...this.#inFlight.keys()] }, 'closing: cutting off the sends still under way');
        this.#abort.abort(new Error('the uploader is closing'));
        await this.session.client.dispatcher.destroy().catch(() => undefined);
        await drained;
      }
      clearTimeout(timer);
      await this.session.close().catch(() => undefined);
    })();
    return this.#closing;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#sleepers.add(done);
    });
  }

  async #work(lanes: readonly Lane[] | undefined): Promise<void> {
    while (!this.#stopping) {
      const now = Date.now();
      if (this.#pausedUntil > now) {
        await this.#sleep(this.#pausedUntil - now);
        continue;
      }
      let entry: OutboxEntry | undefined;
      try {
        entry = this.#outbox.next({ now, ...(lanes ? { lanes } : {}) });
      } catch (err) {
        // the outbox was closed under us: nothing more to do
        this.#log.warn({ err: (err as Error).message }, 'the outbox cannot be read: the uploader stops');
        return;
      }
      if (!entry) {
        const due = this.#outbox.nextDueAt(lanes);
        await this.#sleep(due === undefined ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, due - now));
        continue;
      }
      await this.#deliver(entry);
    }
  }

  async #deliver(entry: OutboxEntry): Promise<void> {
    const send: InFlightSend = { id: entry.id, endpoint: entry.endpoint.id, ...(entry.kind === 'evidence' ? { fileName: entry.fileName } : {}) };
    this.#inFlight.set(entry.id, send);
    // read for every attempt of this hand-out through one check, so a resumed upload is checked whole
    const clip = entry.kind === 'evidence' ? checkedBlob(this.#outbox.blobs, entry.blob, entry.bytes) : undefined;
    let outcome: Verdict;
    try {
      const { answer, relogged } = await this.session.withToken((token) => this.#send(entry, token, send, clip));
      outcome = relogged ? outcomeAfterRelogin(answer, this.#lists) : outcomeOfAnswer(answer, this.#lists);
    } catch (err) {
      if (this.#abort.signal.aborted && !clip?.failure) {
        this.#inFlight.delete(entry.id);
        this.#outbox.release(entry.id);
        return;
      }
      outcome = this.#outcomeOfError(err);
    }
    // whatever the upstream answered or the request failed with: the clip was not what was staged
    if (clip?.failure) outcome = { kind: 'corrupt', error: clip.failure };
    this.#inFlight.delete(entry.id);
    try {
      await this.#settle(entry, outcome);
    } catch (err) {
      // the outbox failed (closed, disk): the entry is still there and goes again later
      this.#log.error({ id: entry.id, err: (err as Error).message }, 'cannot record the outcome of a send in the outbox');
      try {
        this.#outbox.release(entry.id);
      } catch {
        // closed
      }
    }
  }

  #outcomeOfError(err: unknown): Outcome {
    const reason = `${(err as { code?: string }).code ?? 'error'}: ${(err as Error)?.message ?? String(err)}`;
    // a refused login, a login or GET /sm2 answered with another error status, a resumable upload
    // whose retries ran out: the link, the server or the settings are at fault, not the entry
    if (UpstreamLoginRefused.is(err) || UpstreamHttpError.is(err) || TusClientGaveUp.is(err)) {
      return { kind: 'retry', reason, transport: true };
    }
    return outcomeOfError(err, this.#lists);
  }

  async #settle(entry: OutboxEntry, outcome: Verdict): Promise<void> {
    const what = { id: entry.id, endpoint: entry.endpoint.id, ...(entry.kind === 'evidence' ? { fileName: entry.fileName } : {}) };
    switch (outcome.kind) {
      case 'corrupt': {
        await this.#outbox.markCorrupt(entry.id, outcome.error);
        this.#corrupt++;
        const clip = entry as EvidenceEntry;
        this.#log.error(
          { ...what, ...cameraOf(clip), blob: clip.blob, path: outcome.error.detail?.['path'] ?? clip.path, code: outcome.error.code, reason: outcome.error.message },
          'a clip in the outbox is not what the edge recorded: not sent, set aside as a dead letter (corrupt); run eseal edge verify',
        );
        return;
      }
      case 'delivered':
        await this.#outbox.markDelivered(entry.id);
        this.#delivered++;
        this.#failStreak = 0;
        this.#log.debug(what, 'delivered');
        return;
      case 'reject':
        await this.#outbox.deadLetter(entry.id, outcome.reason);
        this.#deadLettered++;
        this.#failStreak = 0;
        this.#log.warn({ ...what, reason: outcome.reason }, 'refused for good: kept as a dead letter');
        return;
      case 'auth':
      case 'retry': {
        const now = Date.now();
        const transport = outcome.kind === 'retry' && outcome.transport;
        let retryAt: number;
        if (transport) {
          this.#failStreak++;
          const pause = backoffMs(this.#failStreak, this.#retry.baseSeconds, this.#retry.maxSeconds);
          this.#pausedUntil = Math.max(this.#pausedUntil, now + pause);
          // due when the pause ends: the outbox's order is kept
          retryAt = this.#pausedUntil;
          if (this.#failStreak === 1 || this.#failStreak % 20 === 0) {
            this.#log.warn({ url: this.session.client.base, reason: outcome.reason, failures: this.#failStreak, pauseMs: pause }, 'cannot send: pausing');
          }
        } else {
          retryAt = now + backoffMs(entry.attempts + 1, this.#retry.baseSeconds, this.#retry.maxSeconds);
          this.#log.info({ ...what, reason: outcome.reason, attempts: entry.attempts + 1 }, 'send failed: will retry');
        }
        this.#retried++;
        this.#lastError = outcome.reason;
        await this.#outbox.markFailed(entry.id, outcome.reason, retryAt);
        return;
      }
    }
  }

  async #send(entry: OutboxEntry, token: string, send: InFlightSend, clip: CheckedBlob | undefined): Promise<ApiAnswer> {
    const client = this.session.client;
    if (entry.kind === 'record') return client.sendRecord(entry.endpoint, entry.body, token);
    if (this.#tusMode === 'auto' && (await this.session.speaksTus(token))) return this.#viaTus(entry, token, send, clip!);
    return client.sendEvidence(entry.endpoint, entry.fileName, entry.bytes, clip!.openLast(0), token);
  }

  async #viaTus(entry: EvidenceEntry, token: string, send: InFlightSend, clip: CheckedBlob): Promise<ApiAnswer> {
    const client = this.session.client;
    const signal = this.#abort.signal;
    // the latest URL: an earlier attempt of this run may have made one after next() read the entry
    const latest = this.#outbox.get(entry.id);
    let uploadUrl = latest?.kind === 'evidence' ? latest.uploadUrl : entry.uploadUrl;
    const resuming = uploadUrl !== undefined;
    if (!uploadUrl) {
      const created = await createTusUpload({
        baseUrl: client.base,
        token,
        kind: entry.endpoint.partName,
        fileName: entry.fileName,
        size: entry.bytes,
        dispatcher: client.dispatcher,
        signal,
      });
      if ('answer' in created) return created.answer;
      uploadUrl = pathOf(created.uploadUrl);
      await this.#outbox.setUploadUrl(entry.id, uploadUrl);
    }
    let first = true;
    try {
      const r = await uploadWithTus({
        baseUrl: client.base,
        token,
        kind: entry.endpoint.partName,
        fileName: entry.fileName,
        size: entry.bytes,
        open: (start) => clip.open(start),
        openLast: (start) => clip.openLast(start),
        dispatcher: client.dispatcher,
        checksum: 'sm3',
        uploadUrl,
        retries: TUS_RETRIES,
        signal,
        ...(this.#chunkBytes ? { chunkBytes: this.#chunkBytes } : {}),
        onProgress: (offset) => {
          if (first && resuming) {
            send.resumedFrom = offset;
            this.#log.info({ id: entry.id, fileName: entry.fileName, offset, size: entry.bytes }, 'resuming the clip at the offset the server holds');
          }
          first = false;
          send.offset = offset;
        },
      });
      if (!r.completed && r.uploadUrl && r.uploadUrl !== uploadUrl) await this.#outbox.setUploadUrl(entry.id, pathOf(r.uploadUrl));
      // the upload is finished either way (taken or refused): a later attempt starts a fresh one
      if (r.completed || r.uploadUrl === '') await this.#outbox.setUploadUrl(entry.id, undefined).catch(() => undefined);
      return { status: r.completed ? 200 : r.status, envelope: readEnvelope(r.answer), text: JSON.stringify(r.answer ?? null) };
    } catch (err) {
      // retries ran out after the upload was made anew (the old one was gone): keep the new one
      const url = TusClientGaveUp.is(err) ? err.detail?.['uploadUrl'] : undefined;
      if (typeof url === 'string' && url !== uploadUrl) await this.#outbox.setUploadUrl(entry.id, pathOf(url)).catch(() => undefined);
      throw err;
    }
  }
}
