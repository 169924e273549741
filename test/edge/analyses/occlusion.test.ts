import t from 'tap';
import { DEFAULT_OCCLUSION_OPTIONS, OcclusionAnalysis, validateOcclusionOptions } from '../../../edge/analyses/occlusion.ts';
import { InvalidAnalysisOption } from '../../../edge/analyses/errors.ts';
import { ReportLimiter } from '../../../edge/analyses/reportLimiter.ts';
import type { AnalysisEvent } from '../../../edge/types.ts';
import { blurred, contextOf, cut, frameOf, grayPhoto, noisy, paint, relit, type Gray } from './image/scenes.ts';

const W = 704;
const H = 576;
const FRAME_MS = 200;
const HOUR = 3_600_000;

class Feed {
  at = 1_700_000_000_000;
  seq = 0;
  readonly events: AnalysisEvent[] = [];
  constructor(readonly analysis: OcclusionAnalysis) {}

  /** `frames` frames drawn from `views` in turn (several noisy copies, so frames differ as real ones do). */
  run(frames: number, views: Uint8Array[] | ((i: number) => Uint8Array), stepMs = FRAME_MS): AnalysisEvent[] {
    const got: AnalysisEvent[] = [];
    for (let i = 0; i < frames; i++) {
      const gray = typeof views === 'function' ? views(i) : views[i % views.length]!;
      got.push(...this.analysis.process(contextOf(frameOf('cam', gray, W, H, this.seq++, this.at))));
      this.at += stepMs;
    }
    this.events.push(...got);
    return got;
  }
}

let photo: Gray;
let normal: Uint8Array[];

t.before(async () => {
  photo = await grayPhoto('horses.jpg', 800, 640);
  const base = cut(photo, 20, 20, W, H);
  normal = [0, 1, 2].map((k) => noisy(base, 4, `normal-${k}`));
});

function variants(f: (g: Uint8Array) => Uint8Array): Uint8Array[] {
  return normal.map(f);
}

t.test('warm-up, then a passer-by and a moderate lighting change are not occlusion', (t) => {
  const feed = new Feed(new OcclusionAnalysis('cam'));
  t.same(feed.run(30, normal), []);
  t.equal(feed.analysis.hasReference, true, 'reference learnt after 5 s of stable frames');
  t.same(feed.analysis.marks().texts, ['occlusion: clear']);
  // a block a fifth of the frame wide walks across in 15 s
  const bw = W * 0.2;
  const passer = (i: number): Uint8Array => {
    const x = -bw + ((W + bw) * i) / 75;
    return paint(normal[i % 3]!, W, x, H * 0.2, x + bw, H * 0.9, (px, py) => 60 + ((px * 7 + py * 13) % 50));
  };
  t.same(feed.run(75, passer), [], 'passer-by');
  t.same(feed.run(75, variants((g) => relit(g, 0.65))), [], 'lights dimmed to 65 %');
  t.same(feed.run(75, variants((g) => relit(g, 1.2, 25))), [], 'lights brighter');
  t.same(feed.run(75, (i) => relit(normal[i % 3]!, 1 - (0.4 * i) / 75)), [], 'a slow ramp down to 60 %');
  t.equal(feed.analysis.occluded, false);
  t.end();
});

t.test('a dark cover is reported after holdSeconds, once within the hour even if covered again', (t) => {
  const feed = new Feed(new OcclusionAnalysis('cam'));
  feed.run(30, normal);
  const covered = variants((g) => paint(g, W, 0, 0, W * 0.9, H * 0.9, (x, y) => 18 + ((x + y) % 3)));
  const onset = feed.at;
  t.same(feed.run(49, covered), [], 'nothing before 10 s');
  const first = feed.run(20, covered);
  t.equal(first.length, 1, 'reported once the cover has lasted 10 s');
  t.equal(first[0]!.kind, 'occlusion');
  t.equal(first[0]!.camera, 'cam');
  t.equal(first[0]!.at, onset, 'dated when the cover began');
  t.match(first[0]!.detail, /occluded \((dark|covered)\)/);
  t.equal(feed.analysis.occluded, true);
  t.match(feed.analysis.marks().texts[0]!, /^occlusion: occluded/);
  t.same(feed.run(100, covered), [], 'not again while it lasts');
  t.same(feed.run(100, normal), [], 'uncovered');
  t.equal(feed.analysis.occluded, false, 'clear again');
  const grey = variants((g) => paint(g, W, 0, 0, W * 0.95, H * 0.95, 128));
  t.same(feed.run(100, grey), [], 'covered again within the hour: not reported');
  t.equal(feed.analysis.occluded, true, 'but detected');
  feed.run(100, normal);
  // an hour later
  feed.at += HOUR;
  feed.run(10, normal);
  t.equal(feed.run(60, grey).length, 1, 'covered an hour later: reported again');
  t.end();
});

t.test('a cover that lasts is reported again each interval, and is never learnt as the reference', (t) => {
  const feed = new Feed(new OcclusionAnalysis('cam'));
  feed.run(30, normal);
  const covered = variants((g) => paint(g, W, 0, 0, W, H * 0.92, (x, y) => 40 + ((x * 3 + y) % 5)));
  // one frame a second for 2 h 10 min
  const got = feed.run(7800, covered, 1000);
  t.equal(got.length, 3, `at the onset and after each hour: ${got.slice(0, 5).map((e) => e.at - got[0]!.at).join(', ')}`);
  t.equal(got[1]!.at - got[0]!.at, HOUR);
  t.match(got[1]!.detail, /still occluded/);
  feed.run(60, normal);
  t.equal(feed.analysis.occluded, false, 'clear once uncovered');
  t.ok(feed.analysis.latest!.ncc! > 0.95, `the reference is still the scene (ncc ${feed.analysis.latest!.ncc!.toFixed(2)})`);
  t.end();
});

t.test('a strongly blurred view is occluded; a camera that starts blind is too', (t) => {
  const feed = new Feed(new OcclusionAnalysis('cam'));
  feed.run(30, normal);
  const smeared = variants((g) => blurred(g, W, 8));
  const got = feed.run(60, smeared);
  t.equal(got.length, 1, 'blurred');
  t.match(got[0]!.detail, /blurred|covered/);

  const blind = new Feed(new OcclusionAnalysis('cam'));
  const black = [0, 1].map((k) => noisy(new Uint8Array(W * H).fill(8), 3, `black-${k}`));
  t.equal(blind.run(60, black).length, 1, 'dark from the start');
  t.equal(blind.analysis.hasReference, false, 'and not learnt as the reference');
  t.end();
});

t.test('a shared limiter counts cameras apart', (t) => {
  const limiter = new ReportLimiter(3600);
  const a = new Feed(new OcclusionAnalysis('cam', {}, limiter));
  const b = new Feed(new OcclusionAnalysis('cam-2', {}, limiter));
  const black = [new Uint8Array(W * H).fill(5)];
  t.equal(a.run(60, black).length, 1);
  t.equal(b.run(60, black).length, 1);
  t.equal(limiter.lastReport('cam', 'occlusion'), a.events[0]!.at);
  t.end();
});

t.test('options', (t) => {
  const path = 'edge.cameras[1].analyses.occlusion';
  t.same(validateOcclusionOptions({}, path), DEFAULT_OCCLUSION_OPTIONS);
  t.same(validateOcclusionOptions(null, path), DEFAULT_OCCLUSION_OPTIONS);
  t.equal(validateOcclusionOptions({ holdSeconds: 20 }, path).holdSeconds, 20);
  t.equal(DEFAULT_OCCLUSION_OPTIONS.holdSeconds, 10);
  t.equal(DEFAULT_OCCLUSION_OPTIONS.reportIntervalSeconds, 3600);
  t.throws(() => validateOcclusionOptions({ holdSeconds: 'ten' }, path), { code: InvalidAnalysisOption.code, field: `${path}.holdSeconds` });
  t.throws(() => validateOcclusionOptions({ hold: 10 }, path), { code: InvalidAnalysisOption.code, field: `${path}.hold` });
  t.throws(() => validateOcclusionOptions({ warmupSeconds: 100, refreshSeconds: 50 }, path), { code: InvalidAnalysisOption.code, field: `${path}.warmupSeconds` });
  t.end();
});

t.test('a folded dark cloth over most of the view is covered, tile by tile', (t) => {
  const feed = new Feed(new OcclusionAnalysis('cam'));
  feed.run(30, normal);
  // a cloth with soft folds (no sharp edges) down to 85 % of the height, with a wavy hem
  const cloth = (g: Uint8Array): Uint8Array =>
    paint(g, W, 0, 0, W, H, (x, y) => (y < H * 0.85 + 15 * Math.sin(x / 37) ? 34 + 14 * Math.sin((x * 0.8 + y * 0.35) / 21) : g[y * W + x]!));
  const got = feed.run(75, variants(cloth));
  t.equal(got.length, 1, 'reported after holdSeconds');
  const m = feed.analysis.latest!;
  t.equal(m.reason, 'covered');
  t.ok(m.coveredTiles! >= 0.7, `most textured tiles covered (${m.coveredTiles})`);
  t.ok(m.darkRatio < 0.85 && m.std >= 6, 'not dark nor uniform as a whole');
  t.end();
});

t.test('ignore: a region that changes all the time (a belt) does not count', (t) => {
  // the lower 45 % of the view flickers between unrelated textures, as a loaded belt would
  const busy = (i: number): Uint8Array => paint(normal[i % 3]!, W, 0, H * 0.55, W, H, (x, y) => (((x * 13 + y * 7 + i * 97) % 89) * 2 + 30) & 255);
  const plain = new Feed(new OcclusionAnalysis('cam', validateOcclusionOptions({}, 'o')));
  const masked = new Feed(new OcclusionAnalysis('cam', validateOcclusionOptions({ ignore: [[[0, 0.5], [1, 0.5], [1, 1], [0, 1]]] }, 'o')));
  plain.run(30, normal);
  masked.run(30, normal);
  plain.run(60, busy);
  masked.run(60, busy);
  t.ok(plain.analysis.latest!.ncc! < 0.9, `without ignore the frame correlates less with the reference (${plain.analysis.latest!.ncc})`);
  t.ok(masked.analysis.latest!.ncc! > 0.95, `with the region ignored it matches (${masked.analysis.latest!.ncc})`);
  // with the rest of the view covered, the ignored region's flicker cannot keep it "clear"
  const covered = (i: number): Uint8Array => paint(busy(i), W, 0, 0, W, H * 0.5, 40);
  t.equal(masked.run(75, covered).length, 1, 'the covered unignored part is reported');
  t.end();
});

t.test('ignore option: polygons checked with the config path', (t) => {
  const path = 'edge.cameras[1].analyses.occlusion';
  t.equal(DEFAULT_OCCLUSION_OPTIONS.ignore, undefined, 'not said: left to linkAnalyses');
  const rect = validateOcclusionOptions({ ignore: [{ x1: 0.1, y1: 0.2, x2: 0.9, y2: 0.7 }] }, path).ignore;
  t.same(rect, [[{ x: 0.1, y: 0.2 }, { x: 0.9, y: 0.2 }, { x: 0.9, y: 0.7 }, { x: 0.1, y: 0.7 }]]);
  // an already validated ROI (points as {x, y}), as the pipeline hands on the belt's
  t.same(validateOcclusionOptions({ ignore: [[{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }]] }, path).ignore!.length, 1);
  t.throws(() => validateOcclusionOptions({ ignore: [[0, 0], [1, 0], [1, 1]] }, path), { code: InvalidAnalysisOption.code, field: `${path}.ignore[0]` });
  t.throws(() => validateOcclusionOptions({ ignore: [[[0, 0], [1.5, 0], [1, 1]]] }, path), { code: InvalidAnalysisOption.code, field: `${path}.ignore[0][1][0]`, message: /must be between 0 and 1, got 1\.5/ });
  t.throws(() => validateOcclusionOptions({ ignore: 'belt' }, path), { code: InvalidAnalysisOption.code, field: `${path}.ignore` });
  t.throws(() => validateOcclusionOptions({ coveredShare: 0.1 }, path), { code: InvalidAnalysisOption.code, field: `${path}.coveredShare` });
  t.end();
});

t.test('a busy view (people always passing) still gets its reference, from the mean of the view', (t) => {
  const feed = new Feed(new OcclusionAnalysis('cam'));
  // three blocks a fifth of the frame wide, always somewhere in view, each moving 40 px a frame:
  // no two frames in a row are alike (the old rule, "the same for 5 s", never learnt this view)
  const bw = W * 0.2;
  const busy = (i: number): Uint8Array => {
    let g = normal[i % 3]!;
    for (const k of [0, 1, 2]) {
      const x = ((i * 40 + k * 260) % (W + bw)) - bw;
      g = paint(g, W, x, H * (0.1 + 0.25 * k), x + bw, H * (0.45 + 0.25 * k), (px, py) => 30 + ((px * 5 + py * 11) % 90));
    }
    return g;
  };
  t.same(feed.run(60, busy), []);
  t.equal(feed.analysis.hasReference, true, 'learnt within 12 s');
  // and a cover is still found against that reference
  const covered = variants((g) => paint(g, W, 0, 0, W, H * 0.9, 18));
  const got = feed.run(60, covered);
  t.equal(got.length, 1, 'the cover is reported');
  t.end();
});
