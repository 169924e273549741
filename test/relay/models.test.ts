import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { main } from '../../app/main.ts';
import type { CommandIO } from '../../src/cli/command.ts';
import { RESPONSE_CODES } from '../../src/contract/codes.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { ManifestMalformed, ModelNotFound, ModelPublish } from '../../src/models/errors.ts';
import { MODEL_PATHS, verifyManifest } from '../../src/models/manifest.ts';
import { ModelRegistry } from '../../relay/models/ModelRegistry.ts';
import { relayWithMine, tempDir } from '../helpers/relay.ts';

function io(): CommandIO & { text: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (l) => out.push(l), err: (l) => err.push(l), stdin: async () => '', text: () => out.join('\n'), errText: () => err.join('\n') };
}

t.test('the registry routes: token required, manifest and files served as published by the CLI', async (t) => {
  const { relay, mine } = await relayWithMine(t);
  const dir = await tempDir(t);
  const cli = async (...argv: string[]) => {
    const x = io();
    const code = await main(argv, x, { ESEAL_DATA_DIR: relay.dataDir });
    return { code, out: x.text(), err: x.errText() };
  };
  const get = async (path: string, token: string | null = mine.token, headers: Record<string, string> = {}) => {
    const res = await request(relay.url + path, { headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...headers } });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) as { code: number; msg: string; data: unknown } };
  };

  // no token, a wrong token: 401 in the API's envelope
  for (const token of [null, 'not-a-token']) {
    for (const path of [MODEL_PATHS.manifest, MODEL_PATHS.file('a'.repeat(64))]) {
      const r = await get(path, token);
      t.equal(r.status, 401, `${path} with ${token ?? 'no token'}`);
      t.equal(r.json().code, RESPONSE_CODES.failure);
      t.match(r.json().msg, /token expire/);
    }
  }
  const none = await get(MODEL_PATHS.manifest);
  t.equal(none.status, 404);
  t.match(none.json().msg, /no model has been published/);

  const key = await cli('models', 'key');
  t.equal(key.code, 0, key.err);
  const publicKey = key.out.trim();
  t.match(publicKey, /^04[0-9a-f]{128}$/);
  t.equal((await readFile(join(relay.dataDir, 'models.pub'), 'utf8')).trim(), publicKey);
  t.equal((await stat(join(relay.dataDir, 'models.key'))).mode & 0o777, 0o600, 'private key 0600');
  t.equal((await cli('models', 'key')).out.trim(), publicKey, 'the same key next time');

  // the registry does not care what is inside a model
  const v1 = randomBytes(70_000);
  await writeFile(join(dir, 'm1.onnx'), v1);
  const pub = await cli('models', 'publish', join(dir, 'm1.onnx'), '--name', 'default', '--version', '1.0', '--input-size', '320', '--decoder', 'boxes', '--classes', '0=person,3=vehicle');
  t.equal(pub.code, 0, pub.err);
  t.match(pub.out, /default 1\.0: 70000 bytes/);

  const m = await get(MODEL_PATHS.manifest);
  t.equal(m.status, 200);
  t.match(m.headers['content-type'], /application\/json/);
  const manifest = verifyManifest(JSON.parse(m.body.toString('utf8')), publicKey);
  t.equal(manifest.models.length, 1);
  const entry = manifest.models[0]!;
  t.same(
    { name: entry.name, version: entry.version, bytes: entry.bytes, sm3: entry.sm3, inputSize: entry.inputSize, decoder: entry.decoder, classes: entry.classes, layout: entry.layout },
    { name: 'default', version: '1.0', bytes: v1.length, sm3: sm3Hex(v1), inputSize: 320, decoder: 'boxes', classes: { '0': 'person', '3': 'vehicle' }, layout: 'nchw' },
  );
  t.equal(manifest.signature.publicKey, publicKey);

  const f = await get(MODEL_PATHS.file(entry.sm3));
  t.equal(f.status, 200);
  t.equal(f.headers['content-length'], String(v1.length));
  t.equal(f.headers['etag'], `"${entry.sm3}"`);
  t.ok(f.body.equals(v1), 'the file byte for byte');
  t.equal((await get(MODEL_PATHS.file(entry.sm3), mine.token, { 'if-none-match': `"${entry.sm3}"` })).status, 304);
  const missing = await get(MODEL_PATHS.file('b'.repeat(64)));
  t.equal(missing.status, 404);
  t.match(missing.json().msg, /not a model file of this registry/);
  t.equal((await get(`${MODEL_PATHS.filePrefix}..%2Fmanifest.json`)).status, 404, 'only <sm3>.onnx names');

  // a new version replaces the entry; the same version with other bytes is refused
  const v2 = randomBytes(5000);
  await writeFile(join(dir, 'm2.onnx'), v2);
  t.equal((await cli('models', 'publish', join(dir, 'm2.onnx'), '--name', 'default', '--version', '1.0')).code, 1);
  t.match((await cli('models', 'publish', join(dir, 'm2.onnx'), '--name', 'default', '--version', '1.0')).err, /published already with other content/);
  t.equal((await cli('models', 'publish', join(dir, 'm2.onnx'), '--name', 'default', '--version', '2.0')).code, 0);
  t.equal((await cli('models', 'publish', join(dir, 'm1.onnx'), '--name', 'night', '--version', '1')).code, 0);
  const ls = await cli('models', 'ls');
  t.match(ls.out, /default 2\.0: 5000 bytes/);
  t.match(ls.out, /night 1: 70000 bytes/);
  t.notMatch(ls.out, /default 1\.0/);
  const after = verifyManifest((await get(MODEL_PATHS.manifest)).json(), publicKey);
  t.same(after.models.map((x) => `${x.name}@${x.version}`), ['default@2.0', 'night@1']);
  t.ok(Date.parse(after.issuedAt) > Date.parse(manifest.issuedAt), 'issuedAt grows');

  const bad = await cli('models', 'publish', join(dir, 'm2.onnx'), '--name', 'x', '--version', '1', '--decoder', 'yolo');
  t.equal(bad.code, 1);
  t.match(bad.err, /meta\.decoder: must be one of centernet, boxes, got "yolo"/);
  t.match((await cli('models', 'publish', join(dir, 'nope.onnx'), '--name', 'x', '--version', '1')).err, /file: cannot read/);

  t.equal((await cli('models', 'rm', 'night')).code, 0);
  t.match((await cli('models', 'rm', 'night')).err, /no model "night"/);
  t.same(verifyManifest((await get(MODEL_PATHS.manifest)).json(), publicKey).models.map((x) => x.name), ['default']);
});

t.test('the registry keeps files by SM3, sweeps old ones, and checks the description before copying', async (t) => {
  const dataDir = await tempDir(t);
  const src = await tempDir(t);
  let clock = Date.parse('2025-01-01T00:00:00Z');
  const reg = new ModelRegistry(dataDir, { publisher: 'test', now: () => clock });
  t.equal(await reg.manifest(), undefined);
  const files: string[] = [];
  for (let i = 0; i < 3; i++) {
    const p = join(src, `m${i}.onnx`);
    await writeFile(p, randomBytes(100 + i));
    files.push(sm3Hex(await readFile(p)));
    const { entry } = await reg.publish(p, { name: 'default', version: String(i) });
    t.equal(entry.sm3, files[i]);
    t.same(entry.normalisation, { mean: [0, 0, 0], std: [255, 255, 255] }, 'defaults');
  }
  // the current and the previous manifest's files stay, older ones go
  const onDisk = (await readdir(reg.dir)).filter((n) => n.endsWith('.onnx')).sort();
  t.same(onDisk, [files[1]!, files[2]!].map((s) => `${s}.onnx`).sort());
  // the same name, version and bytes again changes nothing
  const before = await reg.manifestBytes();
  await reg.publish(join(src, 'm2.onnx'), { name: 'default', version: '2' });
  t.ok((await reg.manifestBytes())!.equals(before!));
  // a clock that went back still gives a later issuedAt (edges refuse older manifests)
  clock -= 86400_000;
  const later = await reg.publish(join(src, 'm0.onnx'), { name: 'other', version: '1' });
  t.ok(Date.parse(later.manifest.issuedAt) > Date.parse(verifyManifest(JSON.parse(before!.toString()), await reg.publicKey()).issuedAt));

  const count = (await readdir(reg.dir)).length;
  await t.rejects(reg.publish(join(src, 'm0.onnx'), { name: 'bad name', version: '1' }), { code: ManifestMalformed.code, field: 'meta.name' });
  await t.rejects(reg.publish(join(src, 'm0.onnx'), { name: 'x', version: '1', inputSize: 5 }), { code: ManifestMalformed.code, field: 'meta.inputSize' });
  t.equal((await readdir(reg.dir)).length, count, 'nothing copied for a refused description');
  await writeFile(join(src, 'empty.onnx'), '');
  await t.rejects(reg.publish(join(src, 'empty.onnx'), { name: 'x', version: '1' }), { code: ModelPublish.code });
  await t.rejects(reg.remove('ghost'), { code: ModelNotFound.code });
  t.equal(await reg.file('../../etc/passwd'), undefined);
  t.same(await reg.file(files[2]!), { path: join(reg.dir, `${files[2]}.onnx`), bytes: 102 });

  // a second registry object on the same data dir: the same key; concurrent publications in one process serialise
  const again = new ModelRegistry(dataDir);
  t.equal(await again.publicKey(), await reg.publicKey());
  await Promise.all([0, 1, 2].map((i) => again.publish(join(src, `m${i}.onnx`), { name: `c${i}`, version: '1' })));
  t.same((await again.manifest())!.models.map((m) => m.name), ['c0', 'c1', 'c2', 'default', 'other']);

  // a manifest altered on disk is not silently re-signed
  const path = join(reg.dir, 'manifest.json');
  await writeFile(path, (await readFile(path, 'utf8')).replace('"c0"', '"c9"'));
  await t.rejects(again.publish(join(src, 'm0.onnx'), { name: 'z', version: '1' }), { code: ModelPublish.code, message: /does not verify with the model key/ });
});
