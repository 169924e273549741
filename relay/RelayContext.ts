// Everything a running relay holds, opened in one place and closed in reverse order. The data dir
// layout:
//   <dataDir>/db/            LMDB: queue, accounts, tokens, mines, evidence names, tus uploads, stats.* (console aggregates)
//   <dataDir>/blobs/         evidence videos, content-addressed by SM3
//   <dataDir>/sm2.key …      the SM2 key ring (0600), secret.key (SM4, 0600)
//   <dataDir>/admin.token    bearer token for /metrics and the admin API (0600)
//   <dataDir>/tls/           the self-signed certificate when relay.tls.mode is auto
//   <dataDir>/tus/           resumable uploads in progress (records in LMDB: tus-uploads)
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import type { RelayConfig } from './config.ts';
import { loadOrCreateSecretKey } from '../src/crypto/keyFiles.ts';
import type { Logger } from '../src/log.ts';
import { FsBlobStore } from '../src/store/fs/FsBlobStore.ts';
import { writeFileDurable } from '../src/store/fsync.ts';
import { LmdbQueueStore } from '../src/store/lmdb/LmdbQueueStore.ts';
import { openLmdb } from '../src/store/lmdb/open.ts';
import type { BlobStore } from '../src/store/BlobStoreTypes.ts';
import type { QueueStore } from '../src/store/QueueStoreTypes.ts';
import { AccountStore } from './auth/AccountStore.ts';
import { KeyHolder } from './auth/KeyHolder.ts';
import { TokenStore } from './auth/TokenStore.ts';
import { Ingest } from './ingest/Ingest.ts';
import type { RelayItem } from './ingest/RelayItem.ts';
import { RelayMetrics } from './metrics.ts';
import { MineStore } from './MineStore.ts';
import type { Forwarder } from './forward/Forwarder.ts';
import type { Scrub } from './integrity/Scrub.ts';
import { NationalClient } from '../src/client/NationalClient.ts';
import type { UpstreamSession } from '../src/client/UpstreamSession.ts';
import { relayUpstreamSession } from './forward/upstreamSession.ts';
import { upgradeQueueKeys } from './forward/queueKeys.ts';
import { guardDatabaseFiles, guardSchema } from './integrity/databaseGuard.ts';
import { StatsQueue } from './stats/StatsQueue.ts';
import { StatsStore } from './stats/StatsStore.ts';

export interface RelayContext {
  config: RelayConfig;
  log: Logger;
  root: RootDatabase;
  /** the queue, with the console's aggregates kept in step (relay/stats/StatsQueue.ts) */
  queue: QueueStore<RelayItem>;
  /** the console's aggregates and item index (relay/stats/StatsStore.ts) */
  stats: StatsStore;
  blobs: BlobStore;
  keys: KeyHolder;
  accounts: AccountStore;
  tokens: TokenStore;
  mines: MineStore;
  ingest: Ingest;
  metrics: RelayMetrics;
  adminToken: string;
  /** set when upstream.url is configured */
  upstream?: { client: NationalClient; tokens: UpstreamSession };
  /** set once forwarding runs (relay/server.ts) */
  forwarder?: Forwarder;
  /** the background scrub (relay/server.ts) */
  scrub?: Scrub;
  /** the data dir's file system is above its high-water mark: new videos are refused */
  disk: { full: boolean; usedPercent: number };
  close(): Promise<void>;
}

/** The LMDB environment and the stores that live in it: what the CLI needs without serving. */
export interface RelayStores {
  root: RootDatabase;
  accounts: AccountStore;
  tokens: TokenStore;
  mines: MineStore;
  close(): Promise<void>;
}

export async function openRelayStores(config: RelayConfig): Promise<RelayStores> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  // LMDB would crash on a damaged file, and recreate a lost one empty: checked first (issue 14)
  const check = await guardDatabaseFiles(config);
  const root = openLmdb(join(config.dataDir, 'db'));
  try {
    await guardSchema(root, check, config.dataDir);
  } catch (err) {
    await root.close();
    throw err;
  }
  const secret = await loadOrCreateSecretKey(config.dataDir);
  return {
    root,
    accounts: new AccountStore(root, secret),
    tokens: new TokenStore(root, secret, config.relay.tokenTtlSeconds),
    mines: new MineStore(root),
    close: () => root.close(),
  };
}

async function loadOrCreateAdminToken(dataDir: string): Promise<string> {
  const path = join(dataDir, 'admin.token');
  try {
    const t = (await readFile(path, 'utf8')).trim();
    if (t.length >= 32) return t;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(24).toString('base64url');
  await writeFileDurable(path, token + '\n', { mode: 0o600 });
  return token;
}

export async function openRelayContext(config: RelayConfig, log: Logger, metrics = new RelayMetrics()): Promise<RelayContext> {
  const stores = await openRelayStores(config);
  const opened: { close(): Promise<void> }[] = [stores];
  try {
    const lmdbQueue = new LmdbQueueStore<RelayItem>(stores.root, { name: 'queue' });
    opened.unshift(lmdbQueue);
    await upgradeQueueKeys(lmdbQueue, stores.root, log);
    const stats = new StatsStore(stores.root, lmdbQueue);
    await stats.open(log.child({ part: 'stats' }));
    const queue = new StatsQueue(lmdbQueue, stores.root, stats, log.child({ part: 'stats' }));
    const blobs = await FsBlobStore.open(join(config.dataDir, 'blobs'));
    opened.unshift(blobs);
    const keys = await KeyHolder.open(config.dataDir);
    const adminToken = await loadOrCreateAdminToken(config.dataDir);
    let upstream: RelayContext['upstream'];
    if (config.upstream.url) {
      const u = config.upstream;
      const client = new NationalClient({
        url: u.url,
        client: u.client,
        loginMethod: u.loginMethod,
        cipherMode: u.cipherMode,
        ...(u.tls.ca ? { ca: await readFile(u.tls.ca, 'utf8') } : {}),
        insecure: u.tls.insecure === 'yes',
        connectTimeoutSeconds: u.connectTimeoutSeconds,
        requestTimeoutSeconds: u.requestTimeoutSeconds,
      });
      opened.unshift(client);
      upstream = { client, tokens: relayUpstreamSession(client, stores.accounts, log.child({ part: 'upstream' })) };
    }
    return {
      config,
      log,
      root: stores.root,
      queue,
      stats,
      blobs,
      keys,
      accounts: stores.accounts,
      tokens: stores.tokens,
      mines: stores.mines,
      ingest: new Ingest(queue, stores.root, metrics),
      metrics,
      adminToken,
      ...(upstream ? { upstream } : {}),
      disk: { full: false, usedPercent: 0 },
      async close() {
        for (const o of opened) await o.close();
      },
    };
  } catch (err) {
    for (const o of opened) await o.close().catch(() => {});
    throw err;
  }
}
