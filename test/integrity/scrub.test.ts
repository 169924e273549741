// The background scrub of a running relay: with a short period it re-hashes every stored video,
// sets the undelivered item of a corrupt one aside, logs it by mine, file name and video, and shows
// its last pass in `eseal status` and the metrics; one pass at a time.
import t from 'tap';
import { stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { main } from '../../app/main.ts';
import type { CommandIO } from '../../src/cli/command.ts';
import { createLogger } from '../../src/log.ts';
import { startRelay } from '../../relay/server.ts';
import { testConfig } from '../helpers/relay.ts';
import { tempDir } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/wait.ts';
import { damage, storeVideo } from './store.ts';

function io(): CommandIO & { text: () => string } {
  const out: string[] = [];
  return { out: (l) => out.push(l), err: (l) => out.push(l), stdin: async () => '', text: () => out.join('\n') };
}

t.test('a background scrub with a short period finds a corrupt video and sets its item aside', async (t) => {
  const dir = await tempDir(t);
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  // a pass every 2 s, at most 4 MB/s
  const config = await testConfig(dir, { 'scrub.periodHours': 2 / 3600, 'scrub.bytesPerSecond': 4_000_000 });
  const relay = await startRelay(config, createLogger({ level: 'info', destination: sink }));
  let closed = false;
  t.teardown(async () => {
    if (!closed) await relay.close();
  });
  const scrub = relay.ctx.scrub!;
  const good = await storeVideo(relay.ctx);
  const bad = await storeVideo(relay.ctx);
  const delivered = await storeVideo(relay.ctx);
  await relay.ctx.queue.lease({ max: 10, leaseMs: 1, lane: 'evidence' });
  await relay.ctx.queue.ack(delivered.seq);
  await damage.middle(bad.path);
  await damage.truncated(delivered.path);
  const damagedAt = Date.now();

  await waitFor(() => (scrub.status().last?.at ?? 0) >= damagedAt, 30_000, 'a scrub pass after the damage');
  const last = scrub.status().last!;
  t.equal(last.complete, true);
  t.equal(last.summary.mismatches, 2, 'both damaged videos found');
  t.equal(last.summary.orphanBlobs, 0);
  t.ok(last.scanned.blobs >= 3);
  t.match(relay.ctx.queue.get(bad.seq), { state: 'dead', deadReason: /^ESEAL_ERR_STORE_CORRUPT: the stored video .* does not match its SM3 address/ });
  t.match(relay.ctx.queue.get(bad.seq)!.deadReason, bad.path);
  t.equal(relay.ctx.queue.get(good.seq)!.state, 'ready', 'the intact video goes on');
  t.equal(relay.ctx.queue.get(delivered.seq)!.state, 'done', 'a delivered item stays delivered');
  t.equal((await stat(bad.path)).isFile(), true, 'the background scrub moves and deletes nothing');
  const logged = lines.find((l) => l['msg'] === 'a stored video does not match its SM3 address (altered or damaged on disk)' && l['blob'] === bad.blob);
  t.match(logged, { level: 50, mineId: '140421007866', file: bad.fileName, blob: bad.blob, path: bad.path, code: 'ESEAL_ERR_STORE_CORRUPT' }, 'an error naming mine, file and video');

  // one pass at a time: a pass asked for while one runs is the same pass
  const a = scrub.run();
  const b = scrub.run();
  t.equal(a, b, 'one pass at a time');
  await a;

  // eseal status shows it, live and from the data dir
  const env = { ESEAL_DATA_DIR: dir, ESEAL_RELAY_LISTEN: new URL(relay.url).host, ESEAL_RELAY_TLS: 'off' };
  const live = io();
  await main(['status'], live, env);
  // the short period may have begun the next background pass by now: then the line says so before the last one
  t.match(live.text(), /scrub: {5}(a pass is running; )?last \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \(\d+s, \d+ videos\): DAMAGE: 2 SM3 mismatches \(eseal verify\)/);
  const json = io();
  await main(['status', '--json'], json, env);
  const report = JSON.parse(json.text());
  t.match(report.scrub, { periodHours: 2 / 3600, bytesPerSecond: 4_000_000, last: { summary: { mismatches: 2 } } });

  const metrics = await request(relay.url + '/metrics', { headers: { authorization: `Bearer ${relay.ctx.adminToken}` } });
  const text = await metrics.body.text();
  t.match(text, /eseal_scrub_damage\{kind="mismatch"\} 2/);
  t.match(text, /eseal_scrub_last_run_timestamp_seconds \d+/);
  t.match(text, /eseal_scrub_last_duration_seconds [\d.e-]+/);

  closed = true;
  await relay.close();
  const offline = io();
  await main(['status'], offline, env);
  t.match(offline.text(), /NOT RUNNING/);
  t.match(offline.text(), /scrub: {5}last .*DAMAGE: 2 SM3 mismatches/);
});

t.test('scrub.periodHours 0 turns the background scrub off', async (t) => {
  const dir = await tempDir(t);
  const config = await testConfig(dir, { 'scrub.periodHours': 0 });
  const relay = await startRelay(config, createLogger({ level: 'silent' }));
  t.teardown(() => relay.close());
  t.same(relay.ctx.scrub!.status(), { periodHours: 0, bytesPerSecond: 20 * 1024 * 1024, running: false });
});

t.test('a pass keeps to scrub.bytesPerSecond', async (t) => {
  const dir = await tempDir(t);
  const config = await testConfig(dir, { 'scrub.periodHours': 0, 'scrub.bytesPerSecond': 100_000 });
  const relay = await startRelay(config, createLogger({ level: 'silent' }));
  t.teardown(() => relay.close());
  let bytes = 0;
  for (let i = 0; i < 3; i++) bytes += (await stat((await storeVideo(relay.ctx, Buffer.alloc(50_000, i))).path)).size;
  const result = await relay.ctx.scrub!.run();
  t.equal(result.scanned.bytes, bytes);
  t.ok(result.durationMs >= ((bytes / 100_000) * 1000) * 0.9, `${bytes} bytes at 100 kB/s took ${result.durationMs} ms`);
  t.equal(result.summary.mismatches, 0);
});
