// The edge's heartbeat sender against real servers on loopback: the national platform simulator
// (no such route: 404, the sender stops quietly and comes back in an hour), the relay (a stale token
// renewed once), nothing listening (a failure logged once per run). And the two small parts it
// reports: the detector's latency window and the recent errors.
import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { HeartbeatSender } from '../../../edge/heartbeat/HeartbeatSender.ts';
import { LatencyWindow } from '../../../edge/heartbeat/LatencyWindow.ts';
import { RecentErrors } from '../../../edge/heartbeat/RecentErrors.ts';
import type { Heartbeat } from '../../../src/devices/heartbeat.ts';
import type { DeviceRow } from '../../../relay/devices/deviceRows.ts';
import { request } from 'undici';
import { startSim, waitFor } from '../../helpers/forwarding.ts';
import { MINE, relayWithMine } from '../../helpers/relay.ts';

function logLines(): { log: pino.Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

const beat = (): Heartbeat => ({
  deviceId: 'edge-hb',
  mineId: MINE,
  software: { name: 'eseal-edge', version: 't' },
  model: null,
  cameras: [],
  detector: { p50Ms: 0, p95Ms: 0, runs: 0 },
  errors: [],
  startedAt: Date.now(),
});

t.test('the latency window and the recent errors', async (t) => {
  const w = new LatencyWindow(100);
  t.same(w.percentiles(), { p50Ms: 0, p95Ms: 0, runs: 0 });
  for (let i = 1; i <= 100; i++) w.add(i);
  t.same(w.percentiles(), { p50Ms: 50, p95Ms: 95, runs: 100 });
  // the window rolls: 100 slow runs push the fast ones out
  for (let i = 0; i < 100; i++) w.add(2000 + i);
  t.same(w.percentiles(), { p50Ms: 2049, p95Ms: 2094, runs: 200 });

  const e = new RecentErrors();
  for (let i = 0; i < 25; i++) e.add(`code${i}`, 'x'.repeat(500), 1000 + i);
  const list = e.list();
  t.equal(list.length, 20, 'the last 20');
  t.equal(list[0]!.code, 'code5');
  t.equal(list.at(-1)!.at, 1024);
  t.equal(list[0]!.msg.length, 200, 'messages cut to 200 characters');
});

t.test('a national platform has no heartbeat: the sender stops quietly and tries again in an hour', async (t) => {
  const sim = await startSim(t);
  const { log, lines } = logLines();
  const sender = new HeartbeatSender({ baseUrl: sim.url, getToken: async () => 'any-token', collect: beat, intervalSeconds: 5, log });
  t.teardown(() => sender.close());
  const started = Date.now();
  sender.start();
  await waitFor(() => sender.nextBeatAt !== undefined && sender.nextBeatAt > Date.now() + 60_000, 10_000, 'the 404 answered');
  const next = sender.nextBeatAt!;
  t.ok(next - started >= 3600_000 - 1000 && next - started < 3600_000 + 60_000, 'the next try in an hour, not at the interval');
  t.same(await sender.sendNow(), { outcome: 'absent' });
  const said = lines.filter((l) => /heartbeat/.test(l.msg));
  t.equal(said.length, 1, 'one line for any number of 404s');
  t.equal(said[0]!.level, 30, 'at info, not warn');
  t.equal(sender.sent, 0);
});

t.test('a stale token is renewed once; a relay down is logged once per run of failures', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const asked: boolean[] = [];
  const sender = new HeartbeatSender({
    baseUrl: relay.url,
    getToken: async (stale) => {
      asked.push(stale === true);
      return stale ? mine.token : 'an-old-token';
    },
    collect: beat,
  });
  t.teardown(() => sender.close());
  t.same(await sender.sendNow(), { outcome: 'sent', answer: {} });
  t.same(asked, [false, true], 'asked for a fresh token once');
  const res = await request(`${relay.url}/admin/devices`, { headers: { authorization: `Bearer ${relay.ctx.adminToken}` } });
  const rows = ((await res.body.json()) as { data: { devices: DeviceRow[] } }).data.devices;
  t.equal(rows[0]?.deviceId, 'edge-hb', 'the relay has it');
  t.equal(rows[0]?.intervalSeconds, 60, 'with the interval it was sent at');

  const { log, lines } = logLines();
  const down = new HeartbeatSender({ baseUrl: 'http://127.0.0.1:9', getToken: async () => 'x', collect: beat, log, timeoutSeconds: 2 });
  t.teardown(() => down.close());
  t.match(await down.sendNow(), { outcome: 'failed', reason: /POST http:\/\/127\.0\.0\.1:9\/eseal\/edge\/heartbeat/ });
  t.match(await down.sendNow(), { outcome: 'failed' });
  t.equal(lines.filter((l) => l.level === 40).length, 1, 'one warning for the run of failures');

  // an answer that is not success is a failure, with the relay's message
  const bad = new HeartbeatSender({ baseUrl: relay.url, getToken: async () => mine.token, collect: () => ({ ...beat(), deviceId: 'bad id' }) });
  t.teardown(() => bad.close());
  t.match(await bad.sendNow(), { outcome: 'failed', status: 400, reason: /^HTTP 400: deviceId: must be a device id/ });
});
