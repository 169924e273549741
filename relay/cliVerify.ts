// `eseal verify [--repair] [--json]`: proves what the data directory holds. The database's pages are
// read through (src/store/lmdb/check.ts), then the queue and every stored video, re-hashed against
// its SM3 address, and the resumable uploads (relay/integrity/StoreAudit.ts). Exit code 0 when
// nothing is wrong, 4 when damage was found (also after --repair: it was there), 1 on an error.
// It may run while the relay serves (LMDB allows several processes); --repair is safest with the
// relay stopped.
import { join } from 'node:path';
import { CONFIG_OPTION, type Command, type CommandIO } from '../src/cli/command.ts';
import { FsBlobStore } from '../src/store/fs/FsBlobStore.ts';
import { LmdbQueueStore } from '../src/store/lmdb/LmdbQueueStore.ts';
import { checkLmdbFiles } from '../src/store/lmdb/check.ts';
import type { RelayConfig } from './config.ts';
import { AccountInvalid } from './errors.ts';
import { progress } from './cliOps.ts';
import { openRelayStores } from './RelayContext.ts';
import type { RelayItem } from './ingest/RelayItem.ts';
import { advice, evidenceOnDisk } from './integrity/databaseGuard.ts';
import { DEFAULT_GRACE_MS, StoreAudit, damageCount, emptySummary, type AuditReport, type Damage } from './integrity/StoreAudit.ts';

export const DAMAGE_FOUND_EXIT = 4;

const LABELS: [keyof AuditReport['summary'], string][] = [
  ['database', 'database problems'],
  ['mismatches', 'SM3 mismatches (video altered, truncated or emptied)'],
  ['missingBlobs', 'missing videos'],
  ['itemsWithoutBlob', 'items whose video is gone'],
  ['orphanBlobs', 'orphan videos (no item refers to them)'],
  ['tusFilesWithoutRecord', 'resumable-upload files without a record'],
  ['tusRecordsWithoutFile', 'resumable-upload records without a file'],
];

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function describe(d: Damage): string {
  const who = d.item !== null ? `item ${d.items && d.items.length > 1 ? d.items.join(',') : d.item} (${d.state}) ${d.mineId ?? ''} ${d.fileName ?? ''}`.trim() : d.upload ? `upload ${d.upload}` : '';
  const what = d.kind === 'mismatch' ? `${d.size} bytes hash to ${d.actualSm3}` : (d.detail ?? '');
  return [`${d.kind}:`, who, d.path, what, d.action ? `→ ${d.action}` : ''].filter(Boolean).join('  ');
}

export function printAudit(io: CommandIO, r: AuditReport): void {
  const s = r.scanned;
  io.out(
    `verified ${r.dataDir}: ${s.items} queue items, ${s.blobs} videos (${mib(s.bytes)}) re-hashed, ${s.tusRecords} resumable-upload records, ${s.tusFiles} files` +
      `${s.dbPages !== undefined ? `, ${s.dbPages} database pages` : ''} in ${(r.durationMs / 1000).toFixed(1)} s${r.complete ? '' : ' (STOPPED before the end)'}`,
  );
  for (const [key, label] of LABELS) io.out(`  ${label.padEnd(56)} ${r.summary[key]}`);
  const total = damageCount(r.summary);
  if (!total) {
    io.out('no damage found');
    return;
  }
  io.out('');
  for (const d of r.damage.slice(0, 200)) io.out(describe(d));
  if (r.damage.length > 200) io.out(`… and ${r.damage.length - 200} more (--json for all)`);
  io.out('');
  if (r.summary.database) io.out(advice(r.dataDir));
  else if (!r.repair) {
    io.out('eseal verify --repair moves corrupt and orphan videos to quarantine/ (never deletes them), sets the items of corrupt or missing videos aside as');
    io.out('dead letters (ESEAL_ERR_STORE_CORRUPT: ask the mine to send those videos again), and removes resumable-upload leftovers.');
  } else {
    io.out(`repaired: what was moved is under ${join(r.dataDir, 'quarantine')} with a .json note beside each file; eseal queue ls --state dead lists the items set aside`);
  }
}

export const verifyCommands: Command<RelayConfig>[] = [
  {
    name: 'verify',
    summary: 'check the database, the queue and every stored video against its SM3 address; report (and with --repair, quarantine) damage',
    usage: '[--repair] [--json] [--grace-seconds N]',
    options: { ...CONFIG_OPTION, repair: { type: 'boolean' }, json: { type: 'boolean' }, 'grace-seconds': { type: 'string' } },
    help: [
      '  --repair          move corrupt and orphan videos to <dataDir>/quarantine/<date>/ (never deleted), set undelivered items',
      '                    of corrupt or missing videos aside (dead, ESEAL_ERR_STORE_CORRUPT), remove resumable-upload leftovers',
      '  --json            the report as JSON (v, at, durationMs, scanned, summary, damage[{kind, sm3, path, item, …}])',
      `  --grace-seconds N videos and upload files younger than this are not called orphans (default ${DEFAULT_GRACE_MS / 1000})`,
      '',
      'Exit code: 0 no damage, 4 damage found (also after --repair), 1 error.',
    ],
    async run({ values, config, io }) {
      const cfg = await config();
      const grace = values['grace-seconds'] === undefined ? DEFAULT_GRACE_MS / 1000 : Number(values['grace-seconds']);
      if (!Number.isFinite(grace) || grace < 0) throw AccountInvalid('--grace-seconds: a number of seconds ≥ 0', { field: 'grace-seconds' });
      const show = (r: AuditReport) => (values['json'] ? io.out(JSON.stringify(r, null, 2)) : printAudit(io, r));
      const at = Date.now();
      // the database first, all of it: LMDB is not opened over a damaged one
      const db = checkLmdbFiles(join(cfg.dataDir, 'db'));
      const lost = db.state === 'absent' || db.state === 'empty' ? await evidenceOnDisk(cfg.dataDir) : undefined;
      if (db.state === 'damaged' || (lost && (lost.blobs || lost.tusFiles))) {
        const problems = db.state === 'damaged' ? db.problems : [`${db.path} is ${db.state === 'absent' ? 'missing' : 'empty'} while videos or uploads are on disk`];
        const report: AuditReport = {
          v: 1,
          at,
          durationMs: Date.now() - at,
          dataDir: cfg.dataDir,
          repair: false,
          complete: false,
          scanned: { items: 0, blobs: 0, bytes: 0, tusFiles: 0, tusRecords: 0, dbPages: db.pagesRead },
          summary: { ...emptySummary(), database: problems.length },
          damage: problems.map((p) => ({ kind: 'database', path: db.lockProblem === p ? join(cfg.dataDir, 'db', 'lock.mdb') : db.path, item: null, detail: p })),
        };
        show(report);
        return DAMAGE_FOUND_EXIT;
      }
      const stores = await openRelayStores(cfg);
      const queue = new LmdbQueueStore<RelayItem>(stores.root, { name: 'queue' });
      const blobs = await FsBlobStore.open(join(cfg.dataDir, 'blobs'));
      let bar: ReturnType<typeof progress> | undefined;
      try {
        const audit = new StoreAudit(
          { dataDir: cfg.dataDir, root: stores.root, queue, blobs },
          {
            repair: !!values['repair'],
            graceMs: grace * 1000,
            onProgress: (done, total) => {
              bar ??= progress(total);
              bar.tick();
            },
          },
        );
        const report = await audit.run();
        bar?.done();
        report.at = at;
        report.durationMs = Date.now() - at;
        report.scanned.dbPages = db.pagesRead;
        show(report);
        return damageCount(report.summary) ? DAMAGE_FOUND_EXIT : 0;
      } finally {
        await blobs.close();
        await queue.close();
        await stores.close();
      }
    },
  },
];
