// The registry reads every analysis's options the same way: one schema each, one meaning of `true`,
// every problem at once with its path.
import t from 'tap';
import { ANALYSES, linkAnalyses } from '../../../edge/analyses/registry.ts';
import { InvalidAnalysisOption } from '../../../edge/analyses/errors.ts';
import type { AnalysisKind } from '../../../edge/types.ts';

const KINDS = Object.keys(ANALYSES) as AnalysisKind[];

t.test('absent, null, true and {} all mean "on, with the defaults"', async (t) => {
  for (const kind of KINDS) {
    const path = `edge.cameras[0].analyses.${kind}`;
    const defaults = ANALYSES[kind].validate({}, path);
    for (const raw of [undefined, null, true]) t.same(ANALYSES[kind].validate(raw, path), defaults, `${kind}: ${String(raw)}`);
    t.ok(ANALYSES[kind].create('cam', defaults), `${kind}: made from its defaults`);
  }
});

t.test('false, a number or a list is not options', async (t) => {
  for (const kind of KINDS) {
    const path = `edge.cameras[0].analyses.${kind}`;
    for (const raw of [false, 3, []]) {
      const read = ANALYSES[kind].read(raw, path);
      t.equal(read.value, undefined);
      t.match(read.problems, [new RegExp(`^edge\\.cameras\\[0\\]\\.analyses\\.${kind}: must be a mapping with keys `)], `${kind}: ${JSON.stringify(raw)}`);
    }
  }
});

t.test('every problem at once: one error, each problem with its path, the first as its field', async (t) => {
  const path = 'edge.cameras[2].analyses.occlusion';
  const raw = { holdSeconds: -1, workWidth: 10.5, ignore: [{ x1: 0.5, y1: 0, x2: 0.4, y2: 1 }], hold: 3 };
  t.same(ANALYSES.occlusion.read(raw, path).problems, [
    `${path}.holdSeconds: must be between 0 and 3600, got -1`,
    `${path}.workWidth: must be a whole number between 32 and 1024, got 10.5`,
    `${path}.hold: unknown key (did you mean ${path}.holdSeconds?)`,
  ]);
  try {
    ANALYSES.occlusion.validate(raw, path);
    t.fail('accepted');
  } catch (err) {
    t.ok(InvalidAnalysisOption.is(err));
    t.match(err, { field: `${path}.holdSeconds`, detail: { problems: { length: 3 } } });
    t.match((err as Error).message, /holdSeconds: .*; .*workWidth: .*; .*hold: /);
  }
  // the rules between keys come once the keys themselves are right, all of them too
  t.same(ANALYSES.belt.read({ coalShare: 0.2, coalHysteresis: 0.3, minSpeedPx: 9, maxSpeedPx: 3 }, 'b').problems, [
    'b.coalHysteresis: must be below coalShare (0.2)',
    'b.maxSpeedPx: must exceed minSpeedPx (9)',
  ]);
  t.same(ANALYSES.moved.read({ ignore: [{ x1: 0.5, y1: 0, x2: 0.4, y2: 1 }, [[0, 0], [0.5, 0.5], [1, 1]]] }, 'm').problems, [
    'm.ignore[0]: a rectangle needs x1 < x2 and y1 < y2, got {"x1":0.5,"y1":0,"x2":0.4,"y2":1}',
    'm.ignore[1]: the polygon encloses (almost) no area',
  ]);
});

t.test('belt direction: the README names, or degrees from right towards down', async (t) => {
  const direction = (d: unknown) => (ANALYSES.belt.validate({ direction: d }, 'b') as { direction: number }).direction;
  t.same(['right', 'down', 'left', 'up'].map(direction), [0, 90, 180, 270]);
  t.same([90, -90, 45, 360].map(direction), [90, 270, 45, 0]);
});

t.test("a belt camera's moved and occlusion checks leave the belt's ROI out unless their ignore says otherwise", async (t) => {
  const validated = (raw: Partial<Record<AnalysisKind, unknown>>) =>
    Object.fromEntries(Object.entries(raw).map(([kind, o]) => [kind, ANALYSES[kind as AnalysisKind].validate(o, kind)])) as Partial<Record<AnalysisKind, unknown>>;
  const roi = [[0.1, 0.6], [0.9, 0.6], [0.9, 0.95], [0.1, 0.95]];
  const roiPoints = roi.map(([x, y]) => ({ x, y }));
  const linked = linkAnalyses(validated({ belt: { roi }, moved: {}, occlusion: {} }));
  t.same((linked.moved as { ignore: unknown }).ignore, [roiPoints], 'moved: the belt left out');
  t.same((linked.occlusion as { ignore: unknown }).ignore, [roiPoints], 'occlusion: the belt left out');
  // said explicitly, even as "nothing", the camera's own ignore wins
  const own = linkAnalyses(validated({ belt: { roi }, moved: { ignore: [] }, occlusion: { ignore: [[[0, 0], [0.2, 0], [0.2, 0.2]]] } }));
  t.same((own.moved as { ignore: unknown }).ignore, []);
  t.equal((own.occlusion as { ignore: unknown[] }).ignore.length, 1);
  t.not((own.occlusion as { ignore: unknown[] }).ignore[0], roiPoints);
  // a belt ROI of the whole frame (its default) is not left out: nothing would remain to watch
  const whole = linkAnalyses(validated({ belt: {}, moved: {}, occlusion: {} }));
  t.equal((whole.moved as { ignore?: unknown }).ignore, undefined);
  t.equal((whole.occlusion as { ignore?: unknown }).ignore, undefined);
  // without a belt nothing changes
  const plain = validated({ moved: {}, person: {} });
  t.equal(linkAnalyses(plain), plain);
});
