import t from 'tap';
import { PERSONS_ENTERING_DEFAULTS, PersonsEntering, validatePersonsEnteringOptions } from '../../../edge/analyses/personsEntering.ts';
import { InvalidAnalysisOption } from '../../../edge/analyses/errors.ts';
import { AI_TYPE_OF } from '../../../edge/types.ts';
import { prng, runAnalysis, scene, type Mover } from '../track/synth.ts';

// A shaft gate seen from above at an angle: the line runs slightly diagonally, "in" is to the lower right.
const OPTIONS = validatePersonsEnteringOptions({ line: [[0.15, 0.5], [0.85, 0.62]], towards: [0.6, 0.9] }, 'edge.cameras[0].analyses.person');

const walk = (w: [number, number, number][], extra: Partial<Mover> = {}): Mover => ({ cls: 'person', w: 36, h: 90, waypoints: w.map(([at, x, y]) => ({ at, x, y })), ...extra });

t.test('is the 01 analysis on persons, needing detections', async (t) => {
  const a = new PersonsEntering('shaft', OPTIONS);
  t.equal(a.kind, 'person');
  t.equal(AI_TYPE_OF[a.kind], '01');
  t.equal(a.needsDetections, true);
  t.same(PERSONS_ENTERING_DEFAULTS, { minScore: 0.5, groupSeconds: 2, minDistance: 0.02, bandHeights: 0.25 });
});

t.test('a shift change: counts exactly the persons who walked in', async (t) => {
  const rand = prng(2024);
  const movers: Mover[] = [];
  let expectedIn = 0;
  // 12 persons walking in at random times along random lanes, some briefly occluded, some low-scored
  for (let i = 0; i < 12; i++) {
    const t0 = Math.round(rand() * 50_000);
    const x = 150 + rand() * 340;
    const hideAt = t0 + 1000 + rand() * 3000;
    movers.push(
      walk([[t0, x, 100], [t0 + 7000, x + 30, 340]], {
        hidden: (at) => i % 3 === 0 && at >= hideAt && at < hideAt + 600,
        score: (at) => (i % 4 === 1 && at > t0 + 2000 && at < t0 + 3000 ? 0.3 : 0.85),
      }),
    );
    expectedIn++;
  }
  // 3 walking out, 1 loitering on the line, 2 walking along the line on the outside
  movers.push(walk([[5000, 300, 330], [12_000, 320, 100]]));
  movers.push(walk([[20_000, 420, 330], [27_000, 400, 100]]));
  movers.push(walk([[40_000, 200, 330], [47_000, 220, 100]]));
  movers.push(walk([[10_000, 320, 150], [14_000, 320, 198], [40_000, 330, 202], [44_000, 330, 150]]));
  movers.push(walk([[0, 100, 120], [20_000, 560, 150]]));
  movers.push(walk([[30_000, 560, 140], [50_000, 100, 110]]));

  const a = new PersonsEntering('shaft', OPTIONS);
  const events = runAnalysis(scene(movers, { durationMs: 60_000, noise: 2, seed: 7 }), a);
  const counted = events.reduce((s, e) => s + e.count!, 0);
  t.equal(counted, expectedIn, `${counted} counted in ${events.length} events, ${expectedIn} walked in`);
  t.ok(events.every((e, k) => k === 0 || e.at > events[k - 1]!.at), 'events in time order');
  t.ok(a.marks().texts.includes('person out: 3'), a.marks().texts.join(' | '));
});

t.test('validatePersonsEnteringOptions names the person path in its errors', async (t) => {
  t.throws(() => validatePersonsEnteringOptions({ line: [[0, 0], [1, 1]] }, 'edge.cameras[1].analyses.person'), {
    code: InvalidAnalysisOption.code,
    field: 'edge.cameras[1].analyses.person.towards',
  });
  t.throws(() => validatePersonsEnteringOptions({ towards: [0.5, 0.9] }, 'edge.cameras[1].analyses.person'), { message: /analyses\.person\.line: required with towards/ });
  t.same(validatePersonsEnteringOptions(undefined, 'edge.cameras[1].analyses.person').towards, { x: 0.5, y: 1 }, 'nothing given: the default line');
});
