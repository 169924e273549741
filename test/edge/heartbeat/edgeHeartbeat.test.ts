// A running edge (a real file:// camera, the real detector) sends its heartbeat to a real relay: the
// relay's inventory shows its model, camera and detector latency. A model bound to the edge by the
// admin API reaches it through the heartbeat's answer (its registry poll is 5 minutes away), and
// the next heartbeat reports the bound model running.
import t from 'tap';
import { join } from 'node:path';
import { request } from 'undici';
import { createLogger } from '../../../src/log.ts';
import { EdgeService } from '../../../edge/EdgeService.ts';
import { parseCameras } from '../../../edge/config.ts';
import { defaultCacheDir } from '../../../edge/eval/darknetPhotos.ts';
import { COCO_CLASS_MAP } from '../../../edge/models/coco.ts';
import { ensureDefaultModel } from '../../../edge/models/buildDefault.ts';
import { ModelRegistry, type ModelMeta } from '../../../relay/models/ModelRegistry.ts';
import type { DeviceRow } from '../../../relay/devices/deviceRows.ts';
import { edgeTestConfig, quickClip } from '../../helpers/edge.ts';
import { waitFor } from '../../helpers/forwarding.ts';
import { MINE, relayWithMine, tempDir } from '../../helpers/relay.ts';

t.test('the edge heartbeats to the relay and follows the model bound to it', async (t) => {
  const { relay } = await relayWithMine(t);
  const registry = new ModelRegistry(relay.dataDir);
  const small = await ensureDefaultModel(join(defaultCacheDir(), 'models'), 320);
  const meta: Omit<ModelMeta, 'name' | 'version'> = { inputSize: 320, layout: 'nhwc', decoder: 'centernet', classes: { ...COCO_CLASS_MAP }, normalisation: { mean: [0, 0, 0], std: [1, 1, 1] } };
  const { entry: day } = await registry.publish(small.path, { name: 'default', version: '2', ...meta });
  const { entry: night } = await registry.publish(small.path, { name: 'night', version: '1', ...meta });

  const persons = await quickClip('persons-basic');
  const cfg = await edgeTestConfig(await tempDir(t), relay.url, [{ name: 'aux', cameraId: '20', url: persons.url, loop: true, livePort: 0 }]);
  cfg.edge.models.publicKey = await registry.publicKey();
  cfg.edge.heartbeatSeconds = 5;
  cfg.edge.deviceId = 'edge-e2e';
  const { cameras, problems } = parseCameras(cfg.edge);
  t.same(problems, []);
  const edge = new EdgeService(cfg, cameras, createLogger({ level: 'silent' }));
  t.teardown(() => edge.close());
  await edge.start();

  let row: DeviceRow | undefined;
  const devices = async () => {
    const res = await request(`${relay.url}/admin/devices`, { headers: { authorization: `Bearer ${relay.ctx.adminToken}` } });
    row = ((await res.body.json()) as { data: { devices: DeviceRow[] } }).data.devices.find((d) => d.deviceId === 'edge-e2e');
    return row;
  };
  await waitFor(async () => {
    const r = await devices();
    return r?.model?.name === 'default' && (r.detector?.runs ?? 0) > 0 && r.cameras?.[0]?.state === 'running';
  }, 90_000, 'a heartbeat with the registry model, detector runs and the camera running');
  t.match(row, {
    account: 'mine001',
    mineIds: [MINE],
    kind: 'eseal-edge',
    software: { name: 'eseal-edge' },
    model: { name: 'default', version: '2', sm3: day.sm3 },
    intervalSeconds: 5,
    cameras: [{ cameraId: '20', state: 'running' }],
  });
  t.ok(row!.detector!.p50Ms > 0 && row!.detector!.p95Ms >= row!.detector!.p50Ms, 'latency percentiles measured');
  t.ok(row!.cameras![0]!.lastFrameAt! > row!.startedAt!, 'the last frame time');
  t.ok((row!.calls['edge.heartbeat'] ?? 0) >= 1);

  // bound to night: the next heartbeat's answer makes the edge poll now, and it runs night
  const put = await request(`${relay.url}/admin/models/bindings`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${relay.ctx.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ bindings: [{ target: { device: 'edge-e2e' }, model: 'night' }] }),
  });
  t.equal(put.statusCode, 200);
  await put.body.dump();
  const detector = () => edge.status().detector as { model: string };
  await waitFor(() => detector().model === 'night@1', 60_000, 'the detector runs the bound model');
  await waitFor(async () => (await devices())?.model?.name === 'night', 30_000, 'the heartbeat reports it');
  t.match(row, { model: { name: 'night', version: '1', sm3: night.sm3 }, boundModel: { name: 'night', target: 'device edge-e2e' } });
  t.notOk(row!.alerts.includes('model differs from binding'));
});
