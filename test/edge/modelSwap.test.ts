// Models that update themselves, end to end: the province publishes a model at the relay, a running
// edge finds it, checks its signature and hash, and its detector switches to it while the camera
// goes on streaming; a model signed by another key is refused and the running one kept.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { createLogger } from '../../src/log.ts';
import { generateSm2KeyPair } from '../../src/crypto/sm2.ts';
import { EdgeService } from '../../edge/EdgeService.ts';
import { parseCameras } from '../../edge/config.ts';
import { defaultCacheDir } from '../../edge/eval/darknetPhotos.ts';
import { COCO_CLASS_MAP } from '../../edge/models/coco.ts';
import { ensureDefaultModel } from '../../edge/models/buildDefault.ts';
import { ModelRegistry } from '../../relay/models/ModelRegistry.ts';
import { edgeTestConfig, quickClip } from '../helpers/edge.ts';
import { waitFor } from '../helpers/forwarding.ts';
import { relayWithMine, tempDir } from '../helpers/relay.ts';

async function edgeFor(t: Test, relayUrl: string, publicKey: string, dataDir?: string): Promise<EdgeService> {
  const dir = dataDir ?? (await tempDir(t));
  const persons = await quickClip('persons-basic');
  const cfg = await edgeTestConfig(dir, relayUrl, [{ name: 'aux', cameraId: '20', url: persons.url, loop: true, livePort: 0 }]);
  cfg.edge.models.publicKey = publicKey;
  const { cameras, problems } = parseCameras(cfg.edge);
  t.same(problems, []);
  const edge = new EdgeService(cfg, cameras, createLogger({ level: 'silent' }));
  t.teardown(() => edge.close());
  return edge;
}

t.test('a model published at the relay is verified and hot-swapped by a running edge', async (t) => {
  const { relay } = await relayWithMine(t);
  const registry = new ModelRegistry(relay.dataDir);
  // the same CenterNet, converted at another input size: a real model the detector can load
  const small = await ensureDefaultModel(join(defaultCacheDir(), 'models'), 320);
  await registry.publish(small.path, {
    name: 'default',
    version: '2',
    inputSize: 320,
    layout: 'nhwc',
    decoder: 'centernet',
    classes: { ...COCO_CLASS_MAP },
    normalisation: { mean: [0, 0, 0], std: [1, 1, 1] },
  });

  const dir = await tempDir(t);
  const edge = await edgeFor(t, relay.url, await registry.publicKey(), dir);
  await edge.start();
  const detector = () => edge.status().detector as { model: string; inputSize: number; framesRun: number };
  await waitFor(() => detector().model === 'default@2', 60_000, 'the detector runs the published model');
  t.equal(detector().inputSize, 320);
  const frames = edge.status().cameras[0]!.frames;
  await waitFor(() => edge.status().cameras[0]!.frames > frames + 10 && detector().framesRun > 0, 30_000, 'the camera streams on');
  t.equal(edge.status().cameras[0]!.online, true, 'the camera never went offline');
  await edge.close();

  // after a restart the installed model runs from the start, whether or not the registry answers
  const again = await edgeFor(t, 'http://127.0.0.1:9', await registry.publicKey(), dir);
  await again.start();
  t.equal((again.status().detector as { model: string }).model, 'default@2', 'the registry model is back before any poll');
});

t.test('a model signed by another key is refused; the running model is kept', async (t) => {
  const { relay } = await relayWithMine(t);
  const registry = new ModelRegistry(relay.dataDir);
  const small = await ensureDefaultModel(join(defaultCacheDir(), 'models'), 320);
  await registry.publish(small.path, { name: 'default', version: '2', inputSize: 320, layout: 'nhwc', decoder: 'centernet', classes: { ...COCO_CLASS_MAP }, normalisation: { mean: [0, 0, 0], std: [1, 1, 1] } });

  const edge = await edgeFor(t, relay.url, generateSm2KeyPair().publicKeyHex);
  await edge.start();
  const detector = () => edge.status().detector as { model: string; framesRun: number };
  await waitFor(() => detector().framesRun > 5, 60_000, 'the detector runs');
  await waitFor(() => edge.status().modelRefused !== undefined, 30_000, 'the refusal');
  t.equal(edge.status().modelRefused!.code, 'ESEAL_ERR_MODEL_KEY', 'refused for its key');
  t.match(detector().model, /^centernet-mbv3-512$/, 'still the default model');
});

t.test('a camera with a model of its own runs on its own detector', async (t) => {
  const { relay } = await relayWithMine(t);
  const dir = await tempDir(t);
  const persons = await quickClip('persons-basic');
  const own = await ensureDefaultModel(join(defaultCacheDir(), 'models'), 320);
  const cfg = await edgeTestConfig(dir, relay.url, [{ name: 'aux', cameraId: '20', url: persons.url, loop: true, livePort: 0, model: own.path }]);
  const { cameras, problems } = parseCameras(cfg.edge);
  t.same(problems, []);
  const edge = new EdgeService(cfg, cameras, createLogger({ level: 'silent' }));
  t.teardown(() => edge.close());
  await edge.start();
  t.equal(edge.status().detector, undefined, 'no shared detector: no camera needs it');
  const ownStats = () => edge.status().ownDetectors[own.path] as { framesRun: number; inputSize: number } | undefined;
  await waitFor(() => (ownStats()?.framesRun ?? 0) > 5, 30_000, 'the camera\'s own detector runs');
  t.equal(ownStats()!.inputSize, 320);
  t.ok(edge.status().cameras[0]!.online);
  t.same(parseCameras({ ...cfg.edge, cameras: [{ ...cfg.edge.cameras[0]!, model: 'shaft.pt' }] }).problems, [
    'edge.cameras[0].model: must be the path of an .onnx file (with its .json detector contract beside it), got "shaft.pt"',
  ]);
});
