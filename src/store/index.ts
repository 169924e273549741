// Storage: the durable queue and the blob store behind small interfaces, with the embedded
// implementations (LMDB, plain files) and the fsync helpers they rest on.

export type {
  AppendResult,
  BoundedAppendResult,
  LeaseOptions,
  QueueAppend,
  QueueBound,
  QueueItem,
  QueueItemState,
  QueueStats,
  QueueStore,
  RangeOptions,
} from './QueueStoreTypes.ts';
export type { BlobRef, BlobStore, StageFileOptions, StageOptions, StagedBlob } from './BlobStoreTypes.ts';
export * from './errors.ts';
export { fsyncDir, removeDurable, writeFileDurable, type WriteFileDurableOptions } from './fsync.ts';
export { DEFAULT_MAP_SIZE, DEFAULT_MAX_DBS, lmdbOptions, openLmdb, type OpenLmdbOptions } from './lmdb/open.ts';
export { LmdbQueueStore, type LmdbQueueStoreOptions } from './lmdb/LmdbQueueStore.ts';
export { FsBlobStore } from './fs/FsBlobStore.ts';
export { verifiedBlobStream, type CorruptReason, type VerifiedReadOptions } from './verifiedRead.ts';
