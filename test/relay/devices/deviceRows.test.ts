// The inventory's rows and their alerts, computed at read time from what the stores hold: each
// alert appears exactly when its rule says, at a given clock.
import t from 'tap';
import type { Heartbeat } from '../../../src/devices/heartbeat.ts';
import type { ModelManifest } from '../../../src/models/manifest.ts';
import type { CallRecord, HeartbeatRecord } from '../../../relay/devices/DeviceInventory.ts';
import { deviceRows, type DeviceRow } from '../../../relay/devices/deviceRows.ts';

const T0 = Date.parse('2026-01-05T08:00:00Z');
const MIN = 60_000;
const SM3 = (c: string) => c.repeat(64);

function hb(at: number, over: Partial<Heartbeat> = {}): HeartbeatRecord {
  return {
    account: 'mine001',
    deviceId: 'edge-01',
    receivedAt: at,
    address: '10.0.0.7',
    heartbeat: {
      deviceId: 'edge-01',
      mineId: '140421007866',
      software: { name: 'eseal-edge', version: '1' },
      model: { name: 'default', version: '1', sm3: SM3('a') },
      cameras: [{ cameraId: '20', state: 'running' }],
      detector: { p50Ms: 30, p95Ms: 60, runs: 100 },
      errors: [],
      startedAt: at - 3600_000,
      intervalSeconds: 60,
      ...over,
    },
  };
}

function manifest(issuedAt: number, bindings: ModelManifest['bindings']): ModelManifest {
  const entry = (name: string, c: string) => ({ name, version: '1', file: `${SM3(c)}.onnx`, bytes: 1, sm3: SM3(c), inputSize: 512, layout: 'nchw' as const, decoder: 'centernet' as const, classes: { '0': 'person' as const }, normalisation: { mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number] } });
  return {
    format: 'eseal-models/1',
    issuedAt: new Date(issuedAt).toISOString(),
    publisher: 't',
    models: [entry('default', 'a'), entry('night', 'b')],
    ...(bindings ? { bindings } : {}),
    signature: { algorithm: 'SM2-with-SM3', publicKey: '04', value: '30' },
  };
}

const calls = (lastAt: number, over: Partial<CallRecord> = {}): CallRecord => ({ account: 'vendor', firstAt: T0 - 86400_000, lastAt, calls: { 'camera/online-offine': 5 }, rejected: 0, addresses: ['10.9.9.9'], ...over });

function rowsAt(now: number, heartbeats: HeartbeatRecord[], callList: CallRecord[] = [], m?: ModelManifest): DeviceRow[] {
  return deviceRows({ heartbeats, calls: callList, minesOf: (a) => (a === 'vendor' ? ['140421009999'] : ['140421007866']), manifest: m, now });
}

t.test('a heartbeat is late after three intervals', async (t) => {
  t.same(rowsAt(T0 + 3 * MIN, [hb(T0)])[0]!.alerts, [], 'three intervals: not yet');
  t.same(rowsAt(T0 + 3 * MIN + 1, [hb(T0)])[0]!.alerts, ['heartbeat late']);
  t.same(rowsAt(T0 + 3 * 300_000 - 1, [hb(T0, { intervalSeconds: 300 })])[0]!.alerts, [], "the device's own interval");
});

t.test('a model other than the binding alerts after the grace period', async (t) => {
  const bound = manifest(T0, [{ target: { mine: '140421007866' }, model: 'night' }]);
  const beat = (at: number) => hb(at);
  const within = rowsAt(T0 + 10 * MIN, [beat(T0 + 10 * MIN)], [], bound)[0]!;
  t.match(within.boundModel, { name: 'night', sm3: SM3('b'), target: 'mine 140421007866' });
  t.same(within.alerts, [], 'within 10 minutes of the manifest');
  t.same(rowsAt(T0 + 11 * MIN, [beat(T0 + 11 * MIN)], [], bound)[0]!.alerts, ['model differs from binding']);
  // running the bound model: no alert; the device's own binding wins over its mine's
  t.same(rowsAt(T0 + 11 * MIN, [hb(T0 + 11 * MIN, { model: { name: 'night', version: '1', sm3: SM3('b') } })], [], bound)[0]!.alerts, []);
  const deviceWins = manifest(T0, [
    { target: { mine: '140421007866' }, model: 'night' },
    { target: { device: 'edge-01' }, model: 'default' },
  ]);
  t.same(rowsAt(T0 + 11 * MIN, [beat(T0 + 11 * MIN)], [], deviceWins)[0]!.alerts, []);
  // the right name with other bytes
  t.same(rowsAt(T0 + 11 * MIN, [hb(T0 + 11 * MIN, { model: { name: 'night', version: '0', sm3: SM3('c') } })], [], bound)[0]!.alerts, ['model differs from binding']);
});

t.test('detector, cameras and errors', async (t) => {
  const now = T0 + MIN;
  const row = rowsAt(now, [
    hb(now, {
      detector: { p50Ms: 400, p95Ms: 1001, runs: 10 },
      cameras: [
        { cameraId: '20', state: 'running' },
        { cameraId: '30', state: 'offline' },
      ],
      errors: [{ at: now - 3599_000, code: 'x', msg: 'y' }],
    }),
  ])[0]!;
  t.same(row.alerts, ['detector p95 > 1000 ms', 'cameras not running: 30', 'errors in last hour']);
  t.same(rowsAt(now, [hb(now, { errors: [{ at: now - 3601_000, code: 'x', msg: 'y' }] })])[0]!.alerts, [], 'an error over an hour old');
});

t.test('third-party devices: known by their calls, silent after an hour', async (t) => {
  const rows = rowsAt(T0, [hb(T0)], [calls(T0 - 61 * MIN), calls(T0 - 59 * MIN, { account: 'mine001' })]);
  t.equal(rows.length, 2, "the edge's account has no second row");
  t.match(rows[0], { kind: 'eseal-edge', calls: { 'camera/online-offine': 5 }, addresses: ['10.0.0.7', '10.9.9.9'] });
  t.match(rows[1], { kind: 'third-party', account: 'vendor', mineIds: ['140421009999'], alerts: ['no calls for over 1 h'] });
  t.same(rowsAt(T0, [], [calls(T0 - 59 * MIN)])[0]!.alerts, []);
  const refused = rowsAt(T0, [], [calls(T0 - MIN, { rejected: 3, lastError: { at: T0 - MIN, endpoint: 'x', code: 'ESEAL_ERR_INPUT_FIELD', msg: 'time: …' } })])[0]!;
  t.same(refused.alerts, ['errors in last hour']);
});
