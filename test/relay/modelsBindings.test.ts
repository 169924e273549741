// Model bindings: the console's admin routes on a real relay write them into the signed manifest,
// and the edge's real ModelUpdater follows the one that names it (device > account > mine) over
// its configured model; a push re-signs without losing files; a manifest without bindings is
// written as before.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { ModelUpdater } from '../../edge/models/ModelUpdater.ts';
import { ManifestBadSignature, ManifestMalformed } from '../../src/models/errors.ts';
import { signManifest, verifyManifest, type ModelBinding } from '../../src/models/manifest.ts';
import { generateSm2KeyPair } from '../../src/crypto/sm2.ts';
import type { ModelsView } from '../../relay/models/modelAdminRoutes.ts';
import { ModelRegistry } from '../../relay/models/ModelRegistry.ts';
import { MINE, relayWithMine, tempDir } from '../helpers/relay.ts';

t.test('bindings set through the admin API are signed, pushed and followed by the edge', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const call = async (method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown, token: string | null = relay.ctx.adminToken) => {
    const res = await request(relay.url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: (await res.body.json()) as { code: number; msg: string; data: ModelsView } };
  };
  const put = (bindings: unknown) => call('PUT', '/admin/models/bindings', { bindings });

  t.same((await call('GET', '/admin/models')).body, { code: 0, msg: 'success', data: { bindings: [] } }, 'nothing published');
  const early = await put([{ target: { device: 'edge-01' }, model: 'default' }]);
  t.equal(early.status, 404);
  t.match(early.body.msg, /publish a model before binding it/);
  t.equal((await call('GET', '/admin/models', undefined, null)).status, 401, 'the admin token is required');
  t.equal((await call('GET', '/admin/models', undefined, mine.token)).status, 401, "a mine's token is not the admin token");

  const registry = new ModelRegistry(relay.dataDir);
  const src = await tempDir(t);
  await writeFile(join(src, 'default.onnx'), randomBytes(1000));
  await writeFile(join(src, 'night.onnx'), randomBytes(2000));
  const { entry: day } = await registry.publish(join(src, 'default.onnx'), { name: 'default', version: '1' });
  const { entry: night } = await registry.publish(join(src, 'night.onnx'), { name: 'night', version: '3' });
  const raw = await readFile(join(registry.dir, 'manifest.json'), 'utf8');
  t.notOk('bindings' in JSON.parse(raw), 'a manifest without bindings has no bindings member (old edges read it as before)');

  const listed = await call('GET', '/admin/models');
  t.same(listed.body.data.manifest?.models, [
    { name: 'default', version: '1', sm3: day.sm3, bytes: 1000, inputSize: 512 },
    { name: 'night', version: '3', sm3: night.sm3, bytes: 2000, inputSize: 512 },
  ]);
  t.same(listed.body.data.bindings, []);

  // bad bindings: the field named, nothing written
  const before = await registry.manifestBytes();
  const bad: [unknown, RegExp][] = [
    [undefined, /^bindings: required/],
    [[{ target: { device: 'edge-01' }, model: 'ghost' }], /^bindings\[0\]\.model: no model "ghost" is published \(published: default, night\)/],
    [[{ target: { city: 'x' }, model: 'night' }], /^bindings\[0\]\.target: must be exactly one of/],
    [[{ target: { device: 'a', mine: MINE }, model: 'night' }], /^bindings\[0\]\.target: /],
    [[{ target: { mine: '123' }, model: 'night' }], /^bindings\[0\]\.target/],
    [[{ target: { device: 'e' }, model: 'night' }, { target: { device: 'e' }, model: 'default' }], /^bindings\[1\]\.target: device e is bound twice/],
    ['night', /^bindings: must be a list/],
  ];
  for (const [bindings, msg] of bad) {
    const r = bindings === undefined ? await call('PUT', '/admin/models/bindings', {}) : await put(bindings);
    t.equal(r.status, 400, JSON.stringify(bindings));
    t.match(r.body.msg, msg);
  }
  t.ok((await registry.manifestBytes())!.equals(before!), 'the manifest is untouched by refused bindings');

  // the edge follows its configured model until a binding names it
  const edgeDir = join(await tempDir(t), 'models');
  const updater = new ModelUpdater({
    baseUrl: relay.url,
    getToken: async () => mine.token,
    trustedPublicKey: await registry.publicKey(),
    dir: edgeDir,
    wanted: 'default',
    identity: { deviceId: 'edge-01', account: 'mine001', mineId: MINE },
    pollSeconds: 3600,
  });
  t.teardown(() => updater.close());
  t.equal(await updater.load(), undefined);
  const firstCheck = await updater.checkNow();
  t.match(firstCheck, { outcome: 'installed', model: { name: 'default' } }, JSON.stringify(firstCheck));
  t.equal(updater.following(), 'default');

  const follows = async (bindings: ModelBinding[], name: string, what: string) => {
    const r = await put(bindings);
    t.equal(r.status, 200, what);
    t.same(r.body.data.bindings, bindings, `${what}: answered with the bindings`);
    const result = await updater.checkNow();
    t.equal(updater.installed()?.name, name, what);
    t.equal(updater.following(), name, `${what}: following`);
    return result;
  };
  t.match(await follows([{ target: { mine: MINE }, model: 'night' }], 'night', 'a binding of its mine'), { outcome: 'installed' });
  await follows(
    [
      { target: { mine: MINE }, model: 'night' },
      { target: { device: 'edge-01' }, model: 'default' },
    ],
    'default',
    'its device binding over its mine binding',
  );
  await follows(
    [
      { target: { mine: MINE }, model: 'default' },
      { target: { account: 'mine001' }, model: 'night' },
      { target: { device: 'edge-02' }, model: 'default' },
    ],
    'night',
    'its account binding over its mine binding; another device not it',
  );
  const signed = verifyManifest(JSON.parse(await readFile(join(registry.dir, 'manifest.json'), 'utf8')), await registry.publicKey());
  t.equal(signed.bindings?.length, 3, 'the bindings are in the signed manifest');

  // a restart remembers the bound model without the network
  const restarted = new ModelUpdater({ baseUrl: 'http://127.0.0.1:9', getToken: async () => '', trustedPublicKey: await registry.publicKey(), dir: edgeDir, wanted: 'default', pollSeconds: 3600 });
  t.teardown(() => restarted.close());
  t.equal((await restarted.load())?.name, 'night', 'the bound model installed before is put back at start');

  // a binding altered on the way is tampering
  const tampered = JSON.parse(await readFile(join(registry.dir, 'manifest.json'), 'utf8')) as { bindings: ModelBinding[] };
  tampered.bindings[1]!.model = 'default';
  t.throws(() => verifyManifest(tampered, signed.signature.publicKey), { code: ManifestBadSignature.code });
  // a signed manifest whose binding names no listed model is refused
  const stranger = generateSm2KeyPair();
  t.throws(
    () => signManifest({ ...signed, bindings: [{ target: { device: 'x' }, model: 'ghost' }] }, stranger.privateKeyHex),
    { code: ManifestMalformed.code, field: 'bindings[0].model' },
  );

  // the push: same content, a later issuedAt, every file kept
  const pushed = await call('POST', '/admin/models/push');
  t.equal(pushed.status, 200);
  t.ok(pushed.body.data.manifest!.issuedAt > Date.parse(signed.issuedAt), 'issuedAt grows');
  t.equal(pushed.body.data.bindings.length, 3, 'bindings kept');
  const files = (await readdir(registry.dir)).filter((n) => n.endsWith('.onnx')).sort();
  t.same(files, [`${day.sm3}.onnx`, `${night.sm3}.onnx`].sort(), 'both models still served');
  t.equal((await updater.checkNow()).outcome, 'current', 'nothing to download after a push');

  // bindings removed: back to the configured model
  await follows([], 'default', 'no binding');
  t.notOk('bindings' in JSON.parse(await readFile(join(registry.dir, 'manifest.json'), 'utf8')), 'no bindings member again');

  // removing a bound model drops its bindings
  await put([{ target: { device: 'edge-01' }, model: 'night' }]);
  await registry.remove('night');
  t.same((await call('GET', '/admin/models')).body.data.bindings, [], 'the binding to the removed model is gone');
  t.equal((await updater.checkNow()).outcome !== 'refused', true);
  t.equal(updater.installed()?.name, 'default');
});
