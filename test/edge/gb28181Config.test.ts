// edge.gb28181 and gb28181:// cameras in the configuration: the URL forms, ids named by field,
// the token a secret (never echoed, never in a redacted URL), the environment overrides.
import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAppConfig as loadConfig } from '../../app/config.ts';
import { parseCameras } from '../../edge/config.ts';
import { redactSecrets } from '../../edge/capture/sourceUrl.ts';
import { FfmpegCapture } from '../../edge/capture/FfmpegCapture.ts';
import { gbLiveUrl } from '../../src/contract/gb28181.ts';
import { tempDir } from '../helpers/tempDir.ts';

const DEV = '34020000001320000001';
const CH = '34020000001310000001';
const TOKEN = 'Zq3-_x8s7Uv0aaaaBBBBccccDDDDeeee';

async function load(t: Test, yaml: string, env: Record<string, string> = {}) {
  const dir = await tempDir(t);
  const file = join(dir, 'eseal.yaml');
  await writeFile(file, yaml);
  return loadConfig({ file, env });
}

t.test('gb28181:// cameras and the default bridge (this server, the token file)', async (t) => {
  const cfg = await load(
    t,
    `
edge:
  mineId: "140421007866"
  cameras:
    - { name: gb1, cameraId: "20", url: "gb28181://${DEV}/${CH}" }
    - { name: gb2, cameraId: "50", url: " GB28181://${DEV}/34020000001310000002/ " }
`,
  );
  t.same(cfg.edge.gb28181, { url: '', token: '' }, "'' and '': the bridge on this server, its token file");
  const { cameras, problems } = parseCameras(cfg.edge);
  t.same(problems, []);
  t.same(cameras.map((c) => c.source.kind), ['gb28181', 'gb28181']);
  t.same(cameras[1]!.source.gb, { deviceId: DEV, channelId: '34020000001310000002' });
  t.equal(cameras[1]!.source.redacted, `gb28181://${DEV}/34020000001310000002`);
});

t.test('a bridge on another server: url and token, from the file or the environment', async (t) => {
  const yaml = `edge:\n  gb28181: { url: "http://10.1.2.3:9092", token: "${TOKEN}" }\n`;
  const cfg = await load(t, yaml);
  t.same(cfg.edge.gb28181, { url: 'http://10.1.2.3:9092', token: TOKEN });
  const env = await load(t, 'edge: {}\n', { ESEAL_EDGE_GB28181_URL: 'https://bridge.mine.example:9443/', ESEAL_EDGE_GB28181_TOKEN: TOKEN });
  t.same(env.edge.gb28181, { url: 'https://bridge.mine.example:9443/', token: TOKEN });
  for (const url of ['http://[fd00::5]:9092', 'http://bridge', '']) {
    t.equal((await load(t, `edge:\n  gb28181: { url: "${url}" }\n`)).edge.gb28181.url, url, url || "''");
  }
});

t.test('bad bridge settings are named by field; a bad token is not echoed', async (t) => {
  for (const url of ['ftp://10.1.2.3:9092', 'http://10.1.2.3:9092/live', 'http://h:9092?token=x', '10.1.2.3:9092']) {
    await t.rejects(load(t, `edge:\n  gb28181: { url: "${url}" }\n`), /edge\.gb28181\.url: /, url);
  }
  const err = (await load(t, 'edge:\n  gb28181: { token: "tooshort-secret" }\n').catch((e: Error) => e)) as Error;
  t.match(err.message, /edge\.gb28181\.token: /);
  t.notMatch(err.message, 'tooshort-secret', 'the secret is not echoed');
  await t.rejects(load(t, 'edge: {}\n', { ESEAL_EDGE_GB28181_TOKEN: 'has space in it 0123456789' }), /edge\.gb28181\.token/);
});

t.test('bad gb28181:// cameras are named by field and part', async (t) => {
  const cfg = await load(
    t,
    `
edge:
  mineId: "140421007866"
  cameras:
    - { name: a, cameraId: "20", url: "gb28181://${DEV}" }
    - { name: b, cameraId: "20", url: "gb28181://3402000000132000000X/${CH}" }
    - { name: c, cameraId: "20", url: "gb28181://${DEV}/1" }
    - { name: d, cameraId: "20", url: "gb28181://${DEV}/${CH}", loop: true }
`,
  );
  const { cameras, problems } = parseCameras(cfg.edge);
  const text = problems.join('\n');
  t.match(text, /edge\.cameras\[0\]\.url: camera source gb28181:\/\/34020000001320000001: a GB\/T 28181 channel is written gb28181:\/\/<device id>\/<channel id>/);
  t.match(text, /edge\.cameras\[1\]\.url: .*the device id "3402000000132000000X" is not a 20-digit GB\/T 28181 code/);
  t.match(text, /edge\.cameras\[2\]\.url: .*the channel id "1" is not a 20-digit GB\/T 28181 code/);
  t.match(text, /edge\.cameras\[3\]\.loop: only file:\/\/ cameras can loop \(this one is gb28181\)/);
  t.equal(problems.length, 4);
  t.equal(cameras.length, 0);
});

t.test('the live URL with its token is redacted; capture needs a bridge for gb28181://', async (t) => {
  const url = gbLiveUrl('http://127.0.0.1:9092', { deviceId: DEV, channelId: CH }, 'mp4', TOKEN);
  t.match(url, TOKEN);
  const red = redactSecrets(`GET ${url} failed`);
  t.notMatch(red, TOKEN);
  t.match(red, `/live/${DEV}/${CH}.mp4?token=[redacted] failed`);
  t.throws(() => new FfmpegCapture({ camera: 'x', url: `gb28181://${DEV}/${CH}` }), { code: 'ESEAL_ERR_CAPTURE_BAD_OPTIONS', field: 'gb28181' });
  t.throws(() => new FfmpegCapture({ camera: 'x', url: `gb28181://${DEV}/${CH}`, mode: 'replay', gb28181: { url: '', token: '', dataDir: '/tmp' } }), { code: 'ESEAL_ERR_CAPTURE_BAD_OPTIONS', field: 'mode' });
});
