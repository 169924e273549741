// The relay's model registry: detector models the province publishes for its edges.
//   <dataDir>/models/manifest.json   the signed manifest (src/models/manifest.ts), rewritten whole
//   <dataDir>/models/<sm3>.onnx      the files, named by their SM3, never rewritten in place
//   <dataDir>/models.key, models.pub the signing key (./signingKey.ts)
// The registry does not look inside a model: it stores bytes and describes them. Publishing runs
// from the CLI while the relay serves, so the routes read the manifest from disk on each request.
// Files of the previous manifest are kept one publication longer, for edges downloading them now.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createSm3 } from '../../src/crypto/sm3.ts';
import { ModelNotFound, ModelPublish } from '../../src/models/errors.ts';
import {
  MANIFEST_FORMAT,
  checkBindings,
  checkModelEntry,
  modelFileName,
  signManifest,
  verifyManifest,
  type ModelBinding,
  type ModelEntry,
  type ModelManifest,
  type Normalisation,
} from '../../src/models/manifest.ts';
import { errnoOf, wrapStoreError } from '../../src/store/errors.ts';
import { fsyncDir, removeDurable, writeFileDurable } from '../../src/store/fsync.ts';
import { loadOrCreateModelKey } from './signingKey.ts';

export const MANIFEST_FILE = 'manifest.json';
/** a temp file of an interrupted publication older than this is removed */
const STALE_TEMP_MS = 3600_000;

/** What the publisher says about a model; the rest (file, bytes, sm3) is measured. */
export interface ModelMeta {
  name: string;
  version: string;
  /** default 512 */
  inputSize?: number;
  /** default nchw */
  layout?: ModelEntry['layout'];
  /** default centernet */
  decoder?: ModelEntry['decoder'];
  /** default COCO's person (0) and car, bus, truck (2, 5, 7) */
  classes?: ModelEntry['classes'];
  /** default pixels scaled to 0…1 */
  normalisation?: Normalisation;
}

export const DEFAULT_MODEL_META = {
  inputSize: 512,
  layout: 'nchw',
  decoder: 'centernet',
  classes: { '0': 'person', '2': 'vehicle', '5': 'vehicle', '7': 'vehicle' },
  normalisation: { mean: [0, 0, 0], std: [255, 255, 255] },
} as const satisfies Omit<ModelMeta, 'name' | 'version'>;

export interface ModelRegistryOptions {
  /** who signs, as written in the manifest (default eseal-relay@<host name>) */
  publisher?: string;
  /** clock, for tests */
  now?: () => number;
}

export class ModelRegistry {
  readonly dir: string;
  readonly #dataDir: string;
  readonly #publisher: string;
  readonly #now: () => number;
  #cached: { bytes: Buffer; manifest: ModelManifest } | undefined;
  /** publications in this process run one at a time */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string, options: ModelRegistryOptions = {}) {
    this.#dataDir = dataDir;
    this.dir = join(dataDir, 'models');
    this.#publisher = options.publisher ?? `eseal-relay@${hostname()}`;
    this.#now = options.now ?? Date.now;
  }

  /** The province's model-signing public key (hex 04‖x‖y), made on first use. */
  async publicKey(): Promise<string> {
    return (await loadOrCreateModelKey(this.#dataDir)).publicKeyHex;
  }

  /** The manifest file's bytes as signed, or undefined before the first publication. */
  async manifestBytes(): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.dir, MANIFEST_FILE));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw wrapStoreError(err, 'reading the model manifest', join(this.dir, MANIFEST_FILE));
    }
  }

  /** The current manifest, verified with the registry's own key; undefined before the first publication. */
  async manifest(): Promise<ModelManifest | undefined> {
    const bytes = await this.manifestBytes();
    if (bytes === undefined) return undefined;
    const { publicKeyHex } = await loadOrCreateModelKey(this.#dataDir);
    return verifyManifest(JSON.parse(bytes.toString('utf8')), publicKeyHex);
  }

  /**
   * The current manifest, verified once per change of its bytes (the routes ask on every heartbeat;
   * the CLI may publish from another process at any time, so the file is read each time).
   */
  async current(): Promise<ModelManifest | undefined> {
    const bytes = await this.manifestBytes();
    if (bytes === undefined) return undefined;
    if (this.#cached && this.#cached.bytes.equals(bytes)) return this.#cached.manifest;
    const { publicKeyHex } = await loadOrCreateModelKey(this.#dataDir);
    const manifest = verifyManifest(JSON.parse(bytes.toString('utf8')), publicKeyHex);
    this.#cached = { bytes, manifest };
    return manifest;
  }

  /** Where the file of that SM3 lives and its size, or undefined when the registry holds no such file. */
  async file(sm3: string): Promise<{ path: string; bytes: number } | undefined> {
    if (!/^[0-9a-f]{64}$/.test(sm3)) return undefined;
    const path = join(this.dir, modelFileName(sm3));
    try {
      const st = await stat(path);
      return st.isFile() ? { path, bytes: st.size } : undefined;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Copies the model in, then signs a new manifest with it added (or replacing the entry of the
   * same name). Publishing the same name, version and bytes again changes nothing.
   */
  publish(onnxPath: string, meta: ModelMeta): Promise<{ entry: ModelEntry; manifest: ModelManifest }> {
    return this.#serial(async () => {
      // check the description before copying anything
      const described = { ...DEFAULT_MODEL_META, ...meta };
      checkModelEntry({ ...described, sm3: '0'.repeat(64), file: modelFileName('0'.repeat(64)), bytes: 1 }, 'meta.');
      const key = await loadOrCreateModelKey(this.#dataDir);
      const previous = await this.#current(key.publicKeyHex);
      const { sm3, bytes } = await this.#store(onnxPath);
      const entry = checkModelEntry({ ...described, sm3, file: modelFileName(sm3), bytes });
      const old = previous?.models.find((m) => m.name === entry.name);
      if (old && old.version === entry.version) {
        if (old.sm3 === entry.sm3 && previous) return { entry: old, manifest: previous };
        if (!previous?.models.some((m) => m.sm3 === entry.sm3)) await removeDurable(join(this.dir, entry.file));
        throw ModelPublish(
          `version: ${entry.name} ${entry.version} is published already with other content (sm3 ${old.sm3.slice(0, 12)}…); give a new --version`,
          { field: 'version' },
        );
      }
      const models = [...(previous?.models.filter((m) => m.name !== entry.name) ?? []), entry];
      const manifest = await this.#write(models, previous?.bindings, previous, key.privateKeyHex);
      return { entry, manifest };
    });
  }

  /** Signs a new manifest without the model `name`. */
  remove(name: string): Promise<ModelManifest> {
    return this.#serial(async () => {
      const key = await loadOrCreateModelKey(this.#dataDir);
      const previous = await this.#current(key.publicKeyHex);
      if (!previous?.models.some((m) => m.name === name)) {
        throw ModelNotFound(`name: no model ${JSON.stringify(name)} is published (eseal models ls)`, { field: 'name' });
      }
      // a device bound to the model removed falls back to the model it is configured to follow
      return this.#write(
        previous.models.filter((m) => m.name !== name),
        previous.bindings?.filter((b) => b.model !== name),
        previous,
        key.privateKeyHex,
      );
    });
  }

  /**
   * Signs a new manifest with these bindings (replacing the list; [] removes them all) and the
   * same models: publishing it is the push. Each binding must name a published model
   * (ESEAL_ERR_MODEL_MANIFEST naming `bindings[i].model`); nothing published yet is ESEAL_ERR_MODEL_NOT_FOUND.
   */
  setBindings(bindings: unknown): Promise<ModelManifest> {
    return this.#serial(async () => {
      const key = await loadOrCreateModelKey(this.#dataDir);
      const previous = await this.#current(key.publicKeyHex);
      if (!previous) throw ModelNotFound('models: nothing is published yet; publish a model before binding it (eseal models publish)', { field: 'models' });
      const checked = checkBindings(bindings, previous.models);
      return this.#write(previous.models, checked, previous, key.privateKeyHex);
    });
  }

  /** Signs the same models and bindings again with a new issuedAt: edges that poll see it at once. */
  push(): Promise<ModelManifest> {
    return this.#serial(async () => {
      const key = await loadOrCreateModelKey(this.#dataDir);
      const previous = await this.#current(key.publicKeyHex);
      if (!previous) throw ModelNotFound('models: nothing is published yet (eseal models publish)', { field: 'models' });
      return this.#write(previous.models, previous.bindings, previous, key.privateKeyHex);
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #current(publicKeyHex: string): Promise<ModelManifest | undefined> {
    const bytes = await this.manifestBytes();
    if (bytes === undefined) return undefined;
    try {
      return verifyManifest(JSON.parse(bytes.toString('utf8')), publicKeyHex);
    } catch (cause) {
      throw ModelPublish(
        `${join(this.dir, MANIFEST_FILE)} does not verify with the model key (${(cause as Error).message}); ` +
          'restore it or models.key from a backup, or move it away to start an empty registry',
        { cause },
      );
    }
  }

  /** Copies a file in under its SM3 name (fsynced), hashing as it goes. */
  async #store(source: string): Promise<{ sm3: string; bytes: number }> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const st = await stat(source).catch((cause: unknown) => {
      throw ModelPublish(`file: cannot read ${source} (${(cause as Error).message})`, { field: 'file', cause });
    });
    if (!st.isFile() || st.size === 0) throw ModelPublish(`file: ${source} is not a non-empty file`, { field: 'file' });
    const temp = join(this.dir, `.incoming-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
    const hash = createSm3();
    let bytes = 0;
    try {
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(createReadStream(source), tap, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
      const handle = await open(temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const sm3 = hash.digest('hex');
      await rename(temp, join(this.dir, modelFileName(sm3)));
      await fsyncDir(this.dir);
      return { sm3, bytes };
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw wrapStoreError(err, 'copying a model into the registry', temp);
    }
  }

  async #write(models: ModelEntry[], bindings: ModelBinding[] | undefined, previous: ModelManifest | undefined, privateKeyHex: string): Promise<ModelManifest> {
    // issuedAt only grows: edges refuse a manifest older than the one they accepted last
    const last = previous ? Date.parse(previous.issuedAt) : 0;
    const issuedAt = new Date(Math.max(this.#now(), last + 1)).toISOString();
    const manifest = signManifest(
      {
        format: MANIFEST_FORMAT,
        issuedAt,
        publisher: this.#publisher,
        models: [...models].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        // a manifest without bindings stays byte for byte what it was before bindings existed
        ...(bindings?.length ? { bindings } : {}),
      },
      privateKeyHex,
    );
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    await writeFileDurable(join(this.dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o644 });
    await this.#sweep(manifest, previous);
    return manifest;
  }

  /** Removes model files neither this manifest nor the one before it lists, and stale temp files. */
  async #sweep(current: ModelManifest, previous: ModelManifest | undefined): Promise<void> {
    const keep = new Set([...current.models, ...(previous?.models ?? [])].map((m) => m.file));
    const staleBefore = this.#now() - STALE_TEMP_MS;
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      const model = /^[0-9a-f]{64}\.onnx$/.test(name) && !keep.has(name);
      // another process may be copying a model in right now: only an old temp file is left over
      const temp = name.startsWith('.incoming-') && ((await stat(path).catch(() => undefined))?.mtimeMs ?? Infinity) < staleBefore;
      if (model || temp) await removeDurable(path).catch(() => undefined);
    }
  }
}
