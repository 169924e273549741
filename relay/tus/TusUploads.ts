// The life of a resumable upload, apart from HTTP: create (the file name, the account's right to
// its mine and what the account already holds checked before a byte is sent), append chunks
// (written, fsynced, then the offset committed; none above the disk's high-water mark), complete
// (the shared evidence steps: stage, MP4 check, commit, queue item), expire and terminate. Every
// call is checked against the upload's owner before anything else, its lock included. tusRoutes
// maps it onto tus 1.0.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BodyTooLarge, endpointById, type EvidenceEndpoint } from '../../src/contract/index.ts';
import { EsealError } from '../../src/errors.ts';
import type { FastifyBaseLogger } from 'fastify';
import { errnoOf } from '../../src/store/errors.ts';
import type { RelayContext } from '../RelayContext.ts';
import type { Account } from '../auth/AccountStore.ts';
import { Internal, TusChecksum, TusExpired, TusHeader, TusLimit, TusNotFound, TusOffset, UploadAborted, UploadBusy } from '../errors.ts';
import { completeEvidence, ensureDiskRoom, prepareEvidence, stageEvidence } from '../ingest/evidence.ts';
import { UploadQuota, type OverQuota } from './UploadQuota.ts';
import { BodyStopped, bodyPieces, type BodyPieces } from './bodyPieces.ts';
import { UploadLocks, type Release } from './UploadLocks.ts';
import { TusStore, type TusUpload } from './TusStore.ts';
import {
  DEFAULT_VIDEO_TYPE,
  KIND_NAMES,
  TUS_PATH,
  createChecksumHash,
  evidenceEndpointOfKind,
  type UploadChecksum,
} from '../../src/contract/tus.ts';

export interface TusOptions {
  /** an upload still incomplete this long after its creation expires (default 24 h) */
  expireAfterMs?: number;
  /** how often expired uploads are swept (default 10 min; also once at start) */
  sweepIntervalMs?: number;
  /** PATCH requests received at once, all accounts together (default relay.limits.maxConcurrentUploads) */
  maxPatches?: number;
  /** PATCH requests received at once per account (default relay.limits.resumable.maxChunksPerAccount) */
  maxPatchesPerAccount?: number;
}

export const DEFAULT_EXPIRE_AFTER_MS = 24 * 3600_000;
export const DEFAULT_SWEEP_INTERVAL_MS = 10 * 60_000;

/** Who is asking, for the queue item and the log. */
export interface CallMeta {
  requestId: string;
  from: string;
  log: FastifyBaseLogger;
}

export interface CreateInput {
  length: number | undefined;
  deferLength: boolean;
  metadata: Map<string, string>;
}

export interface AppendInput {
  /** Upload-Offset of the request */
  offset: number;
  /** Content-Length, when the request has one */
  declaredLength: number | undefined;
  checksum: UploadChecksum | undefined;
  body: IncomingMessage;
}

export class TusUploads {
  readonly #ctx: RelayContext;
  readonly #store: TusStore;
  readonly #locks = new UploadLocks();
  readonly #expireAfterMs: number;
  readonly #sweepIntervalMs: number;
  readonly #maxPatches: number;
  readonly #maxPatchesPerAccount: number;
  /** what the open uploads hold, per account and in all */
  readonly #quota: UploadQuota;
  /** ids whose file exists and whose record is being written (the orphan sweep leaves them) */
  readonly #creating = new Set<string>();
  /** everything under way (requests, sweeps, recoveries), awaited by close() */
  readonly #work = new Set<Promise<unknown>>();
  #patches = 0;
  readonly #patchesByAccount = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping = false;

  constructor(ctx: RelayContext, store: TusStore, options: TusOptions = {}) {
    const limit = ctx.config.relay.limits.maxConcurrentUploads;
    this.#ctx = ctx;
    this.#store = store;
    this.#expireAfterMs = options.expireAfterMs ?? DEFAULT_EXPIRE_AFTER_MS;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    this.#maxPatches = options.maxPatches ?? limit;
    this.#maxPatchesPerAccount = options.maxPatchesPerAccount ?? ctx.config.relay.limits.resumable.maxChunksPerAccount;
    this.#quota = new UploadQuota(ctx.config.relay.limits.resumable);
    for (const upload of store.all()) if (upload.state === 'receiving') this.#quota.hold(upload.id, upload.account, upload.length);
  }

  get maxBytes(): number {
    return this.#ctx.config.relay.limits.videoMaxBytes;
  }

  /** Sweeps once now (finishing uploads a restart interrupted in completion) and then periodically. */
  start(): void {
    this.#runSweep();
    this.#timer = setInterval(() => this.#runSweep(), this.#sweepIntervalMs);
    this.#timer.unref();
  }

  /** Stops the sweeper and waits for what is under way. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#work.size > 0) await Promise.allSettled([...this.#work]);
  }

  /** One PATCH slot of the account, or UploadBusy; call the result when the PATCH is over. */
  takePatchSlot(account: Account): () => void {
    const mine = this.#patchesByAccount.get(account.username) ?? 0;
    if (this.#patches >= this.#maxPatches || mine >= this.#maxPatchesPerAccount) {
      const who =
        this.#patches >= this.#maxPatches
          ? `${this.#patches} resumable-upload chunks are being received (the limit)`
          : `account ${account.username} is sending ${mine} chunks at once (the limit)`;
      throw UploadBusy(`relay busy: ${who}; retry in 5 s (HEAD the upload first; nothing of this chunk was stored)`);
    }
    this.#patches++;
    this.#patchesByAccount.set(account.username, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#patches--;
      const left = (this.#patchesByAccount.get(account.username) ?? 1) - 1;
      if (left > 0) this.#patchesByAccount.set(account.username, left);
      else this.#patchesByAccount.delete(account.username);
    };
  }

  async create(account: Account, input: CreateInput, meta: CallMeta): Promise<TusUpload> {
    return this.#track(this.#create(account, input, meta));
  }

  /** The upload as HEAD reports it; an upload whose bytes all came is completed first. */
  async status(id: string, account: Account, meta: CallMeta): Promise<TusUpload> {
    this.#ownedRecord(id, account);
    return this.#track(this.#locked(id, async () => this.#owned(id, account, meta, true)));
  }

  /** A PATCH: appends the body at the upload's offset; completes the upload with its last byte. */
  async append(id: string, account: Account, input: AppendInput, meta: CallMeta): Promise<TusUpload> {
    this.#ownedRecord(id, account);
    // A newer request for this upload stops a PATCH still reading: its client has moved on, and
    // its connection may be dead without the relay knowing yet. (The body is only taken over once
    // it is read: an unread body must stay as Node left it, to be drained after a refusal.)
    let body: BodyPieces | undefined;
    let stopped = false;
    const readBody = () => {
      body = bodyPieces(input.body);
      if (stopped) body.stop();
      return body.pieces;
    };
    return this.#track(
      this.#locked(
        id,
        async () => {
          const upload = await this.#owned(id, account, meta, false);
          if (upload.state === 'done') {
            if (input.offset !== upload.length) throw offsetMismatch(upload, input.offset);
            if ((input.declaredLength ?? 0) > 0) throw overflow(upload);
            return upload;
          }
          // no bytes are taken above the high-water mark; what the upload holds stays for later
          ensureDiskRoom(this.#ctx, `nothing of this chunk was stored; the upload keeps its ${upload.offset} bytes: HEAD and resume it`);
          if (input.offset !== upload.offset) throw offsetMismatch(upload, input.offset);
          if (input.declaredLength !== undefined && input.declaredLength > upload.length - upload.offset) throw overflow(upload);
          return this.#appendBody(upload, input, readBody(), meta);
        },
        () => {
          stopped = true;
          body?.stop();
        },
      ),
    );
  }

  /** DELETE: the record and any bytes go; a completed upload's evidence item stays queued. */
  async terminate(id: string, account: Account): Promise<void> {
    this.#ownedRecord(id, account);
    return this.#track(
      this.#locked(id, async () => {
        await this.#remove(this.#ownedRecord(id, account));
      }),
    );
  }

  /** Expires what is past its time, drops old records, finishes completions a restart cut off. */
  async sweep(now = Date.now()): Promise<void> {
    for (const seen of this.#store.all()) {
      if (this.#locks.isHeld(seen.id)) continue;
      await this.#locked(seen.id, async () => {
        const upload = this.#store.get(seen.id);
        if (!upload) return;
        if (upload.state === 'receiving') {
          if (upload.offset === upload.length) {
            const meta = { requestId: upload.requestId, from: upload.from, log: this.#ctx.log };
            await this.#complete(upload, meta).catch((err: unknown) => {
              this.#ctx.log.warn({ err, upload: upload.id, file: upload.fileName }, 'resumable upload: completing it after a restart failed');
            });
          } else if (upload.expiresAt <= now) {
            await this.#expire(upload, now);
          }
        } else if ((upload.keepUntil ?? 0) <= now) {
          await this.#remove(upload);
        }
      });
    }
    const orphans = await this.#store.removeOrphans(this.#creating);
    if (orphans > 0) this.#ctx.log.info({ orphans }, 'resumable uploads: removed data files without a record');
  }

  #runSweep(): void {
    if (this.#sweeping) return;
    this.#sweeping = true;
    void this.#track(this.sweep())
      .catch((err: unknown) => this.#ctx.log.warn({ err }, 'resumable uploads: sweep failed'))
      .finally(() => (this.#sweeping = false));
  }

  async #create(account: Account, input: CreateInput, meta: CallMeta): Promise<TusUpload> {
    const { length, metadata } = input;
    if (length === undefined) {
      throw TusHeader(
        input.deferLength
          ? 'Upload-Length: required; Upload-Defer-Length is not supported (the relay checks the size limit before a byte is sent)'
          : 'Upload-Length: required: the size of the video in bytes',
        { field: 'Upload-Length' },
      );
    }
    if (length > this.maxBytes) {
      throw BodyTooLarge(`Upload-Length: ${length} bytes is larger than ${this.maxBytes} bytes (10 MiB, the national platform's limit)`, {
        field: 'Upload-Length',
      });
    }
    if (length === 0) throw TusHeader('Upload-Length: must be at least 1; an empty file is not a video', { field: 'Upload-Length' });
    const kind = metadata.get('kind');
    if (!kind) {
      throw TusHeader(`Upload-Metadata kind: required: the evidence part name, one of ${KIND_NAMES.join(', ')}`, { field: 'Upload-Metadata kind' });
    }
    const endpoint = evidenceEndpointOfKind(kind);
    if (!endpoint) {
      throw TusHeader(`Upload-Metadata kind: ${JSON.stringify(kind.slice(0, 60))} is not an evidence upload; one of ${KIND_NAMES.join(', ')}`, {
        field: 'Upload-Metadata kind',
      });
    }
    const fileName = metadata.get('filename');
    if (!fileName) {
      throw TusHeader(`Upload-Metadata filename: required: the guide's file name of the video (table 5-25), e.g. what ${endpoint.partName} would carry`, {
        field: 'Upload-Metadata filename',
      });
    }
    const contentType = metadata.get('filetype') || DEFAULT_VIDEO_TYPE;
    const now = Date.now();
    // The same rules as a multipart upload, before a byte of the video is sent.
    prepareEvidence(this.#ctx, endpoint, account, fileName, contentType, now);
    const over = this.#quota.check(account.username, length);
    if (over) throw overQuota(over, account, length);
    const upload: TusUpload = {
      v: 1,
      id: randomBytes(16).toString('hex'),
      account: account.username,
      endpoint: endpoint.id,
      fileName,
      contentType,
      length,
      offset: 0,
      createdAt: now,
      expiresAt: now + this.#expireAfterMs,
      requestId: meta.requestId,
      from: meta.from,
      state: 'receiving',
    };
    this.#creating.add(upload.id);
    this.#quota.hold(upload.id, upload.account, upload.length);
    try {
      await this.#store.create(upload);
    } catch (err) {
      this.#quota.release(upload.id);
      throw err;
    } finally {
      this.#creating.delete(upload.id);
    }
    meta.log.info({ upload: upload.id, endpoint: endpoint.id, file: fileName, length }, 'resumable upload created');
    return upload;
  }

  /**
   * The account's upload, live: 404 for none (or another account's), 410 once expired. One whose
   * bytes all came but whose completion did not finish (a restart, a full disk) is completed now,
   * so that an offset equal to the length always means the evidence item is committed.
   */
  async #owned(id: string, account: Account, meta: CallMeta, forHead: boolean): Promise<TusUpload> {
    const upload = this.#ownedRecord(id, account);
    if (upload.state === 'expired') throw expired(upload);
    if (upload.state !== 'receiving') return upload;
    if (upload.offset === upload.length) {
      try {
        return await this.#complete(upload, meta);
      } catch (err) {
        // HEAD has no body to carry the refusal; the upload is gone, and a new one gets the
        // refusal with its envelope when its last chunk arrives.
        if (forHead && isRefusal(err)) throw TusNotFound(`${TUS_PATH}${id}: refused when it was completed (${(err as EsealError).message}); it was removed`, { cause: err });
        throw err;
      }
    }
    if (upload.expiresAt <= Date.now()) {
      await this.#expire(upload, Date.now());
      throw expired(upload);
    }
    return upload;
  }

  async #appendBody(upload: TusUpload, input: AppendInput, pieces: AsyncIterable<Buffer>, meta: CallMeta): Promise<TusUpload> {
    const room = upload.length - upload.offset;
    const hash = input.checksum ? createChecksumHash(input.checksum.algorithm) : undefined;
    let result;
    try {
      result = await this.#store.append(upload, pieces, { maxBytes: room, ...(hash ? { hash } : {}) });
    } catch (err) {
      if (errnoOf((err as Error).cause) === 'ENOENT') {
        await this.#remove(upload);
        throw TusNotFound(`${TUS_PATH}${upload.id}: its data file is missing (removed by hand?); start a new upload`, { cause: err });
      }
      throw err;
    }
    // a PATCH that was taken over: its connection goes (no answer can reach its client anyway)
    if (result.error instanceof BodyStopped) input.body.destroy();
    const whole = result.ended && input.body.complete;
    if (result.overflow) {
      await this.#store.truncate(upload);
      throw overflow(upload);
    }
    if (input.checksum) {
      // A chunk that broke off cannot be checked against its checksum: none of it is kept.
      if (!whole) {
        await this.#store.truncate(upload);
        throw UploadAborted(`body: the chunk broke off after ${result.written} bytes; with Upload-Checksum none of it is kept; resume at ${upload.offset}`, {
          field: 'body',
          cause: result.error,
        });
      }
      if (!hash!.digest().equals(input.checksum.digest)) {
        await this.#store.truncate(upload);
        throw TusChecksum(`Upload-Checksum: the ${result.written} bytes received do not match the ${input.checksum.algorithm} checksum; the chunk was discarded, send it again from offset ${upload.offset}`, {
          field: 'Upload-Checksum',
          detail: { offset: upload.offset },
        });
      }
    }
    let current = upload;
    if (result.written > 0) {
      current = { ...upload, offset: upload.offset + result.written };
      await this.#store.save(current);
    }
    if (!whole) {
      // Nobody hears this answer (the connection is gone); the bytes that fully arrived are kept.
      throw UploadAborted(`body: the connection broke after ${result.written} bytes of the chunk; they are kept; HEAD shows offset ${current.offset}`, {
        field: 'body',
        cause: result.error,
      });
    }
    if (current.offset === current.length) return this.#complete(current, meta);
    return current;
  }

  /**
   * The shared evidence steps over the received file. Refused (not an H.264 MP4, the mine no longer
   * the account's): the upload is removed and the refusal thrown. A fault (disk, worker): the upload
   * stays as it is for a later HEAD or PATCH to complete.
   */
  async #complete(upload: TusUpload, meta: CallMeta): Promise<TusUpload> {
    const endpoint = endpointById(upload.endpoint) as EvidenceEndpoint | undefined;
    const account = this.#ctx.accounts.get(upload.account);
    try {
      if (!endpoint || endpoint.kind !== 'evidence') throw Internal(`resumable upload ${upload.id}: unknown endpoint ${upload.endpoint}`);
      if (!account) throw TusNotFound(`${TUS_PATH}${upload.id}: account ${upload.account} no longer exists`);
      const prepared = prepareEvidence(this.#ctx, endpoint, account, upload.fileName, upload.contentType, upload.createdAt);
      const staged = await stageEvidence(this.#ctx, endpoint, this.#store.read(upload));
      if (staged.size !== upload.length) {
        await staged.discard().catch(() => {});
        throw Internal(`resumable upload ${upload.id}: ${staged.size} bytes on disk where ${upload.length} were committed`);
      }
      const accepted = await completeEvidence(this.#ctx, prepared, staged, { requestId: meta.requestId, from: meta.from });
      meta.log.info(
        { endpoint: endpoint.id, seq: accepted.seq, duplicate: accepted.duplicate, file: upload.fileName, flags: prepared.flags, upload: upload.id },
        'evidence accepted',
      );
    } catch (err) {
      if (isRefusal(err) || Internal.is(err)) {
        await this.#remove(upload);
        meta.log.info({ upload: upload.id, file: upload.fileName, code: (err as EsealError).code }, 'resumable upload refused at completion; removed');
      }
      throw err;
    }
    return this.#retire(upload, 'done', Date.now() + this.#expireAfterMs);
  }

  async #expire(upload: TusUpload, now: number): Promise<void> {
    await this.#retire(upload, 'expired', now + this.#expireAfterMs);
    this.#ctx.log.info({ upload: upload.id, file: upload.fileName, offset: upload.offset, length: upload.length }, 'resumable upload expired incomplete');
  }

  /**
   * The record of the account's upload, or 404 for none or another account's: checked before the
   * upload's lock is asked for, so that another account can neither stop nor delay its owner.
   */
  #ownedRecord(id: string, account: Account): TusUpload {
    const upload = this.#store.get(id);
    if (!upload || upload.account !== account.username) throw notFound(id, account);
    return upload;
  }

  // (the record goes or changes first, the bytes after: the upload stops counting either way)
  async #remove(upload: TusUpload): Promise<void> {
    try {
      await this.#store.remove(upload);
    } finally {
      this.#quota.release(upload.id);
    }
  }

  async #retire(upload: TusUpload, state: 'done' | 'expired', keepUntil: number): Promise<TusUpload> {
    try {
      return await this.#store.retire(upload, state, keepUntil);
    } finally {
      this.#quota.release(upload.id);
    }
  }

  async #locked<T>(id: string, fn: () => Promise<T>, stop?: () => void): Promise<T> {
    const release: Release = await this.#locks.acquire(id, stop);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#work.add(work);
    const forget = () => this.#work.delete(work);
    work.then(forget, forget);
    return work;
  }
}

function isRefusal(err: unknown): err is EsealError {
  return err instanceof EsealError && err.statusCode < 500;
}

function notFound(id: string, account: Account): EsealError {
  return TusNotFound(`${TUS_PATH}${id}: no such upload of account ${account.username} (never made, deleted, or completed and forgotten)`);
}

function expired(upload: TusUpload): EsealError {
  return TusExpired(`${TUS_PATH}${upload.id}: expired on ${new Date(upload.expiresAt).toISOString()} with ${upload.offset} of ${upload.length} bytes; start a new upload`);
}

function overQuota(over: OverQuota, account: Account, length: number): EsealError {
  const key = `relay.limits.resumable.max${over.what === 'open' ? 'Open' : 'ReservedBytes'}${over.scope === 'account' ? 'PerAccount' : ''}`;
  const holds =
    over.what === 'open'
      ? `${over.held.open} open resumable uploads`
      : `${over.held.bytes} bytes in open resumable uploads, and ${length} more would pass the limit of ${over.limit}`;
  if (over.scope === 'all') {
    return UploadBusy(`relay busy: all accounts together hold ${holds}${over.what === 'open' ? ' (the limit)' : ''} (${key}); retry later (nothing was created)`);
  }
  return TusLimit(
    `Upload-Length: account ${account.username} holds ${holds}${over.what === 'open' ? ' (the limit)' : ''} (${key}); finish or DELETE one of them (or wait until one expires, 24 h after its creation), then retry`,
    { field: 'Upload-Length' },
  );
}

function offsetMismatch(upload: TusUpload, claimed: number): EsealError {
  const at = upload.state === 'done' ? upload.length : upload.offset;
  return TusOffset(`Upload-Offset: ${claimed}, but the relay holds ${at} bytes of this upload; HEAD it and resume from there`, {
    field: 'Upload-Offset',
    detail: { offset: at },
  });
}

function overflow(upload: TusUpload): EsealError {
  const room = upload.state === 'done' ? 0 : upload.length - upload.offset;
  return BodyTooLarge(`body: more than the ${room} bytes left of this upload (Upload-Length ${upload.length}); nothing of the chunk was kept`, {
    field: 'body',
  });
}
