// Every analysis on generated clips, end to end: the quick part of the evaluation set (real person
// and truck crops from Debian's darknet photos, a synthetic belt, a covered and a knocked camera, an
// empty dispatch room) goes through ffmpeg, the motion gate, the converted CenterNet, the tracker
// and the analyses exactly as `eseal edge eval --set --quick` runs it. The full set and its
// figures: `npm run eval`.
import t from 'tap';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../../app/config.ts';
import { ANALYSES } from '../../../edge/analyses/registry.ts';
import { createDetector } from '../../../edge/detect/detector.ts';
import { buildEvalSet } from '../../../edge/eval/buildEvalSet.ts';
import { defaultCacheDir } from '../../../edge/eval/darknetPhotos.ts';
import { aggregate, formatScoreTable, type ClipScore } from '../../../edge/eval/score.ts';
import { readTruthFile } from '../../../edge/eval/truth.ts';
import { ensureDefaultModel } from '../../../edge/models/buildDefault.ts';
import { evaluateClip } from '../../../edge/pipeline/evaluateClip.ts';
import type { AnalysisKind } from '../../../edge/types.ts';

// Analysing the clips takes about a minute of CPU; tap's 240 s per file is a hang guard, and on a
// machine loaded several times over (two suites side by side) the work alone took longer.
t.setTimeout(15 * 60_000);

t.test('the quick evaluation set: precision and recall of every analysis', async (t) => {
  // kept between runs (a changed generator rebuilds its clip)
  const dir = join(defaultCacheDir(), 'eval-quick');
  const pairs = await buildEvalSet(dir, { quick: true });
  t.ok(pairs.length >= 6, `${pairs.length} clips`);
  // as the edge role runs it by default
  const { inputSize, minScorePercent } = DEFAULT_CONFIG.edge.detector;
  const detector = await createDetector({ model: await ensureDefaultModel(join(defaultCacheDir(), 'models'), inputSize), scoreThreshold: minScorePercent / 100 });
  t.teardown(() => detector.close());

  const scores: ClipScore[] = [];
  const kinds = new Set<AnalysisKind>();
  for (const p of pairs) {
    const truth = await readTruthFile(p.truth);
    for (const k of Object.keys(truth.camera.analyses) as AnalysisKind[]) kinds.add(k);
    const r = await evaluateClip({ clipPath: p.clip, truth, truthPath: p.truth, detector });
    t.ok(r.frames > 100, `${truth.clip}: ${r.frames} frames analysed`);
    scores.push(r.score);
  }
  t.same([...kinds].sort(), Object.keys(ANALYSES).sort(), 'the set exercises all six analyses');
  const total = aggregate(scores);
  t.comment(formatScoreTable(scores));
  for (const kind of kinds) {
    const k = total.perKind[kind];
    t.ok(k.precision >= 0.97, `${kind}: precision ${(k.precision * 100).toFixed(1)}% (tp ${k.tp}, fp ${k.fp})`);
    t.ok(k.recall >= 0.97, `${kind}: recall ${(k.recall * 100).toFixed(1)}% (tp ${k.tp}, fn ${k.fn})`);
  }
  // the set must hold events of every kind, or a silent analysis would pass
  for (const kind of ['person', 'truck', 'belt', 'dispatchRoom', 'occlusion', 'moved'] as const) {
    t.ok(total.perKind[kind].tp > 0, `${kind}: at least one event found`);
  }
});
