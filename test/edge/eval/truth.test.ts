// The truth file parser: valid files pass, every malformed one is refused naming the bad field.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvalTruthInvalid } from '../../../edge/eval/errors.ts';
import { parseTruth, readTruthFile, truthProblems, writeTruthFile, type TruthFile } from '../../../edge/eval/truth.ts';

function valid(): TruthFile {
  return {
    format: 'eseal-truth/1',
    clip: 'belt-a.mp4',
    fps: 5,
    width: 704,
    height: 576,
    frames: 300,
    camera: {
      role: 'mainShaft',
      analyses: {
        belt: { roi: [[0.1, 0.4], [0.9, 0.4], [0.9, 0.7]], direction: 'right' },
        person: { line: [[0, 0.6], [1, 0.6]], towards: [0.5, 0.9] },
        occlusion: {},
      },
    },
    events: [
      { kind: 'belt', atSeconds: 6, beltStatus: '0002' },
      { kind: 'person', atSeconds: 12.5, count: 2, toleranceSeconds: 5 },
      { kind: 'occlusion', atSeconds: 30 },
    ],
    generator: 'belt/1 set/1',
  };
}

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (EvalTruthInvalid.is(err)) return err.field;
    throw err;
  }
  return undefined;
}

t.test('a valid file parses unchanged', async (t) => {
  const truth = valid();
  t.same(parseTruth(JSON.parse(JSON.stringify(truth))), truth);
  t.same(truthProblems(truth), []);
});

t.test('malformed files are refused with the path of the bad field', async (t) => {
  const cases: [string, (v: any) => void, string][] = [
    ['wrong format', (v) => (v.format = 'eseal-truth/2'), 'format'],
    ['clip not an mp4 name', (v) => (v.clip = '../x.mp4'), 'clip'],
    ['unknown top-level key', (v) => (v.evnets = []), 'evnets'],
    ['fps zero', (v) => (v.fps = 0), 'fps'],
    ['bad role', (v) => (v.camera.role = 'kitchen'), 'camera.role'],
    ['unknown analysis', (v) => (v.camera.analyses.smoke = {}), 'camera.analyses.smoke'],
    ['towards on the line', (v) => (v.camera.analyses.person.towards = [0.3, 0.6]), 'camera.analyses.person.towards'],
    ['line point out of range', (v) => (v.camera.analyses.person.line[1] = [1.2, 0.6]), 'camera.analyses.person.line[1][0]'],
    ['line points the same (a rule of the analysis)', (v) => (v.camera.analyses.person.line[1] = [0, 0.6]), 'camera.analyses.person.line'],
    ['an option out of the analysis range', (v) => (v.camera.analyses.occlusion = { holdSeconds: 4000 }), 'camera.analyses.occlusion.holdSeconds'],
    ['the old name of the dispatch room wait', (v) => (v.camera.analyses.dispatchRoom = { absentSeconds: 20 }), 'camera.analyses.dispatchRoom.absentSeconds'],
    ['no analysis', (v) => (v.camera.analyses = {}), 'camera.analyses'],
    ['belt roi too short', (v) => (v.camera.analyses.belt.roi = [[0, 0], [1, 1]]), 'camera.analyses.belt.roi'],
    ['belt direction', (v) => (v.camera.analyses.belt.direction = 'sideways'), 'camera.analyses.belt.direction'],
    ['occlusion options', (v) => (v.camera.analyses.occlusion = { seconds: 3 }), 'camera.analyses.occlusion.seconds'],
    ['events not a list', (v) => (v.events = {}), 'events'],
    ['belt event without status', (v) => delete v.events[0].beltStatus, 'events[0].beltStatus'],
    ['bad belt status', (v) => (v.events[0].beltStatus = '0004'), 'events[0].beltStatus'],
    ['count on a belt event', (v) => (v.events[0].count = 1), 'events[0].count'],
    ['count not a positive integer', (v) => (v.events[1].count = 1.5), 'events[1].count'],
    ['status on a person event', (v) => (v.events[1].beltStatus = '0001'), 'events[1].beltStatus'],
    ['negative time', (v) => (v.events[2].atSeconds = -1), 'events[2].atSeconds'],
    ['time after the end', (v) => (v.events[2].atSeconds = 61), 'events[2].atSeconds'],
    ['kind not configured', (v) => (v.events[2].kind = 'moved'), 'events[2].kind'],
    ['unknown kind', (v) => (v.events[2].kind = 'smoke'), 'events[2].kind'],
    ['zero tolerance', (v) => (v.events[1].toleranceSeconds = 0), 'events[1].toleranceSeconds'],
    ['typo in an event key', (v) => (v.events[1].atSecond = 3), 'events[1].atSecond'],
  ];
  for (const [what, mutate, field] of cases) {
    const v = valid();
    mutate(v);
    t.equal(fieldOf(() => parseTruth(v, 'x.truth.json')), field, what);
  }
  t.equal(fieldOf(() => parseTruth([])), '(root)', 'an array is not a truth file');
  const v = valid() as any;
  v.fps = 'five';
  v.events[0].beltStatus = '9';
  const err = (() => {
    try {
      parseTruth(v, 'clip.truth.json');
    } catch (e) {
      return e as Error & { detail?: { problems?: string[] } };
    }
    return undefined;
  })();
  t.match(err?.message, /^clip\.truth\.json: fps: .*events\[0\]\.beltStatus: /, 'every problem is listed, source first');
  t.equal(err?.detail?.problems?.length, 2);
});

t.test('the camera analyses take the options of edge.cameras[].analyses', async (t) => {
  const v = valid() as any;
  v.camera.analyses.belt = { roi: { x1: 0.1, y1: 0.4, x2: 0.9, y2: 0.7 }, direction: 90, coalSeconds: 8 };
  v.camera.analyses.dispatchRoom = { emptySeconds: 20 };
  v.camera.analyses.moved = { holdSeconds: 5, ignore: [[[0, 0.5], [1, 0.5], [1, 1]]] };
  t.same(truthProblems(v), []);
  t.same(parseTruth(structuredClone(v)), v, 'unchanged: no defaults written in');
});

t.test('files: written files read back; bad JSON is refused at (root)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eseal-truth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'a.truth.json');
  await writeTruthFile(path, valid());
  t.same(await readTruthFile(path), valid());
  await writeFile(path, '{ "format": ');
  await t.rejects(readTruthFile(path), { code: 'ESEAL_ERR_EVAL_TRUTH', field: '(root)' });
  const bad = valid() as any;
  bad.width = 5;
  await t.rejects(writeTruthFile(path, bad), { code: 'ESEAL_ERR_EVAL_TRUTH', field: 'width' });
});
