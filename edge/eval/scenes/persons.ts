// Persons at the auxiliary shaft: real people (cut from person.jpg and kite.jpg) walking over real
// ground, counted when their feet cross a horizontal line downwards (towards the camera, into the
// shaft). Walking up, walking along the line and turning back before it are not counted; two
// people crossing together count two. Truth comes from the walkers' own paths.
import type { TruthEvent } from '../truth.ts';
import { ActorLayer, type Actor } from './actors.ts';
import { fieldBackground } from './backgrounds.ts';
import { HEIGHT, WIDTH, type Clip, type ClipSpec, type Photos } from './clip.ts';
import { Path, type Key } from './paths.ts';
import { stageClip } from './stage.ts';
import type { CropName } from './sprites.ts';

export const PERSON_LINE_Y = 0.6;
const LINE_Y = PERSON_LINE_Y * HEIGHT;
const LINE_A = { x: 0.02 * WIDTH, y: LINE_Y };
const LINE_B = { x: 0.98 * WIDTH, y: LINE_Y };
const TOWARDS = { x: WIDTH / 2, y: 0.9 * HEIGHT };

const CAMERA: Clip['camera'] = {
  role: 'auxiliaryShaft',
  analyses: {
    person: { line: [[0.02, PERSON_LINE_Y], [0.98, PERSON_LINE_Y]], towards: [0.5, 0.9] },
    occlusion: {},
    moved: {},
  },
};

/** Perspective of the field: ~150 px tall just below the horizon, ~260 px at the bottom edge. */
export function personHeight(footY: number): number {
  return Math.max(110, 150 + ((footY - 230) * 110) / (HEIGHT - 230));
}

/** Walking speed in pixels per second at foot height y: slower far away. */
function speedAt(y: number): number {
  return (95 * personHeight(y)) / 200;
}

type Step = [x: number, y: number] | { pause: number; sway?: number };

/** A walk from t0 through points at walking pace; `{ pause }` stands still (swaying a little). */
function walk(t0: number, steps: readonly Step[]): Path {
  const keys: Key[] = [];
  let t = t0;
  for (const s of steps) {
    const last = keys[keys.length - 1];
    if (Array.isArray(s)) {
      const [x, y] = s;
      if (last) t += Math.hypot(x - last.x, y - last.y) / speedAt((y + last.y) / 2);
      keys.push({ t, x, y });
    } else {
      if (!last) throw new RangeError('a walk cannot start with a pause');
      // Shift weight from foot to foot: a couple of pixels sideways, never across the line's side.
      const sway = s.sway ?? 3;
      const n = Math.max(1, Math.round(s.pause / 1.5));
      for (let i = 1; i <= n; i++) keys.push({ t: t + (s.pause * i) / n, x: last.x + (i % 2 === 1 ? sway : 0), y: last.y + (i % 2 === 1 ? 1 : 0) });
      t += s.pause;
    }
  }
  return new Path(keys);
}

/** A walker; `toleranceSeconds` widens the scorer's window for its crossing (a pause on the line). */
interface Walker extends Actor {
  toleranceSeconds?: number;
}

/** The same walk, started so that the feet first cross the line downwards at `at`. */
function crossingAt(at: number, steps: readonly Step[]): Path {
  const trial = walk(0, steps);
  const first = trial.crossings(LINE_A, LINE_B, TOWARDS).find((c) => c.direction === 1);
  if (!first) throw new RangeError('this walk never crosses the line downwards');
  return walk(at - first.t, steps);
}

function walker(crop: CropName, path: Path, mirrored = false, toleranceSeconds?: number): Walker {
  return { crop, mirrored, path, height: personHeight, cls: 'person', bob: 2, ...(toleranceSeconds ? { toleranceSeconds } : {}) };
}

/** A counted crossing for every downward pass of a walker's feet over the line. */
function crossingEvents(actors: readonly Walker[]): TruthEvent[] {
  const events: TruthEvent[] = [];
  for (const a of actors) {
    for (const c of a.path.crossings(LINE_A, LINE_B, TOWARDS)) {
      if (c.direction !== 1) continue;
      const tol = a.toleranceSeconds;
      events.push({ kind: 'person', atSeconds: Math.round(c.t * 100) / 100, ...(tol ? { toleranceSeconds: tol } : {}) });
    }
  }
  return events;
}

async function personsClip(photos: Photos, name: string, description: string, seconds: number, actors: Walker[]): Promise<Clip> {
  for (const a of actors) {
    if (a.path.end > seconds) throw new RangeError(`${name}: a walker is still walking at ${a.path.end.toFixed(1)} s, after the clip's end`);
  }
  return stageClip({
    name,
    description,
    seconds,
    camera: CAMERA,
    events: crossingEvents(actors),
    background: await fieldBackground(photos),
    actors: await ActorLayer.create(photos, actors),
  });
}

// Paths in frame pixels: the horizon is at y ≈ 172, the line at y ≈ 346; walkers come in from the
// far side edges (feet at y ≈ 250–300) or the bottom edge (feet below 576).

export const PERSONS_CLIPS: ClipSpec[] = [
  {
    name: 'persons-basic',
    scene: 'persons',
    version: 1,
    quick: true,
    build: (photos) =>
      personsClip(photos, 'persons-basic', 'four single crossings downwards; one walker going up and one walking along the far side are not counted', 30, [
        walker('blueJacket', walk(0.5, [[-40, 262], [230, 292], [330, 640]])),
        walker('lightHoodie', walk(3, [[430, 640], [470, 270], [744, 250]])),
        walker('navyHoodie', walk(7.5, [[744, 258], [530, 296], [470, 640]]), true),
        walker('blueJacket', walk(11, [[744, 300], [-40, 292]]), true),
        walker('blueJacket', walk(15.5, [[-40, 270], [160, 300], [260, 640]])),
        walker('navyHoodie', walk(22, [[744, 262], [600, 300], [560, 640]]), true),
      ]),
  },
  {
    name: 'persons-groups',
    scene: 'persons',
    version: 2,
    quick: false,
    build: (photos) =>
      personsClip(photos, 'persons-groups', 'two people crossing side by side (2), a pair going up (0), a staggered, overlapping pair (2), one more (1)', 32, [
        walker('blueJacket', crossingAt(5, [[-40, 272], [220, 300], [260, 640]])),
        walker('navyHoodie', crossingAt(5.1, [[-40, 300], [390, 318], [420, 640]])),
        walker('lightHoodie', walk(9, [[300, 640], [330, 270], [-40, 250]])),
        walker('navyHoodie', walk(9.4, [[470, 640], [480, 270], [744, 252]])),
        walker('blueJacket', walk(17, [[744, 270], [400, 300], [340, 640]]), true),
        walker('lightHoodie', walk(17.6, [[744, 282], [470, 306], [420, 640]]), true),
        walker('navyHoodie', walk(25, [[-40, 262], [150, 300], [190, 640]])),
      ]),
  },
  {
    name: 'persons-pause',
    scene: 'persons',
    version: 1,
    quick: false,
    build: (photos) =>
      personsClip(
        photos,
        'persons-pause',
        'one person stops with the feet just over the line for 6 s, then goes on (1); one stops short of the line and turns back (0); one walks along the near side (0); two more cross (2)',
        36,
        [
          // Counted when the feet first pass the line; a counter may wait until they leave it.
          walker('blueJacket', walk(0.5, [[-40, 266], [250, 296], [300, LINE_Y + 6], { pause: 6 }, [330, 640]]), false, 9),
          walker('navyHoodie', walk(4, [[744, 262], [520, 292], [500, LINE_Y - 30], { pause: 4 }, [560, 292], [744, 270]]), true),
          walker('lightHoodie', walk(14, [[-40, 470], [744, 480]])),
          walker('blueJacket', walk(21, [[744, 266], [500, 300], [420, 640]]), true),
          walker('navyHoodie', walk(27, [[-40, 266], [120, 300], [180, 640]])),
        ],
      ),
  },
  {
    name: 'persons-busy',
    scene: 'persons',
    version: 1,
    quick: false,
    build: (photos) =>
      personsClip(photos, 'persons-busy', 'eight crossings downwards, some at the same time as people going up or along the line elsewhere', 40, [
        walker('blueJacket', walk(0.5, [[-40, 270], [180, 300], [240, 640]])),
        walker('lightHoodie', walk(1.5, [[560, 640], [600, 270], [744, 262]])),
        walker('navyHoodie', walk(4.5, [[744, 262], [560, 300], [520, 640]]), true),
        walker('blueJacket', walk(8, [[744, 272], [420, 300], [380, 640]]), true),
        walker('navyHoodie', walk(9, [[-40, 300], [744, 310]])),
        walker('lightHoodie', walk(12.5, [[150, 640], [190, 272], [-40, 262]])),
        walker('navyHoodie', walk(14, [[-40, 262], [110, 300], [140, 640]])),
        walker('blueJacket', walk(18, [[-40, 270], [300, 300], [330, 640]])),
        walker('lightHoodie', walk(22, [[440, 640], [470, 280], [744, 260]])),
        walker('navyHoodie', walk(23.5, [[744, 262], [620, 300], [600, 640]]), true),
        walker('blueJacket', walk(27, [[744, 270], [520, 300], [470, 640]]), true),
        walker('navyHoodie', walk(30.5, [[-40, 262], [260, 300], [280, 640]])),
      ]),
  },
];
