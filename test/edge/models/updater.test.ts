import { randomBytes } from 'node:crypto';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import t from 'tap';
import { generateSm2KeyPair } from '../../../src/crypto/sm2.ts';
import { ManifestBadSignature, ManifestUnsigned, ManifestWrongKey } from '../../../src/models/errors.ts';
import { signManifest, verifyManifest } from '../../../src/models/manifest.ts';
import { ModelRegistry } from '../../../relay/models/ModelRegistry.ts';
import { ModelUpdater, STATE_FILE, type InstalledModel, type ModelRefusal, type ModelUpdaterOptions } from '../../../edge/models/ModelUpdater.ts';
import { ModelDownload, ModelHash, ModelReplay, ModelSize } from '../../../edge/models/updaterErrors.ts';
import { relayWithMine, tempDir } from '../../helpers/relay.ts';

// A tiny ONNX model written by hand (onnx.proto field numbers): y = Identity(x), x float[1,3].
function field(no: number, body: Buffer | string | number): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n > 127; n = Math.floor(n / 128)) out.push((n & 127) | 128);
    out.push(n);
    return Buffer.from(out);
  };
  if (typeof body === 'number') return Buffer.concat([varint(no << 3), varint(body)]);
  const bytes = Buffer.from(body);
  return Buffer.concat([varint((no << 3) | 2), varint(bytes.length), bytes]);
}
function identityOnnx(): Buffer {
  const valueInfo = (name: string) =>
    Buffer.concat([
      field(1, name),
      field(2, field(1, Buffer.concat([field(1, 1), field(2, Buffer.concat([field(1, field(1, 1)), field(1, field(1, 3))]))]))),
    ]);
  const node = Buffer.concat([field(1, 'x'), field(2, 'y'), field(4, 'Identity')]);
  const graph = Buffer.concat([field(1, node), field(2, 'g'), field(11, valueInfo('x')), field(12, valueInfo('y'))]);
  return Buffer.concat([field(1, 7), field(2, 'eseal-test'), field(7, graph), field(8, Buffer.concat([field(1, ''), field(2, 13)]))]);
}

t.test('the edge installs a published model from a real relay and refuses anything it cannot trust', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const registry = new ModelRegistry(relay.dataDir);
  const src = await tempDir(t);
  const edgeDir = join(await tempDir(t), 'models');
  const trusted = await registry.publicKey();
  let staleAsked = 0;
  let tokens = async (stale?: boolean) => {
    if (stale) staleAsked++;
    return mine.token;
  };
  const options: ModelUpdaterOptions = {
    baseUrl: relay.url,
    getToken: (stale) => tokens(stale),
    trustedPublicKey: trusted,
    dir: edgeDir,
    wanted: 'default',
    pollSeconds: 3600,
  };
  const updater = new ModelUpdater(options);
  t.teardown(() => updater.close());
  const installed: InstalledModel[] = [];
  const refused: ModelRefusal[] = [];
  updater.on('model', (m) => installed.push(m));
  updater.on('refused', (r) => refused.push(r));
  t.equal(await updater.load(), undefined);
  t.same(await updater.checkNow(), { outcome: 'absent', reason: 'the relay has no model manifest yet' });

  // v1: a real ONNX file; it loads in onnxruntime once installed
  const onnx = identityOnnx();
  await writeFile(join(src, 'v1.onnx'), onnx);
  await registry.publish(join(src, 'v1.onnx'), { name: 'default', version: '1' });
  const r1 = await updater.checkNow();
  t.equal(r1.outcome, 'installed');
  t.equal(installed.length, 1);
  const v1 = installed[0]!;
  t.same({ name: v1.name, version: v1.version }, { name: 'default', version: '1' });
  t.ok((await readFile(v1.path)).equals(onnx));
  const session = await ort.InferenceSession.create(v1.path);
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]) });
  t.same(Array.from(out['y']!.data as Float32Array), [1, 2, 3], 'the installed model runs');
  await session.release();
  t.equal((await updater.checkNow()).outcome, 'current');
  t.equal(installed.length, 1, 'no second swap for the same model');

  // another name in the manifest, not ours
  await writeFile(join(src, 'other.onnx'), randomBytes(50));
  await registry.publish(join(src, 'other.onnx'), { name: 'night', version: '1' });
  t.equal((await updater.checkNow()).outcome, 'current');
  const goodV1Manifest = await registry.manifestBytes();

  // v2 on the relay but its file altered there (same size): refused, v1 kept
  const v2bytes = randomBytes(40_000);
  await writeFile(join(src, 'v2.onnx'), v2bytes);
  const { entry: e2 } = await registry.publish(join(src, 'v2.onnx'), { name: 'default', version: '2' });
  const relayFile = join(registry.dir, e2.file);
  const altered = Buffer.from(v2bytes);
  altered[1000] = altered[1000]! ^ 0xff;
  await writeFile(relayFile, altered);
  const hashRefused = await updater.checkNow();
  t.match(hashRefused, { outcome: 'refused', code: ModelHash.code });
  t.match(refused.at(-1)!.reason, /SM3 is [0-9a-f]{64}, the manifest states/);
  t.equal(updater.installed()?.version, '1', 'v1 kept');

  // truncated on the relay: refused
  await truncate(relayFile, 10_000);
  t.match(await updater.checkNow(), { outcome: 'refused', code: ModelSize.code, reason: /got 10000 bytes, the manifest states 40000/ });
  // longer than the manifest says: refused without reading it all
  await writeFile(relayFile, Buffer.concat([v2bytes, randomBytes(100_000)]));
  t.match(await updater.checkNow(), { outcome: 'refused', code: ModelSize.code, reason: /longer than/ });

  // the manifest altered, unsigned, or signed by another key: refused
  const good = (await registry.manifestBytes())!.toString('utf8');
  const manifestPath = join(registry.dir, 'manifest.json');
  await writeFile(manifestPath, good.replace('"version": "2"', '"version": "3"'));
  t.match(await updater.checkNow(), { outcome: 'refused', code: ManifestBadSignature.code });
  const parsed = JSON.parse(good) as Record<string, unknown>;
  const { signature: _s, ...unsigned } = parsed;
  await writeFile(manifestPath, JSON.stringify(unsigned));
  t.match(await updater.checkNow(), { outcome: 'refused', code: ManifestUnsigned.code });
  const stranger = generateSm2KeyPair();
  await writeFile(manifestPath, JSON.stringify(signManifest(unsigned as never, stranger.privateKeyHex)));
  t.match(await updater.checkNow(), { outcome: 'refused', code: ManifestWrongKey.code });
  t.equal(updater.installed()?.version, '1');
  t.equal(installed.length, 1, 'never swapped');
  t.ok(refused.length >= 6, 'each refusal emitted');
  t.same((await readdir(edgeDir)).filter((n) => n.startsWith('.download-')), [], 'no temp files left');

  // the relay fixed: v2 installs, once the token is renewed after the relay refused the old one
  await writeFile(relayFile, v2bytes);
  await writeFile(manifestPath, good);
  await relay.ctx.tokens.revokeUser('mine001');
  const oldToken = mine.token;
  await mine.login();
  t.not(mine.token, oldToken);
  let firstCall = true;
  tokens = async (stale) => {
    if (stale) staleAsked++;
    const token = firstCall ? oldToken : mine.token;
    firstCall = false;
    return token;
  };
  const r2 = await updater.checkNow();
  t.match(r2, { outcome: 'installed', model: { version: '2' } });
  t.equal(staleAsked, 1, 'asked once for a fresh token');
  t.equal(installed.at(-1)?.version, '2');
  t.ok((await readFile(installed.at(-1)!.path)).equals(v2bytes));
  // the previous model's file stays (the pipeline may still run it); v1 is still on disk
  t.ok((await readFile(v1.path)).equals(onnx));

  // an older manifest replayed (validly signed): refused
  await writeFile(manifestPath, goodV1Manifest!);
  t.match(await updater.checkNow(), { outcome: 'refused', code: ModelReplay.code });
  t.equal(updater.installed()?.version, '2');
  await writeFile(manifestPath, good);

  // a restart: the installed version is remembered without the network
  await updater.close();
  const state = JSON.parse(await readFile(join(edgeDir, STATE_FILE), 'utf8')) as { entry: { version: string } };
  t.equal(state.entry.version, '2');
  const unreachable = new ModelUpdater({ ...options, baseUrl: 'http://127.0.0.1:9' });
  t.teardown(() => unreachable.close());
  const remembered = await unreachable.load();
  t.same({ version: remembered?.version, path: remembered?.path }, { version: '2', path: installed.at(-1)!.path });
  const down = await unreachable.checkNow();
  t.match(down, { outcome: 'refused', code: ModelDownload.code });
  t.equal(unreachable.installed()?.version, '2');

  // a model file altered on the edge's disk is not trusted at start
  await writeFile(remembered!.path, randomBytes(10));
  const restarted = new ModelUpdater(options);
  t.teardown(() => restarted.close());
  t.equal(await restarted.load(), undefined);
  const repaired = new Promise<InstalledModel>((resolve) => restarted.once('model', resolve));
  await restarted.start();
  t.equal((await repaired).version, '2', 'downloaded again by the first poll');
  t.same(verifyManifest(JSON.parse(good), trusted).models.map((m) => m.name), ['default', 'night']);
});
