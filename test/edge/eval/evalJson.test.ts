// `eseal edge eval <clip> --truth F --events --json`: the real CLI in a child process, so that the
// test sees exactly what another tool reading its standard output would see.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { encodeClip } from '../../../edge/eval/encode.ts';
import type { JsonReport } from '../../../edge/eval/score.ts';
import { TRUTH_FORMAT, type TruthFile } from '../../../edge/eval/truth.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const W = 192;
const H = 144;
const FPS = 5;

/** A textured belt across the frame: still for 3 s, then moving right at 4 px per frame. */
function* beltFrames(frames: number): Generator<Uint8Array> {
  let seed = 7;
  const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const texture = Float32Array.from({ length: 4 * W * H }, () => next());
  const loop = 4 * W;
  let offset = 0;
  for (let n = 0; n < frames; n++) {
    if (n >= 3 * FPS) offset += 4;
    const rgb = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const u = (((x - offset) % loop) + loop) % loop;
        // smooth the noise into blobs a few pixels wide, so it survives the encoder
        const v = (texture[(y >> 2) * loop + (u >> 2)]! * 60 + 70) | 0;
        rgb.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
      }
    }
    yield rgb;
  }
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'app/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, out, err }));
  });
}

t.test('--json: every event, matched or not, and the per-kind score, alone on stdout', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eseal-evaljson-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clip = join(dir, 'belt.mp4');
  await encodeClip(clip, beltFrames(12 * FPS), { width: W, height: H, fps: FPS });
  const truth: TruthFile = {
    format: TRUTH_FORMAT,
    clip: 'belt.mp4',
    fps: FPS,
    width: W,
    height: H,
    frames: 12 * FPS,
    camera: { role: 'mainShaft', analyses: { belt: { roi: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]], direction: 'right' } } },
    events: [
      { kind: 'belt', atSeconds: 3, beltStatus: '0002', note: 'first start' },
      // never happens: a miss, to see one in the report
      { kind: 'belt', atSeconds: 10, beltStatus: '0001', note: 'empty→coal' },
    ],
  };
  const truthPath = join(dir, 'truth.json');
  await writeFile(truthPath, JSON.stringify(truth));

  const r = await cli(['edge', 'eval', clip, '--truth', truthPath, '--events', '--json', '--target', '90'], { ESEAL_DATA_DIR: dir });
  t.equal(r.code, 1, 'exit status 1: recall 50 % is below the target, as without --json');
  let report: JsonReport;
  try {
    report = JSON.parse(r.out) as JsonReport;
  } catch (err) {
    t.fail(`stdout is not JSON alone: ${(err as Error).message}\n${r.out}`);
    return;
  }
  t.match(r.err, /belt\.mp4: 60 frames/, 'the progress line goes to stderr');
  t.equal(report.format, 'eseal-eval/1');
  t.equal(report.target, 90);
  t.equal(report.pass, false);
  t.equal(report.clips.length, 1);
  const c = report.clips[0]!;
  t.equal(c.clip, 'belt.mp4');
  t.equal(c.frames, 60);
  t.same(
    c.detected.map((e) => ({ kind: e.kind, atSeconds: e.atSeconds, beltStatus: e.beltStatus, matched: e.matched, matchedWith: e.matchedWith })),
    [{ kind: 'belt', atSeconds: 3, beltStatus: '0002', matched: true, matchedWith: [0] }],
    'the start, dated when the belt began to move, matched with truth event 0',
  );
  t.same(
    c.truth.map((e) => ({ atSeconds: e.atSeconds, beltStatus: e.beltStatus, note: e.note, matched: e.matched, matchedUnits: e.matchedUnits })),
    [
      { atSeconds: 3, beltStatus: '0002', note: 'first start', matched: true, matchedUnits: 1 },
      { atSeconds: 10, beltStatus: '0001', note: 'empty→coal', matched: false, matchedUnits: 0 },
    ],
  );
  t.match(c.perKind.belt, { tp: 1, fp: 0, fn: 1, precision: 1, recall: 0.5, clips: 1 });
  t.match(report.total.belt, { tp: 1, fp: 0, fn: 1, recall: 0.5 });

  const plain = await cli(['edge', 'eval', clip, '--truth', truthPath, '--events', '--target', '40'], { ESEAL_DATA_DIR: dir });
  t.equal(plain.code, 0);
  t.match(plain.out, /3\.0 s {2}belt 0002/, 'without --json: the table for people');
  t.throws(() => JSON.parse(plain.out));
});

t.test('--only belongs to --set', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eseal-evaljson-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const r = await cli(['edge', 'eval', 'x.mp4', '--only', 'belt'], { ESEAL_DATA_DIR: dir });
  t.not(r.code, 0);
  t.match(r.err + r.out, /--only goes with --set/);
  const bad = await cli(['edge', 'eval', '--set', '--only', 'nope', '--dir', dir], { ESEAL_DATA_DIR: dir });
  t.not(bad.code, 0);
  t.match(bad.err + bad.out, /no clip or scene named "nope"/);
});
