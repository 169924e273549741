// Keeps the edge's detector model up to date from the relay's registry (relay/models/): polls the
// signed manifest, and when the wanted model's entry changed, downloads its file, checks size and
// SM3 against the manifest (whose signature the configured province key must verify), installs it
// by an atomic rename and emits 'model' for the pipeline to hot-swap. The wanted model is the one the
// manifest's bindings give this edge (device, then account, then mine), else edge.models.name. Anything wrong (unsigned,
// another key, tampered, truncated, unreachable) emits 'refused' and keeps the model in use.
//   <dir>/<sm3>.onnx         installed models: the current one and the one before it
//   <dir>/installed.json     what is installed and the newest manifest time seen (survives restarts)
//   <dir>/.download-*.tmp    a download in progress
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request, type Dispatcher } from 'undici';
import { readCapped, relayAgent } from '../relayHttp.ts';
import { createSm3 } from '../../src/crypto/sm3.ts';
import { EsealError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import { ManifestMalformed } from '../../src/models/errors.ts';
import { MODEL_PATHS, bindingFor, canonicalJson, modelFileName, verifyManifest, type BindingSubject, type ModelEntry } from '../../src/models/manifest.ts';
import { errnoOf } from '../../src/store/errors.ts';
import { fsyncDir, writeFileDurable } from '../../src/store/fsync.ts';
import { ModelDownload, ModelHash, ModelReplay, ModelSize } from './updaterErrors.ts';

export const STATE_FILE = 'installed.json';
const MANIFEST_MAX_BYTES = 1024 * 1024;

export interface ModelUpdaterOptions {
  /** the relay, e.g. https://relay.example:8443 */
  baseUrl: string;
  /** the edge's relay token; called with `stale` true once after the relay refused the last one */
  getToken: (stale?: boolean) => Promise<string>;
  /** the province's model-signing key (`eseal models key`), any form parsePublicKey takes */
  trustedPublicKey: string;
  /** where models are kept: the edge data dir's models/ */
  dir: string;
  /** the model name to follow (edge.models.name) when no binding of the manifest names this edge */
  wanted: string;
  /** who this edge is, for the manifest's bindings (edge.deviceId, edge.report.username, edge.mineId) */
  identity?: BindingSubject;
  /** default 300 */
  pollSeconds?: number;
  log?: Logger;
  /** an undici dispatcher to send through; otherwise one made from `tls`, or undici's global one */
  dispatcher?: Dispatcher;
  tls?: { ca?: string; insecure?: boolean };
  /** longest wait for headers, and between body chunks (default 60) */
  timeoutSeconds?: number;
  /** a manifest entry larger than this is refused before downloading (default 512 MiB) */
  maxBytes?: number;
}

export interface InstalledModel {
  name: string;
  version: string;
  /** absolute path of the verified .onnx */
  path: string;
  entry: ModelEntry;
}

export type UpdateResult =
  | { outcome: 'installed'; model: InstalledModel }
  | { outcome: 'current'; model: InstalledModel }
  /** nothing published yet, or the manifest does not list the wanted model */
  | { outcome: 'absent'; reason: string }
  | { outcome: 'refused'; code: string; reason: string };

export interface ModelRefusal {
  code: string;
  reason: string;
}

export interface ModelUpdaterEvents {
  model: [InstalledModel];
  refused: [ModelRefusal];
}

interface UpdaterState {
  entry?: ModelEntry;
  /** issuedAt of the newest manifest accepted: an older one is a replay */
  issuedAt?: string;
  /** the model name followed at the last poll (a binding's, or edge.models.name) */
  following?: string;
}

export class ModelUpdater extends EventEmitter<ModelUpdaterEvents> {
  readonly #o: Required<Pick<ModelUpdaterOptions, 'pollSeconds' | 'timeoutSeconds' | 'maxBytes'>> & ModelUpdaterOptions;
  readonly #dir: string;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #ownDispatcher: boolean;
  #state: UpdaterState = {};
  #installed: InstalledModel | undefined;
  #running: Promise<UpdateResult> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #abort = new AbortController();

  constructor(options: ModelUpdaterOptions) {
    super();
    this.#o = { pollSeconds: 300, timeoutSeconds: 60, maxBytes: 512 * 1024 * 1024, ...options };
    this.#dir = resolve(options.dir);
    this.#ownDispatcher = !options.dispatcher && options.tls !== undefined;
    this.#dispatcher =
      options.dispatcher ?? relayAgent(options.tls);
  }

  /** The model name followed now: the binding's at the last poll, else edge.models.name. */
  following(): string {
    return this.#state.following ?? this.#o.wanted;
  }

  /** The model installed now (after start()), or undefined. */
  installed(): InstalledModel | undefined {
    return this.#installed;
  }

  /** Reads what is installed, checks its file, and starts polling (the first check at once). */
  async start(): Promise<InstalledModel | undefined> {
    await this.load();
    const loop = async () => {
      await this.checkNow();
      if (!this.#closed) this.#timer = setTimeout(() => void loop(), this.#o.pollSeconds * 1000).unref();
    };
    this.#timer = setTimeout(() => void loop(), 0).unref();
    return this.#installed;
  }

  /** Reads the state file without polling; a model whose file is gone or altered is forgotten. */
  async load(): Promise<InstalledModel | undefined> {
    await mkdir(this.#dir, { recursive: true });
    for (const name of await readdir(this.#dir)) {
      if (name.startsWith('.download-')) await unlink(join(this.#dir, name)).catch(() => undefined);
    }
    try {
      this.#state = JSON.parse(await readFile(join(this.#dir, STATE_FILE), 'utf8')) as UpdaterState;
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') this.#o.log?.warn({ err }, 'model updater: state file unreadable; starting without a model');
      this.#state = {};
    }
    const entry = this.#state.entry;
    if (entry && entry.name === this.following()) {
      const path = join(this.#dir, modelFileName(entry.sm3));
      const found = await hashFile(path).catch(() => undefined);
      if (found?.sm3 === entry.sm3 && found.bytes === entry.bytes) {
        this.#installed = { name: entry.name, version: entry.version, path, entry };
      } else {
        this.#o.log?.warn({ path }, 'model updater: the installed model file is missing or altered; it will be downloaded again');
      }
    }
    return this.#installed;
  }

  /** One poll now (joining one in flight). Never throws: failures are `refused` results. */
  checkNow(): Promise<UpdateResult> {
    if (this.#closed) return Promise.resolve({ outcome: 'refused', code: ModelDownload.code, reason: 'the updater is closed' });
    this.#running ??= this.#check().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Stops polling and abandons a download in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#running?.catch(() => undefined);
    if (this.#ownDispatcher) await this.#dispatcher?.close();
  }

  async #check(): Promise<UpdateResult> {
    let temp: string | undefined;
    try {
      const manifestRes = await this.#get(MODEL_PATHS.manifest);
      if (manifestRes.statusCode === 404) {
        await manifestRes.body.dump();
        return { outcome: 'absent', reason: 'the relay has no model manifest yet' };
      }
      await expectOk(manifestRes, 'manifest');
      const text = await readAnswer(manifestRes.body, MANIFEST_MAX_BYTES);
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (cause) {
        throw ManifestMalformed(`model manifest: not JSON (${(cause as Error).message})`, { field: 'manifest', cause });
      }
      const manifest = verifyManifest(raw, this.#o.trustedPublicKey);
      if (this.#state.issuedAt && Date.parse(manifest.issuedAt) < Date.parse(this.#state.issuedAt)) {
        throw ModelReplay(`model manifest: issued ${manifest.issuedAt}, before the one accepted already (${this.#state.issuedAt}); refusing an old manifest`, {
          field: 'issuedAt',
        });
      }
      const binding = bindingFor(manifest, this.#o.identity ?? {});
      const wanted = binding?.model ?? this.#o.wanted;
      const entry = manifest.models.find((m) => m.name === wanted);
      if (manifest.issuedAt !== this.#state.issuedAt || wanted !== this.#state.following) {
        if (wanted !== this.following()) this.#o.log?.info({ model: wanted, binding: binding?.target ?? null }, 'model updater: following another model');
        await this.#saveState({ ...this.#state, issuedAt: manifest.issuedAt, following: wanted });
      }
      if (!entry) {
        const listed = manifest.models.map((m) => m.name).join(', ') || 'none';
        return { outcome: 'absent', reason: `the manifest lists no model ${JSON.stringify(wanted)} (it lists: ${listed})` };
      }
      if (this.#installed && canonicalJson(this.#installed.entry) === canonicalJson(entry)) return { outcome: 'current', model: this.#installed };

      const path = join(this.#dir, modelFileName(entry.sm3));
      const have = await hashFile(path).catch(() => undefined);
      if (have?.sm3 !== entry.sm3 || have.bytes !== entry.bytes) {
        if (entry.bytes > this.#o.maxBytes) {
          throw ModelSize(`model ${entry.name} ${entry.version}: ${entry.bytes} bytes, more than this edge accepts (${this.#o.maxBytes})`, { field: 'bytes' });
        }
        temp = join(this.#dir, `.download-${randomBytes(6).toString('hex')}.tmp`);
        await this.#download(entry, temp);
        await rename(temp, path);
        temp = undefined;
        await fsyncDir(this.#dir);
      }
      const model: InstalledModel = { name: entry.name, version: entry.version, path, entry };
      const previous = this.#installed;
      await this.#saveState({ entry, issuedAt: manifest.issuedAt, following: wanted });
      this.#installed = model;
      await this.#sweep([model, previous]);
      this.#o.log?.info({ model: entry.name, version: entry.version, sm3: entry.sm3, was: previous?.version }, 'model updater: new model installed');
      this.emit('model', model);
      return { outcome: 'installed', model };
    } catch (err) {
      if (temp) await unlink(temp).catch(() => undefined);
      const refusal = asRefusal(err);
      if (!this.#closed) {
        this.#o.log?.warn({ code: refusal.code, reason: refusal.reason, keeping: this.#installed?.version ?? null }, 'model updater: refused');
        this.emit('refused', refusal);
      }
      return { outcome: 'refused', ...refusal };
    }
  }

  /** GET with the token, once more with a fresh one when the relay says it is stale. */
  async #get(path: string): Promise<Dispatcher.ResponseData> {
    const url = new URL(path, this.#o.baseUrl.replace(/\/?$/, '/')).toString();
    const send = async (stale: boolean) => {
      try {
        return await request(url, {
          method: 'GET',
          headers: { authorization: `Bearer ${await this.#o.getToken(stale)}` },
          signal: this.#abort.signal,
          headersTimeout: this.#o.timeoutSeconds * 1000,
          bodyTimeout: this.#o.timeoutSeconds * 1000,
          ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
        });
      } catch (cause) {
        throw ModelDownload(`GET ${url}: ${(cause as Error).message}`, { cause });
      }
    };
    const res = await send(false);
    if (res.statusCode !== 401 && res.statusCode !== 424) return res;
    await res.body.dump();
    return send(true);
  }

  /** Streams the file to `temp`, hashing and counting; refuses more bytes than the manifest says. */
  async #download(entry: ModelEntry, temp: string): Promise<void> {
    const res = await this.#get(MODEL_PATHS.file(entry.sm3));
    await expectOk(res, `model file ${entry.file}`);
    const hash = createSm3();
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > entry.bytes) {
          done(ModelSize(`model ${entry.name} ${entry.version}: the download is longer than the ${entry.bytes} bytes the manifest states`, { field: 'bytes' }));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(res.body, tap, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
    } catch (err) {
      if (err instanceof EsealError) throw err;
      throw ModelDownload(`model ${entry.name} ${entry.version}: the download broke off after ${bytes} of ${entry.bytes} bytes (${(err as Error).message})`, {
        cause: err,
      });
    }
    if (bytes !== entry.bytes) {
      throw ModelSize(`model ${entry.name} ${entry.version}: got ${bytes} bytes, the manifest states ${entry.bytes} (truncated?)`, { field: 'bytes' });
    }
    const sm3 = hash.digest('hex');
    if (sm3 !== entry.sm3) {
      throw ModelHash(`model ${entry.name} ${entry.version}: the file's SM3 is ${sm3}, the manifest states ${entry.sm3} (altered?)`, { field: 'sm3' });
    }
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async #saveState(state: UpdaterState): Promise<void> {
    await writeFileDurable(join(this.#dir, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
    this.#state = state;
  }

  /** Keeps the files of `keep` (the new model and the one the pipeline may still be running). */
  async #sweep(keep: (InstalledModel | undefined)[]): Promise<void> {
    const names = new Set(keep.map((m) => (m ? modelFileName(m.entry.sm3) : '')));
    for (const name of await readdir(this.#dir)) {
      if (/^[0-9a-f]{64}\.onnx$/.test(name) && !names.has(name)) await unlink(join(this.#dir, name)).catch(() => undefined);
    }
  }
}

async function expectOk(res: Dispatcher.ResponseData, what: string): Promise<void> {
  if (res.statusCode === 200) return;
  const text = await readAnswer(res.body, 4096).catch(() => '');
  let msg = text.slice(0, 200);
  try {
    const body = JSON.parse(text) as { msg?: unknown };
    if (typeof body.msg === 'string') msg = body.msg;
  } catch {
    // not the API's envelope: show the start of the body
  }
  throw ModelDownload(`${what}: the relay answered HTTP ${res.statusCode}${msg ? ` (${msg})` : ''}`, { detail: { status: res.statusCode } });
}

/** The relay's answer as text; one larger than `max` is refused. */
async function readAnswer(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  const { text, overflow } = await readCapped(body, max);
  if (overflow) throw ModelDownload(`the relay's answer is larger than ${max} bytes`);
  return text;
}

async function hashFile(path: string): Promise<{ sm3: string; bytes: number }> {
  const st = await stat(path);
  const hash = createSm3();
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { sm3: hash.digest('hex'), bytes: st.size };
}

function asRefusal(err: unknown): ModelRefusal {
  if (err instanceof EsealError) return { code: err.code, reason: err.message };
  return { code: ModelDownload.code, reason: (err as Error)?.message ?? String(err) };
}
