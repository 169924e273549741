import t from 'tap';
import { CameraMovedAnalysis, DEFAULT_MOVED_OPTIONS, validateMovedOptions } from '../../../edge/analyses/cameraMoved.ts';
import { InvalidAnalysisOption } from '../../../edge/analyses/errors.ts';
import type { AnalysisEvent } from '../../../edge/types.ts';
import { contextOf, cut, frameOf, grayPhoto, noisy, paint, relit, type Gray } from './image/scenes.ts';

const W = 704;
const H = 576;
const FRAME_MS = 200;
const HOUR = 3_600_000;
const X0 = 40;
const Y0 = 40;

class Feed {
  at = 1_700_000_000_000;
  seq = 0;
  readonly events: AnalysisEvent[] = [];
  constructor(readonly analysis: CameraMovedAnalysis) {}

  run(frames: number, views: Uint8Array[] | ((i: number) => Uint8Array)): AnalysisEvent[] {
    const got: AnalysisEvent[] = [];
    for (let i = 0; i < frames; i++) {
      const gray = typeof views === 'function' ? views(i) : views[i % views.length]!;
      got.push(...this.analysis.process(contextOf(frameOf('cam', gray, W, H, this.seq++, this.at))));
      this.at += FRAME_MS;
    }
    this.events.push(...got);
    return got;
  }
}

let photo: Gray;
/** noisy copies of the view with the camera turned by (dx, dy) pixels */
const views = new Map<string, Uint8Array[]>();
function view(dx: number, dy = 0): Uint8Array[] {
  const key = `${dx},${dy}`;
  let v = views.get(key);
  if (!v) {
    const base = cut(photo, X0 + dx, Y0 + dy, W, H);
    v = [0, 1].map((k) => noisy(base, 4, `view-${key}-${k}`));
    views.set(key, v);
  }
  return v;
}

t.before(async () => {
  photo = await grayPhoto('horses.jpg', 880, 720);
});

function warm(): Feed {
  const feed = new Feed(new CameraMovedAnalysis('cam'));
  feed.run(20, view(0));
  return feed;
}

t.test('vibration (±1 %), lighting and a passer-by are not a move', (t) => {
  const feed = warm();
  t.equal(feed.analysis.hasReference, true, 'reference after the warm-up');
  t.same(feed.run(100, (i) => view(i % 2 ? 7 : -7, i % 3 === 0 ? 5 : 0)[i % 2]!), [], 'shaking by 1 %');
  t.same(feed.run(60, (i) => relit(view(0)[i % 2]!, 0.6, 10)), [], 'dimmer');
  const passer = (i: number): Uint8Array => paint(view(0)[i % 2]!, W, -140 + i * 12, 150, i * 12, 500, (x, y) => 50 + ((x * 5 + y * 11) % 60));
  t.same(feed.run(70, passer), [], 'a passer-by');
  t.equal(feed.analysis.moved, false);
  t.same(feed.analysis.marks().texts, ['moved: in place']);
  t.end();
});

for (const percent of [5, 10]) {
  t.test(`a pan of ${percent} % is reported after holdSeconds, then the new view becomes the reference`, (t) => {
    const feed = warm();
    const dx = Math.round((W * percent) / 100);
    const onset = feed.at;
    t.same(feed.run(49, view(dx)), [], 'not before 10 s');
    const got = feed.run(10, view(dx));
    t.equal(got.length, 1, 'reported');
    t.equal(got[0]!.kind, 'moved');
    t.equal(got[0]!.at, onset, 'dated when it moved');
    const m = /shifted by ([\d.]+)% of the width, dx (-?[\d.]+)%/.exec(got[0]!.detail);
    t.ok(m && Math.abs(Number(m[1]) - percent) < 0.3, `shift measured: ${got[0]!.detail}`);
    t.ok(m && Number(m[2]) < 0, 'the picture moved left (the camera turned right)');
    t.same(feed.run(150, view(dx)), [], 'not reported again');
    t.equal(feed.analysis.moved, false, 'the new view was adopted');
    t.same(feed.analysis.marks().texts, ['moved: in place']);
    t.end();
  });
}

t.test('a vertical tilt, a move back within the hour (held until the hour is over), and a view turned away', (t) => {
  const feed = warm();
  t.equal(feed.run(60, view(0, 40)).length, 1, 'tilt of 40 px (5.7 % of the width)');
  feed.run(60, view(0, 40));
  t.equal(feed.analysis.moved, false, 'adopted');
  t.same(feed.run(100, view(0)), [], 'moved back within the hour: not yet reported');
  t.equal(feed.analysis.moved, true, 'but detected');
  feed.at += HOUR;
  const later = feed.run(5, view(0));
  t.equal(later.length, 1, 'reported once the hour is over');

  const other = new Feed(new CameraMovedAnalysis('cam'));
  other.run(20, view(0));
  const turned = cut(photo, 0, 0, W, H).map((v, i) => (i % W < W / 2 ? v : 255 - v));
  const mirrored = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) mirrored[y * W + x] = turned[y * W + (W - 1 - x)]!;
  const away = other.run(60, [noisy(mirrored, 4, 'away-0'), noisy(mirrored, 4, 'away-1')]);
  t.equal(away.length, 1, 'a different view (no correlation) is a move');
  t.match(away[0]!.detail, /view changed/);
  t.end();
});

t.test('a covered camera is not reported as moved', (t) => {
  const feed = warm();
  const covered = view(0).map((g) => paint(g, W, 0, 0, W * 0.9, H * 0.9, (x, y) => 20 + ((x + y) % 3)));
  t.same(feed.run(100, covered), []);
  t.ok(feed.analysis.latest!.occluded, 'seen as occluded');
  t.end();
});

t.test('options', (t) => {
  const path = 'edge.cameras[2].analyses.moved';
  t.same(validateMovedOptions(undefined, path), DEFAULT_MOVED_OPTIONS);
  t.equal(DEFAULT_MOVED_OPTIONS.minShiftPercent, 3);
  t.equal(validateMovedOptions({ fftSize: 256 }, path).fftSize, 256);
  t.throws(() => validateMovedOptions({ fftSize: 200 }, path), { code: InvalidAnalysisOption.code, field: `${path}.fftSize` });
  t.throws(() => validateMovedOptions({ minShiftPercent: 0 }, path), { code: InvalidAnalysisOption.code, field: `${path}.minShiftPercent` });
  t.throws(() => validateMovedOptions({ minPeak: 0.05, collapsePeak: 0.1 }, path), { code: InvalidAnalysisOption.code, field: `${path}.collapsePeak` });
  t.throws(() => validateMovedOptions([], path), { code: InvalidAnalysisOption.code, field: path });
  t.end();
});

t.test('a strong shift confined to part of the view (a running belt) is not a move; ignore leaves it out', (t) => {
  // the lower 35 % of the view scrolls right by 12 px a frame, as a belt would; the rest stays put
  const belt = (i: number): Uint8Array => {
    const out = view(0)[i % 2]!.slice();
    const still = view(0)[0]!;
    for (let y = Math.round(H * 0.65); y < H; y++) for (let x = 0; x < W; x++) out[y * W + x] = still[y * W + ((((x - i * 12) % W) + W) % W)]!;
    return out;
  };
  const plain = warm();
  t.same(plain.run(100, belt), [], 'tiles: most of the view still matches in place');
  t.ok(plain.analysis.latest!.inPlace >= 0.6, `most tiles in place (${plain.analysis.latest!.inPlace})`);
  const masked = new Feed(new CameraMovedAnalysis('cam', validateMovedOptions({ ignore: [[[0, 0.62], [1, 0.62], [1, 1], [0, 1]]] }, 'm')));
  masked.run(20, view(0));
  masked.run(40, belt);
  t.ok(masked.analysis.latest!.peak >= 0.5, `with the belt ignored the whole-view peak stays clear (${masked.analysis.latest!.peak})`);
  // a real pan is still found with the belt region ignored
  t.equal(masked.run(70, view(60)).length, 1, 'a pan is reported');
  t.equal(masked.analysis.latest!.reason, 'shifted');
  t.end();
});

t.test('ignore and agreeShare options', (t) => {
  const path = 'edge.cameras[2].analyses.moved';
  t.equal(DEFAULT_MOVED_OPTIONS.ignore, undefined, 'not said: left to linkAnalyses');
  t.same(validateMovedOptions({ ignore: [[[0, 0.5], [1, 0.5], [1, 1]]] }, path).ignore, [[{ x: 0, y: 0.5 }, { x: 1, y: 0.5 }, { x: 1, y: 1 }]]);
  t.throws(() => validateMovedOptions({ ignore: [[[0, 0], [1, 0]]] }, path), { code: InvalidAnalysisOption.code, field: `${path}.ignore[0]`, message: /at least 3 entries/ });
  t.throws(() => validateMovedOptions({ ignore: {} }, path), { code: InvalidAnalysisOption.code, field: `${path}.ignore` });
  t.throws(() => validateMovedOptions({ agreeShare: 2 }, path), { code: InvalidAnalysisOption.code, field: `${path}.agreeShare` });
  t.end();
});
