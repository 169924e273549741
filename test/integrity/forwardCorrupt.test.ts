// Integrity at rest, multipart to the national platform (issue 14, item 1): with the platform down,
// evidence videos are accepted, then some stored files are damaged on disk (64 bytes overwritten in
// the middle, truncated, emptied, deleted). When the platform comes back none of the damaged ones
// reaches it (the upload is aborted before its end), each is a dead letter with
// ESEAL_ERR_STORE_CORRUPT and the path of the bad file, an error log line names the mine, the file
// name and the blob, a metric counts them, and the intact videos queued behind them on the same
// FIFO key are delivered.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { open, readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { EVIDENCE_ENDPOINTS, formatEvidenceFileName } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { createLogger } from '../../src/log.ts';
import { startRelay } from '../../relay/server.ts';
import type { RelayItem } from '../../relay/ingest/RelayItem.ts';
import { FAST_FORWARD, NATIONAL_PW, NATIONAL_USER, startSim, waitFor } from '../helpers/forwarding.ts';
import { box, makeVideo } from '../helpers/media.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, tempDir, testConfig } from '../helpers/relay.ts';

const PAD = 600_000;

/** Log lines (pino JSON) kept in memory. */
function logSink(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = rest + chunk.toString('utf8');
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

const DAMAGES: [string, (path: string, size: number) => Promise<void>][] = [
  [
    'middle',
    async (path, size) => {
      const h = await open(path, 'r+');
      await h.write(randomBytes(64), 0, 64, Math.floor(size / 2));
      await h.close();
    },
  ],
  ['truncated', (path, size) => truncate(path, Math.floor(size / 3))],
  ['empty', (path) => writeFile(path, '')],
  ['deleted', (path) => unlink(path)],
];

t.test('damaged videos never reach the platform; each is set aside and reported; the intact ones behind them are delivered', async (t) => {
  const dir = await tempDir(t);
  const base = await readFile(await makeVideo(dir, { seconds: 1, width: 160, height: 120 }));
  const sim = await startSim(t);
  const logs = logSink();
  const config = await testConfig(await tempDir(t), { 'upstream.url': sim.url, ...FAST_FORWARD, 'log.level': 'info' });
  const relay = await startRelay(config, createLogger({ level: 'info', destination: logs.stream }));
  t.teardown(() => relay.close());
  const mine = new GuideMine(relay.url, NATIONAL_USER, NATIONAL_PW);
  t.equal((await mine.login()).status, 200, 'logged in (passthrough) while the platform is up');
  await sim.setFaults({ down: true });

  // two FIFO keys (mine, camera 20 / 10, personVideo, account): on each, damaged ones first, an intact one behind them
  const names = new Map<string, { bytes: Buffer; damage?: string }>();
  const kinds = ['middle', 'truncated', 'intact', 'empty', 'deleted', 'intact'];
  for (const [i, damage] of kinds.entries()) {
    const cameraId = i < 3 ? '20' : '10';
    const bytes = Buffer.concat([base, box('free', [randomBytes(PAD)])]);
    const path = join(dir, `v${i}.mp4`);
    await writeFile(path, bytes);
    const name = formatEvidenceFileName('count', { mineId: MINE, cameraId, aiTypeCode: '01', count: String(i).padStart(4, '0'), time: Date.now() - (10 - i) * 1000 });
    t.equal((await mine.upload(EVIDENCE_ENDPOINTS.personVideo, path, { fileName: name })).status, 200, `${damage} video accepted while the platform is down`);
    names.set(name, { bytes, ...(damage === 'intact' ? {} : { damage }) });
  }
  t.equal(relay.ctx.queue.stats().byState.done, 0, 'nothing delivered while down');

  const items = relay.ctx.queue.range({}).filter((i) => (i.payload as RelayItem).file) as { seq: number; payload: RelayItem }[];
  t.equal(items.length, kinds.length);
  const blobs = relay.ctx.blobs;
  const pathOfName = new Map<string, string>();
  for (const item of items) {
    const file = item.payload.file!;
    const path = blobs.pathOf!(file.blob);
    pathOfName.set(file.name, path);
    const damage = names.get(file.name)?.damage;
    const fn = DAMAGES.find(([what]) => what === damage)?.[1];
    if (fn) await fn(path, file.size);
  }

  // the circuit opens: the first call after the platform is back is a trial, and a damaged video is one
  await waitFor(() => relay.ctx.forwarder!.status().upstream.state === 'open', 20_000, 'the circuit open');
  await sim.setFaults({ down: false });
  const damaged = [...names].filter(([, v]) => v.damage).map(([n]) => n);
  const intact = [...names].filter(([, v]) => !v.damage).map(([n]) => n);
  await waitFor(
    () => relay.ctx.queue.stats().byState.dead === damaged.length && relay.ctx.queue.stats().byState.done === intact.length,
    30_000,
    `${damaged.length} dead letters and ${intact.length} delivered`,
  );

  const received = sim.received();
  for (const name of intact) {
    const got = received.find((r) => r.file?.fileName === name);
    t.equal(got?.file?.sm3, sm3Hex(names.get(name)!.bytes), `intact ${name} delivered byte for byte behind the damaged ones`);
  }
  const dead = relay.ctx.queue.range({ state: 'dead' }) as { seq: number; payload: RelayItem; deadReason?: string }[];
  for (const name of damaged) {
    const what = names.get(name)!.damage;
    t.notOk(received.some((r) => r.file?.fileName === name), `${what}: the platform received no complete request for ${name}`);
    const item = dead.find((d) => d.payload.file?.name === name);
    t.ok(item, `${what}: a dead letter`);
    t.match(item?.deadReason, /^ESEAL_ERR_STORE_CORRUPT: /, `${what}: with its own code`);
    t.ok(item?.deadReason?.includes(pathOfName.get(name)!), `${what}: naming the bad file (${item?.deadReason})`);
    const line = logs.lines.find((l) => l['fileName'] === name && l['level'] === 50);
    t.ok(line, `${what}: an error log line`);
    t.equal(line?.['mineId'], MINE, `${what}: the log line names the mine`);
    t.equal(line?.['blob'], item?.payload.file?.blob, `${what}: and the blob`);
    t.equal(line?.['path'], pathOfName.get(name), `${what}: and the file`);
  }
  const metrics = await relay.ctx.metrics.registry.metrics();
  t.match(metrics, new RegExp(`eseal_forward_corrupt_total\\{endpoint="fileOperator/personVideo"\\} ${damaged.length}\\b`), 'counted');
  t.equal(relay.ctx.forwarder!.status().upstream.state, 'closed', 'corrupt files do not count against the upstream');
});
