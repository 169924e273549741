// The edge role's commands: evaluation of the analyses against ground truth, the default model,
// the status of a running edge and the scrub of its outbox.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_OPTION, type Command, type CommandIO } from '../src/cli/command.ts';
import type { EdgeRoleConfig } from './config.ts';
import { EdgeUsage } from './errors.ts';

const DEFAULT_SET_DIR = 'var/eval-set';

async function withDetector<T>(cfg: EdgeRoleConfig, needed: boolean, fn: (detector: import('./detect/detector.ts').Detector | undefined) => Promise<T>): Promise<T> {
  if (!needed) return fn(undefined);
  const { resolveModel } = await import('./EdgeService.ts');
  const { createDetector } = await import('./detect/detector.ts');
  const spec = await resolveModel(cfg.edge, join(cfg.dataDir, 'edge'));
  const detector = await createDetector({ model: spec, intraOpThreads: cfg.edge.detector.threads, scoreThreshold: cfg.edge.detector.minScorePercent / 100 });
  try {
    return await fn(detector);
  } finally {
    await detector.close();
  }
}

/** The running edge's pid when its status file is fresh and the process is there. */
async function runningEdge(edgeDir: string): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  const { STATUS_FILE } = await import('./EdgeService.ts');
  try {
    const s = JSON.parse(await readFile(join(edgeDir, STATUS_FILE), 'utf8')) as { at: number; pid: number };
    if (Date.now() - s.at > 30_000 || s.pid === process.pid) return undefined;
    process.kill(s.pid, 0);
    return s.pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? -1 : undefined;
  }
}

/** A progress bar on standard error when it is a terminal; silent otherwise. */
function progressBar(): { update: (done: number, total: number) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  let drawn = false;
  return {
    update(done, total) {
      if (!tty || total === 0 || (done !== total && done % 25 !== 0)) return;
      const filled = Math.round((done / total) * 30);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${done}/${total} clips`);
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write('\n');
    },
  };
}

function printEvents(io: CommandIO, events: { kind: string; atSeconds: number; count?: number; beltStatus?: string }[]): void {
  for (const e of events) {
    io.out(`  ${e.atSeconds.toFixed(1).padStart(7)} s  ${e.kind}${e.count !== undefined ? ` ×${e.count}` : ''}${e.beltStatus ? ` ${e.beltStatus}` : ''}`);
  }
}

/** The clips that --only names: each item a clip's name or a scene's (every clip of that scene). */
async function clipsNamed(list: string): Promise<string[]> {
  const { ALL_CLIPS } = await import('./eval/scenes/index.ts');
  const items = list.split(',').map((s) => s.trim()).filter(Boolean);
  const names = new Set<string>();
  for (const item of items) {
    const hits = ALL_CLIPS.filter((c) => c.name === item || c.scene === item);
    if (!hits.length) throw EdgeUsage(`--only: no clip or scene named ${JSON.stringify(item)} (scenes: ${[...new Set(ALL_CLIPS.map((c) => c.scene))].join(', ')})`, { field: 'only' });
    for (const h of hits) names.add(h.name);
  }
  if (!names.size) throw EdgeUsage('--only: name at least one clip or scene', { field: 'only' });
  return [...names];
}

export const commands: Command<EdgeRoleConfig>[] = [
  {
    name: 'eval',
    summary: 'run the analyses over a clip (or the evaluation set) and print precision and recall against ground truth',
    usage: '<clip.mp4> [--truth FILE] | --set [--dir DIR] [--quick] [--only NAMES] [--target PERCENT] [--events] [--json]',
    options: {
      ...CONFIG_OPTION,
      truth: { type: 'string' },
      set: { type: 'boolean' },
      dir: { type: 'string' },
      quick: { type: 'boolean' },
      only: { type: 'string' },
      target: { type: 'string' },
      events: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    help: [
      '  --truth FILE    the ground truth (default: <clip>.truth.json); format in the README (Evaluation)',
      '  --set           build the project\'s evaluation set (real photos from Debian\'s darknet package,',
      '                  synthetic belts, tampered views) and evaluate every clip in it',
      `  --dir DIR       where the set is built and kept (default ${DEFAULT_SET_DIR})`,
      '  --quick         a smaller set (the one npm test uses)',
      '  --only NAMES    with --set: only these clips or scenes, comma-separated (e.g. belt, or belt-cycle,tamper)',
      '  --target PCT    exit 1 when any analysis\'s precision or recall is below this (default 97)',
      '  --events        print every reported event',
      '  --json          the result as one JSON object on standard output and nothing else there (progress',
      '                  goes to standard error): format "eseal-eval/1", clips [{clip, frames, elapsedMs,',
      '                  detected [{kind, atSeconds, count?, beltStatus?, matched, matchedUnits, matchedWith}],',
      '                  truth [the same, with note?], perKind {kind: {tp, fp, fn, precision, recall, clips}}}],',
      '                  total {kind: …}, target, pass; exit status as without it',
    ],
    async run({ positionals, values, config, io }) {
      const cfg = await config();
      const { readTruthFile } = await import('./eval/truth.ts');
      const { aggregate, belowTarget, clipReport, formatScoreTable, jsonReport } = await import('./eval/score.ts');
      const { evaluateClip } = await import('./pipeline/evaluateClip.ts');
      const { ANALYSES } = await import('./analyses/registry.ts');
      const json = values['json'] === true;
      // With --json, standard output carries the JSON alone: everything for people goes to stderr.
      const say = json ? io.err : io.out;
      const target = Number(values['target'] ?? 97);
      if (!Number.isFinite(target) || target < 0 || target > 100) throw EdgeUsage('--target: a percentage 0–100', { field: 'target' });

      let pairs: { clip: string; truth: string }[];
      if (values['set']) {
        if (positionals.length) throw EdgeUsage('give either a clip or --set, not both');
        const dir = resolve(String(values['dir'] ?? DEFAULT_SET_DIR));
        const { buildEvalSet } = await import('./eval/buildEvalSet.ts');
        const only = values['only'] === undefined ? undefined : await clipsNamed(String(values['only']));
        say(`building the evaluation set in ${dir} (kept: later runs reuse it)…`);
        pairs = await buildEvalSet(dir, { quick: values['quick'] === true, ...(only ? { only } : {}) });
      } else {
        if (values['only'] !== undefined) throw EdgeUsage('--only goes with --set', { field: 'only' });
        const [clip, ...extra] = positionals;
        if (!clip || extra.length) throw EdgeUsage('usage: eseal edge eval <clip.mp4> [--truth FILE], or --set');
        pairs = [{ clip: resolve(clip), truth: resolve(String(values['truth'] ?? clip.replace(/\.mp4$/i, '') + '.truth.json')) }];
      }
      const truths = await Promise.all(pairs.map(async (p) => ({ ...p, truth: await readTruthFile(p.truth), truthPath: p.truth })));
      const needsDetector = truths.some((p) => Object.keys(p.truth.camera.analyses).some((k) => ANALYSES[k as keyof typeof ANALYSES]?.needsDetections));
      const results = await withDetector(cfg, needsDetector, async (detector) => {
        const out = [];
        for (const p of truths) {
          const r = await evaluateClip({ clipPath: p.clip, truth: p.truth, truthPath: p.truthPath, ...(detector ? { detector } : {}) });
          say(`${p.truth.clip}: ${r.frames} frames in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.events.length} events`);
          if (values['events'] && !json) printEvents(io, r.events);
          out.push({ score: r.score, report: clipReport(p.truth, r.events, r.score, { frames: r.frames, elapsedMs: r.elapsedMs }) });
        }
        return out;
      });
      const scores = results.map((r) => r.score);
      const below = belowTarget(aggregate(scores).perKind, target);
      if (json) {
        io.out(JSON.stringify(jsonReport(results, target), null, 1));
        return below.length ? 1 : 0;
      }
      io.out('');
      io.out(formatScoreTable(scores));
      if (below.length) {
        io.out(`below the ${target}% target: ${below.join(', ')}`);
        return 1;
      }
      io.out(`every analysis at or above ${target}% precision and recall`);
      return 0;
    },
  },
  {
    name: 'model',
    summary: 'convert the default detector (CenterNet from @vladmandic/human) to ONNX, if it is not there yet',
    usage: '[--input-size N] [--dir DIR]',
    options: { ...CONFIG_OPTION, 'input-size': { type: 'string' }, dir: { type: 'string' } },
    async run({ values, config, io }) {
      const cfg = await config();
      const { ensureDefaultModel, defaultModelsDir } = await import('./models/buildDefault.ts');
      const size = Number(values['input-size'] ?? cfg.edge.detector.inputSize);
      const spec = await ensureDefaultModel(String(values['dir'] ?? defaultModelsDir()), size);
      io.out(`${spec.path} (input ${spec.inputSize}×${spec.inputSize})`);
    },
  },
  {
    name: 'status',
    summary: "the edge role's cameras (online, frames, events, live URL), its outbox and uploads, and its detector",
    usage: '[--config FILE] [--json]',
    options: { ...CONFIG_OPTION, json: { type: 'boolean' } },
    help: ['Reads <dataDir>/edge/status.json, which a running edge rewrites every 5 s.'],
    async run({ values, config, io }) {
      const cfg = await config();
      const { readFile } = await import('node:fs/promises');
      const { STATUS_FILE } = await import('./EdgeService.ts');
      const file = join(cfg.dataDir, 'edge', STATUS_FILE);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        io.err(`no edge status at ${file}: is the edge role running here (eseal start --roles edge) with this dataDir?`);
        return 1;
      }
      if (values['json']) {
        io.out(text);
        return 0;
      }
      const s = JSON.parse(text) as EdgeStatusFile;
      const age = Math.round((Date.now() - s.at) / 1000);
      io.out(`edge:      ${age <= 15 ? 'running' : `NOT RUNNING? last status ${age}s ago`} (pid ${s.pid}); mine ${s.mineState}`);
      const rows = s.cameras.map((c) => [c.name, c.cameraId, c.online ? 'online' : 'OFFLINE', String(c.frames), String(c.skipped), String(c.events), c.online ? c.liveUrl : (c.lastOfflineReason ?? '').slice(0, 60)]);
      const header = ['CAMERA', 'ID', 'STATE', 'FRAMES', 'SKIPPED', 'EVENTS', 'LIVE URL / OFFLINE REASON'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [header, ...rows]) io.out(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
      const o = s.uploader?.outbox;
      if (o) {
        io.out(`outbox:    ${o.pending} pending (status ${o.pendingByLane.status}, records ${o.pendingByLane.record}, clips ${o.pendingByLane.evidence}), ${o.dead} dead letters, ${(o.bytes / 1048576).toFixed(1)} MiB${o.dropped ? `, ${o.dropped} clips DROPPED to stay within limits` : ''}`);
        if (o.corrupt) io.out(`CORRUPT:   ${o.corrupt} clips set aside: not what the edge recorded (ESEAL_ERR_STORE_CORRUPT); run eseal edge verify`);
      io.out(`uploads:   ${s.uploader!.delivered} delivered, ${s.uploader!.deadLettered} refused, ${s.uploader!.retried} retried${s.uploader!.pausedUntil > Date.now() ? `, PAUSED (${s.uploader!.lastError ?? 'relay unreachable'})` : ''}`);
      }
      if (s.modelRefused) io.out(`model:     the registry's model was REFUSED ${Math.round((Date.now() - s.modelRefused.at) / 60_000)} min ago: ${s.modelRefused.code}: ${s.modelRefused.reason}`);
      if (s.detector) io.out(`detector:  ${s.detector.model}, input ${s.detector.inputSize}, ${s.detector.framesRun} frames, ${s.detector.meanLatencyMs.toFixed(1)} ms mean, ${s.detector.framesDropped} dropped, ${s.detector.workerRestarts} restarts`);
      return 0;
    },
  },
  {
    name: 'verify',
    summary: "check every clip of the edge's outbox against its SM3 address: missing, orphan and corrupt clips",
    usage: '[--config FILE] [--repair] [--json]',
    options: { ...CONFIG_OPTION, repair: { type: 'boolean' }, json: { type: 'boolean' } },
    help: [
      '  --repair   move corrupt and orphan clips to <dataDir>/edge/outbox/quarantine/<date>/ (never deleted)',
      '             and set their entries aside as dead letters (ESEAL_ERR_STORE_CORRUPT); the edge must be stopped',
      '  --json     the report as JSON: summary {missingBlobs, orphanBlobs, mismatches, itemsWithoutBlob},',
      '             setAside}, damage [{kind, sm3, path, item, detail, quarantined?}]',
      'Exit status 1 when damage is found (also after a repair), 0 when the outbox is whole.',
    ],
    async run({ values, config, io }) {
      const cfg = await config();
      const edgeDir = join(cfg.dataDir, 'edge');
      const dir = join(edgeDir, 'outbox');
      if (!existsSync(dir)) {
        io.err(`no edge outbox at ${dir}: has the edge role run here with this dataDir?`);
        return 1;
      }
      const repair = values['repair'] === true;
      if (repair) {
        const pid = await runningEdge(edgeDir);
        if (pid !== undefined) {
          io.err(`the edge is running${pid > 0 ? ` (pid ${pid})` : ''}: stop it before eseal edge verify --repair (without --repair the check is safe while it runs)`);
          return 1;
        }
      }
      const { verifyOutbox } = await import('./upload/verifyOutbox.ts');
      const bar = progressBar();
      const report = await verifyOutbox(dir, { repair, onProgress: values['json'] ? undefined : bar.update });
      bar.done();
      const found = report.damage.length > 0;
      if (values['json']) {
        io.out(JSON.stringify(report, null, 1));
        return found ? 1 : 0;
      }
      const s = report.summary;
      io.out(`outbox:    ${dir}: ${report.items} entries, ${report.blobs} clips, ${(report.bytes / 1048576).toFixed(1)} MiB checked in ${(report.durationMs / 1000).toFixed(1)} s`);
      io.out(`damage:    ${s.mismatches} corrupt clips (SM3 mismatch), ${s.missingBlobs} missing clips (${s.itemsWithoutBlob} entries without their clip), ${s.orphanBlobs} orphan clips${s.setAside ? `; ${s.setAside} entries set aside as corrupt earlier (their clips in quarantine)` : ''}`);
      for (const d of report.damage) {
        io.out(`  ${d.kind.padEnd(15)} ${d.item === null ? '-' : `entry ${d.item}`}  ${d.path}: ${d.detail}${d.quarantined ? ` -> ${d.quarantined}` : ''}`);
      }
      if (report.repair) {
        io.out(`repair:    ${report.repair.quarantined} clips moved to ${report.repair.quarantineDir}, ${report.repair.marked} entries set aside as corrupt (dead letters)`);
      } else if (found) {
        io.out('run eseal edge verify --repair (with the edge stopped) to quarantine the bad clips and set their entries aside');
      }
      return found ? 1 : 0;
    },
  },
];

interface EdgeStatusFile {
  at: number;
  pid: number;
  mineState: string;
  cameras: { name: string; cameraId: string; online: boolean; liveUrl: string; frames: number; skipped: number; events: number; lastOfflineReason?: string }[];
  uploader?: {
    delivered: number;
    deadLettered: number;
    retried: number;
    pausedUntil: number;
    lastError?: string;
    corrupt?: number;
    outbox: { pending: number; pendingByLane: Record<'status' | 'record' | 'evidence', number>; dead: number; bytes: number; dropped: number; corrupt?: number };
  };
  modelRefused?: { code: string; reason: string; at: number };
  detector?: { model: string; inputSize: number; framesRun: number; framesDropped: number; meanLatencyMs: number; workerRestarts: number };
}
