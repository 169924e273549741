// edge.cameras from YAML: every mistake named by its full path, defaults by the camera's place.
import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAppConfig as loadConfig } from '../../app/config.ts';
import { parseCameras } from '../../edge/config.ts';
import { checkRoles, selectRoles } from '../../app/start.ts';
import { tempDir } from '../helpers/relay.ts';

async function load(t: Test, yaml: string) {
  const dir = await tempDir(t);
  const file = join(dir, 'eseal.yaml');
  await writeFile(file, yaml);
  return loadConfig({ file, env: {} });
}

t.test('four cameras, one per place, get their analyses', async (t) => {
  const cfg = await load(
    t,
    `
roles: [relay, edge]
edge:
  mineId: "140421007866"
  report: { url: https://127.0.0.1:8443, username: mine001, password: secret }
  cameras:
    - { name: main, cameraId: "10", url: "file:clips/belt.mp4", loop: true, analyses: { belt: { roi: [[0.1,0.3],[0.9,0.3],[0.9,0.7],[0.1,0.7]], direction: right } } }
    - { name: aux, cameraId: "20", url: "rtsp://admin:pw@10.0.0.9/ch1" }
    - { name: gate, cameraId: 30, url: "file:///clips/gate.mp4", analyses: { truck: { line: [[0.5,0],[0.5,1]], towards: [1,0.5] }, moved: false } }
    - { name: room, cameraId: "40", url: "file:///clips/room.mp4", livePort: 9000 }
`,
  );
  t.same(cfg.roles, ['relay', 'edge']);
  const { cameras, problems } = parseCameras(cfg.edge);
  t.same(problems, []);
  t.same(cameras.map((c) => Object.keys(c.analyses).sort()), [
    ['belt', 'moved', 'occlusion'],
    ['moved', 'occlusion', 'person'],
    ['occlusion', 'truck'],
    ['dispatchRoom', 'moved', 'occlusion'],
  ]);
  t.equal(cameras[2]!.cameraId, '30', 'a number is read as the 2-digit code');
  t.same(cameras.map((c) => c.livePort), [8090, 8091, 8092, 9000], 'live ports count up from basePort');
  t.equal(cameras[0]!.loop, true);
  t.equal(cameras[1]!.source.redacted.includes('pw'), false, 'the camera password is not in the redacted URL');
  t.same(await checkRoles(cfg, ['relay', 'edge']), []);
  t.same(selectRoles(cfg, undefined), ['relay', 'edge']);
  t.same(selectRoles(cfg, 'edge'), ['edge']);
  t.throws(() => selectRoles(cfg, 'edge,nvr'), /--roles: must be a comma-separated list of relay, edge/);
});

t.test('every mistake is named by its path', async (t) => {
  const cfg = await load(
    t,
    `
edge:
  mineId: "140421007866"
  cameras:
    - { name: aux, cameraId: "2", url: "ftp://x" }
    - { name: aux, cameraId: "20", url: "file:///a.mp4", lopp: true, analyses: { person: { line: [[0.1, 2], [0.9, 0.5]], towards: [0.5, 0.9] }, smoke: {} } }
    - { name: gb, cameraId: "30", url: "gb28181://3402000000132000000/34020000001320000001" }
`,
  );
  const { cameras, problems } = parseCameras(cfg.edge);
  const text = problems.join('\n');
  t.match(text, /edge\.cameras\[0\]\.cameraId: must be the guide's 2-digit camera code/);
  t.match(text, /edge\.cameras\[0\]\.url: /);
  t.match(text, /edge\.cameras\[1\]\.name: aux is used by another camera/);
  t.match(text, /edge\.cameras\[1\]\.lopp: unknown key/);
  t.match(text, /edge\.cameras\[1\]\.analyses\.smoke: unknown analysis/);
  t.match(text, /edge\.cameras\[1\]\.analyses\.person\.line/);
  t.match(text, /edge\.cameras\[2\]\.url: .*the device id "3402000000132000000" is not a 20-digit GB\/T 28181 code/);
  t.equal(cameras.length, 0, 'no camera with a problem is used');
  const roleProblems = await checkRoles({ ...cfg, roles: ['edge'] }, ['edge']);
  t.match(roleProblems.join('\n'), /edge\.report\.username: required/);
});

t.test('the loader refuses a camera list that is not a list of mappings', async (t) => {
  await t.rejects(load(t, 'edge:\n  cameras: [file.mp4]\n'), /edge\.cameras\[0\]: must be a mapping \(name, cameraId, url, …\), got "file\.mp4"/);
  await t.rejects(load(t, 'roles: [relay, nvr]\n'), /roles\[1\]: must be a role name \(relay, edge[^)]*\), got "nvr"/);
});
