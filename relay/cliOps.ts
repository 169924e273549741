// Operator commands over the queue and the relay's health: `eseal status` and `eseal queue …`.
// The queue commands work on the data dir directly (LMDB allows several processes), whether the
// relay runs or not; a running relay picks up a replayed item within a second. `eseal status` asks
// the running relay for the live part (upstream health, calls in flight) and says so when it is
// not running.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { CONFIG_OPTION, formatTable, type Command, type CommandIO } from '../src/cli/command.ts';
import { parseListen } from '../src/config/load.ts';
import type { RelayConfig } from './config.ts';
import { formatJsonTime } from '../src/contract/index.ts';
import { LmdbQueueStore } from '../src/store/lmdb/LmdbQueueStore.ts';
import type { QueueItem, QueueItemState } from '../src/store/QueueStoreTypes.ts';
import { openRelayStores, type RelayStores } from './RelayContext.ts';
import { lastScrub, type ScrubStatus } from './integrity/Scrub.ts';
import { offlineStatus, type StatusReport } from './admin/statusReport.ts';
import { AccountInvalid } from './errors.ts';
import type { RelayItem } from './ingest/RelayItem.ts';

async function withQueue<T>(config: () => Promise<RelayConfig>, fn: (queue: LmdbQueueStore<RelayItem>, cfg: RelayConfig, stores: RelayStores) => Promise<T>): Promise<T> {
  const cfg = await config();
  const stores = await openRelayStores(cfg);
  const queue = new LmdbQueueStore<RelayItem>(stores.root, { name: 'queue' });
  try {
    return await fn(queue, cfg, stores);
  } finally {
    await queue.close();
    await stores.close();
  }
}

/** The running relay's /admin/status, or undefined when nothing answers. */
async function fetchLiveStatus(cfg: RelayConfig): Promise<StatusReport | undefined> {
  const { host, port } = parseListen(cfg.relay.listen);
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  const tls = cfg.relay.tls.mode !== 'off';
  const token = (await readFile(join(cfg.dataDir, 'admin.token'), 'utf8').catch(() => '')).trim();
  // our own relay on this host: its certificate is self-signed or the operator's
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false, timeout: 3000 } });
  try {
    const res = await request(`${tls ? 'https' : 'http'}://${local}:${port}/admin/status`, {
      headers: { authorization: `Bearer ${token}` },
      dispatcher,
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return undefined;
    }
    return (await res.body.json()) as StatusReport;
  } catch {
    return undefined;
  } finally {
    await dispatcher.close();
  }
}

function age(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

function table(io: CommandIO, header: string[], rows: string[][]): void {
  for (const line of formatTable(header, rows)) io.out(line);
}

function printStatus(io: CommandIO, s: StatusReport): void {
  io.out(`relay:     ${s.running ? `running, up ${age(s.uptimeSeconds)}` : 'NOT RUNNING (figures from the data dir)'}; data in ${s.dataDir}`);
  if (s.disk) io.out(`disk:      ${s.disk.usedPercent}% used${s.disk.full ? ` — ABOVE ${s.disk.highWatermarkPercent}%: videos refused` : ''}`);
  if (s.upstream) {
    const st = s.upstream.state === 'closed' ? 'up' : s.upstream.state === 'open' ? 'DOWN' : s.upstream.state === 'halfOpen' ? 'probing' : s.upstream.state;
    io.out(`upstream:  ${s.upstream.url}: ${st}${s.upstream.since ? ` since ${formatJsonTime(s.upstream.since)}` : ''}${s.upstream.lastError && st !== 'up' ? ` (${s.upstream.lastError})` : ''}`);
  } else {
    io.out('upstream:  none configured: holding everything (set upstream.url to forward)');
  }
  io.out('');
  table(
    io,
    ['LANE', 'PENDING', 'IN FLIGHT', 'OLDEST', 'BUDGET', 'DELIVERED', 'LATE', ''],
    Object.entries(s.lanes).map(([lane, l]) => [
      lane,
      String(l.pending),
      l.inFlight === undefined ? '-' : String(l.inFlight),
      age(l.oldestAgeSeconds),
      `${l.budgetSeconds}s`,
      l.delivered === undefined ? '-' : String(l.delivered),
      l.late === undefined ? '-' : String(l.late),
      l.atRisk ? 'AT RISK' : '',
    ]),
  );
  io.out('');
  io.out(`queue:     ${s.queue.ready + s.queue.leased} pending, ${s.queue.dead} dead (eseal queue ls --state dead), ${s.queue.done} delivered and kept; oldest pending ${age(s.queue.oldestPendingAgeSeconds)}`);
  if (s.redelivered) io.out(`redelivered after restarts: ${s.redelivered}`);
  if (s.scrub) io.out(`scrub:     ${scrubLine(s.scrub, s.at)}`);
  for (const e of s.upstreamLoginErrors) io.out(`login:     ${e.username}: ${e.error} (${formatJsonTime(e.at)})`);
  for (const w of s.accountsWaiting ?? []) {
    io.out(`waiting:   ${w.account}: ${w.heads} queue(s) under ${w.mines.join(', ')} wait for its upstream login (refused ${w.failures}×; next try ${formatJsonTime(w.retryAt)}): ${w.reason}`);
  }
  if (s.mines.length) {
    io.out('');
    table(
      io,
      ['MINE', 'LAST SEEN (Beijing)'],
      s.mines.slice(0, 50).map((m) => [m.mineId, formatJsonTime(m.lastSeenAt)]),
    );
    if (s.mines.length > 50) io.out(`… and ${s.mines.length - 50} more (--json for all)`);
  }
}

const SCRUB_LABELS: [keyof NonNullable<ScrubStatus['last']>['summary'], string][] = [
  ['mismatches', 'SM3 mismatches'],
  ['missingBlobs', 'missing videos'],
  ['itemsWithoutBlob', 'items without their video'],
  ['orphanBlobs', 'orphan videos'],
  ['tusFilesWithoutRecord', 'tus files without record'],
  ['tusRecordsWithoutFile', 'tus records without file'],
  ['database', 'database problems'],
];

/** `last 2024-05-01 03:00:00 (4m, 1234 videos): no damage; next in 23h` */
function scrubLine(s: ScrubStatus, now: number): string {
  if (!s.periodHours && !s.last) return 'off (scrub.periodHours: 0); eseal verify checks on demand';
  const parts: string[] = [];
  if (s.running) parts.push('a pass is running');
  if (s.last) {
    const l = s.last;
    const found = SCRUB_LABELS.filter(([k]) => l.summary[k] > 0).map(([k, label]) => `${l.summary[k]} ${label}`);
    const what = l.error ? `FAILED (${l.error})` : found.length ? `DAMAGE: ${found.join(', ')} (eseal verify)` : 'no damage';
    parts.push(`last ${formatJsonTime(l.at)} (${age(Math.round(l.durationMs / 1000))}, ${l.scanned.blobs} videos): ${what}`);
  } else {
    parts.push('no pass yet');
  }
  if (!s.periodHours) parts.push('background scrub off');
  else if (s.nextAt !== undefined && !s.running) parts.push(`next in ${age(Math.max(0, Math.round((s.nextAt - now) / 1000)))}`);
  return parts.join('; ');
}

/** A progress bar on standard error when it is a terminal; silent otherwise. */
export function progress(total: number): { tick: () => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let n = 0;
  const draw = () => {
    if (!tty || total === 0) return;
    const width = 30;
    const filled = Math.round((n / total) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${n}/${total}`);
  };
  return {
    tick() {
      n++;
      if (n === total || n % 25 === 0) draw();
    },
    done() {
      if (tty && total) process.stderr.write('\n');
    },
  };
}

const STATES: QueueItemState[] = ['ready', 'leased', 'dead', 'done'];

function summary(i: QueueItem<RelayItem>): string[] {
  const p = i.payload;
  const what = p.file ? `${p.file.name} (${Math.round(p.file.size / 1024)} KiB)` : JSON.stringify(p.record).slice(0, 60);
  const note = i.state === 'dead' ? (i.deadReason ?? '') : (i.lastError ?? '');
  return [String(i.seq), i.state, i.lane, p.endpoint, p.mineId, p.cameraId, formatJsonTime(p.receivedAt), String(i.attempts), what, note.slice(0, 80)];
}

function selector(values: Record<string, unknown>) {
  const state = values['state'] as string | undefined;
  if (state !== undefined && !STATES.includes(state as QueueItemState)) throw AccountInvalid(`--state: one of ${STATES.join(', ')}, got ${state}`, { field: 'state' });
  const mine = values['mine'] as string | undefined;
  const endpoint = values['endpoint'] as string | undefined;
  const lane = values['lane'] as string | undefined;
  return (i: QueueItem<RelayItem>) =>
    (!state || i.state === state || (state === 'ready' && i.state === 'leased')) &&
    (!mine || i.payload.mineId === mine) &&
    (!endpoint || i.payload.endpoint === endpoint) &&
    (!lane || i.lane === lane);
}

function* everything(queue: LmdbQueueStore<RelayItem>, state?: QueueItemState): Generator<QueueItem<RelayItem>> {
  let from = 1;
  for (;;) {
    const page = queue.range({ fromSeq: from, limit: 5000, ...(state ? { state } : {}) });
    yield* page;
    if (page.length < 5000) return;
    from = page[page.length - 1]!.seq + 1;
  }
}

function seqs(positionals: string[]): number[] {
  return positionals.map((p) => {
    if (!/^\d+$/.test(p)) throw AccountInvalid(`seq: a whole number from eseal queue ls, got ${JSON.stringify(p)}`, { field: 'seq' });
    return Number(p);
  });
}

const FILTERS = {
  state: { type: 'string' },
  mine: { type: 'string' },
  endpoint: { type: 'string' },
  lane: { type: 'string' },
} as const;

export const opsCommands: Command<RelayConfig>[] = [
  {
    name: 'status',
    summary: 'upstream health, queue depth and age per lane, budget breaches, mines last seen',
    usage: '[--config FILE] [--json]',
    options: { ...CONFIG_OPTION, json: { type: 'boolean' } },
    async run({ values, config, io }) {
      const cfg = await config();
      const live = await fetchLiveStatus(cfg);
      const report =
        live ??
        (await withQueue(config, async (q, c, stores) => {
          const last = lastScrub(stores.root);
          const scrub: ScrubStatus = { periodHours: c.scrub.periodHours, bytesPerSecond: c.scrub.bytesPerSecond, running: false, ...(last ? { last } : {}) };
          return offlineStatus(q, cfg.dataDir, cfg.upstream.url, Date.now(), scrub);
        }));
      if (values['json']) io.out(JSON.stringify(report, null, 2));
      else printStatus(io, report);
      const risky = Object.values(report.lanes).some((l) => l.atRisk);
      return report.running && !risky ? 0 : 3;
    },
  },
  {
    name: 'queue ls',
    summary: 'list queued items (pending, dead letters, delivered) with their last error',
    usage: '[--state ready|leased|dead|done] [--mine ID] [--endpoint ID] [--lane LANE] [--limit N] [--json]',
    options: { ...CONFIG_OPTION, ...FILTERS, limit: { type: 'string' }, json: { type: 'boolean' } },
    help: ['Example: eseal queue ls --state dead   (items the national platform refused, with its answer)'],
    async run({ values, config, io }) {
      const limit = values['limit'] === undefined ? 100 : Number(values['limit']);
      if (!Number.isInteger(limit) || limit < 1) throw AccountInvalid('--limit: a whole number ≥ 1', { field: 'limit' });
      await withQueue(config, async (queue) => {
        const match = selector(values);
        const state = values['state'] as QueueItemState | undefined;
        const found: QueueItem<RelayItem>[] = [];
        let more = 0;
        for (const i of everything(queue, state === 'leased' || state === 'ready' ? undefined : state)) {
          if (!match(i)) continue;
          if (found.length < limit) found.push(i);
          else more++;
        }
        if (values['json']) {
          io.out(JSON.stringify(found, null, 2));
          return;
        }
        table(io, ['SEQ', 'STATE', 'LANE', 'ENDPOINT', 'MINE', 'CAM', 'RECEIVED (Beijing)', 'TRIES', 'WHAT', 'LAST ERROR / REASON'], found.map(summary));
        if (more) io.out(`… ${more} more (--limit)`);
      });
    },
  },
  {
    name: 'queue show',
    summary: 'one item in full: where it came from, its flags, its attempts and the upstream answer',
    usage: '<seq>',
    options: CONFIG_OPTION,
    async run({ positionals, config, io }) {
      const [seq] = seqs(positionals);
      if (seq === undefined) throw AccountInvalid('usage: eseal queue show <seq>');
      await withQueue(config, async (queue) => {
        const item = queue.get(seq);
        if (!item) throw AccountInvalid(`seq: no item ${seq} (purged, or never there)`, { field: 'seq' });
        io.out(JSON.stringify(item, null, 2));
      });
    },
  },
  {
    name: 'queue replay',
    summary: 'send dead letters again (after the cause upstream is fixed)',
    usage: '<seq>… | --all-dead [--mine ID] [--endpoint ID]',
    options: { ...CONFIG_OPTION, 'all-dead': { type: 'boolean' }, mine: FILTERS.mine, endpoint: FILTERS.endpoint },
    async run({ positionals, values, config, io }) {
      await withQueue(config, async (queue) => {
        let targets = seqs(positionals);
        if (values['all-dead']) {
          const match = selector({ ...values, state: 'dead' });
          targets = [...everything(queue, 'dead')].filter(match).map((i) => i.seq);
        }
        if (!targets.length) {
          io.out('nothing to replay');
          return;
        }
        const bar = progress(targets.length);
        for (const seq of targets) {
          await queue.replay(seq);
          bar.tick();
        }
        bar.done();
        io.out(`${targets.length} item(s) ready to be sent again; a running relay sends them within a second`);
      });
    },
  },
  {
    name: 'queue purge',
    summary: 'remove dead letters or delivered items for good (never an undelivered one)',
    usage: '<seq>… | --dead [--mine ID] | --done-before DAYS',
    options: { ...CONFIG_OPTION, dead: { type: 'boolean' }, mine: FILTERS.mine, 'done-before': { type: 'string' } },
    async run({ positionals, values, config, io }) {
      await withQueue(config, async (queue) => {
        let targets = seqs(positionals);
        if (values['dead']) targets = [...everything(queue, 'dead')].filter(selector({ ...values, state: 'dead' })).map((i) => i.seq);
        if (values['done-before'] !== undefined) {
          const days = Number(values['done-before']);
          if (!Number.isFinite(days) || days < 0) throw AccountInvalid('--done-before: a number of days ≥ 0', { field: 'done-before' });
          const cutoff = Date.now() - days * 86_400_000;
          targets = [...everything(queue, 'done')].filter((i) => (i.doneAt ?? 0) < cutoff).map((i) => i.seq);
        }
        if (!targets.length) {
          io.out('nothing to purge');
          return;
        }
        const bar = progress(targets.length);
        for (const seq of targets) {
          await queue.purge(seq);
          bar.tick();
        }
        bar.done();
        io.out(`${targets.length} item(s) purged; their videos are deleted at the next retention pass when nothing else refers to them`);
      });
    },
  },
];
