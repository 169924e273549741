// Vehicles at the truck gate: the real white pickup from dog.jpg, enlarged to gate-camera size,
// driving across a vertical counting line. Driving out (left to right, towards the outside) is
// counted; driving in (the mirrored truck, right to left) is not. Truth from the paths.
import type { TruthEvent } from '../truth.ts';
import { ActorLayer, type Actor } from './actors.ts';
import { roadBackground } from './backgrounds.ts';
import { HEIGHT, WIDTH, type Clip, type ClipSpec, type Photos } from './clip.ts';
import { Path, type Key } from './paths.ts';
import { CROPS } from './sprites.ts';
import { stageClip } from './stage.ts';

export const TRUCK_LINE_X = 0.5;
export const LINE_A = { x: TRUCK_LINE_X * WIDTH, y: 0.38 * HEIGHT };
export const LINE_B = { x: TRUCK_LINE_X * WIDTH, y: HEIGHT };
export const TOWARDS = { x: 0.9 * WIDTH, y: 0.7 * HEIGHT };

export const GATE_CAMERA: Clip['camera'] = {
  role: 'truckGate',
  analyses: {
    truck: { line: [[TRUCK_LINE_X, 0.38], [TRUCK_LINE_X, 1]], towards: [0.9, 0.7] },
    occlusion: {},
    moved: {},
  },
};

export const ASPECT = CROPS.pickup.rect.height / CROPS.pickup.rect.width;

/** ~340 px long in the near lane (bottom at y 520), ~270 px in the far lane (y 440). */
export function truckHeight(bottomY: number): number {
  return (340 + (bottomY - 520) * 0.9) * ASPECT;
}

const NEAR = 520;
const FAR = 440;

type Leg = { to: number; seconds: number } | { stop: number };

/** A drive along a lane: `legs` move the bottom centre to x in so many seconds, or stand still. */
function drive(t0: number, y: number, fromX: number, legs: readonly Leg[], mirrored = false): Actor {
  const keys: Key[] = [{ t: t0, x: fromX, y }];
  for (const leg of legs) {
    const last = keys[keys.length - 1]!;
    if ('stop' in leg) keys.push({ t: last.t + leg.stop, x: last.x, y });
    else keys.push({ t: last.t + leg.seconds, x: leg.to, y });
  }
  return { crop: 'pickup', mirrored, path: new Path(keys), height: truckHeight, cls: 'vehicle' };
}

const OFF_LEFT = -220;
const OFF_RIGHT = WIDTH + 220;

function out(t0: number, y: number, seconds = 7): Actor {
  return drive(t0, y, OFF_LEFT, [{ to: OFF_RIGHT, seconds }]);
}

function inwards(t0: number, y: number, seconds = 7): Actor {
  return drive(t0, y, OFF_RIGHT, [{ to: OFF_LEFT, seconds }], true);
}

/** The truth of a gate: one truck event each time a truck crosses the line outwards. */
export function truckCrossings(actors: readonly Actor[]): TruthEvent[] {
  const events: TruthEvent[] = [];
  for (const a of actors) {
    for (const c of a.path.crossings(LINE_A, LINE_B, TOWARDS)) {
      if (c.direction === 1) events.push({ kind: 'truck', atSeconds: Math.round(c.t * 100) / 100 });
    }
  }
  return events;
}

async function trucksClip(photos: Photos, name: string, description: string, seconds: number, actors: Actor[]): Promise<Clip> {
  for (const a of actors) {
    if (a.path.end > seconds) throw new RangeError(`${name}: a truck is still driving at ${a.path.end.toFixed(1)} s, after the clip's end`);
  }
  const events = truckCrossings(actors);
  return stageClip({
    name,
    description,
    seconds,
    camera: GATE_CAMERA,
    events,
    background: await roadBackground(photos, LINE_A.x),
    actors: await ActorLayer.create(photos, actors),
  });
}

export const TRUCKS_CLIPS: ClipSpec[] = [
  {
    name: 'trucks-gate',
    scene: 'trucks',
    version: 1,
    quick: true,
    build: (photos) =>
      trucksClip(photos, 'trucks-gate', 'a truck every 8 s: four drive out (counted), two drive in (not counted), in the near and far lanes', 48, [
        out(1, NEAR),
        inwards(9, NEAR),
        out(17, FAR),
        out(25, NEAR, 7.5),
        inwards(33, FAR),
        out(40, NEAR, 6.5),
      ]),
  },
  {
    name: 'trucks-stop',
    scene: 'trucks',
    version: 1,
    quick: false,
    build: (photos) =>
      trucksClip(photos, 'trucks-stop', 'a truck stops 4 s short of the line and then drives out (1); one drives in and stops past the line (0); a slow one drives out (1)', 44, [
        drive(1, NEAR, OFF_LEFT, [{ to: 200, seconds: 3 }, { stop: 4 }, { to: OFF_RIGHT, seconds: 4 }]),
        drive(14, FAR, OFF_RIGHT, [{ to: 260, seconds: 3 }, { stop: 3 }, { to: OFF_LEFT, seconds: 3 }], true),
        out(26, NEAR, 14),
      ]),
  },
];
