// The dispatch room: a real person (person.jpg) standing at the desk of a synthetic control room,
// shifting weight a little, who walks out of view and comes back. An absence from the ROI longer
// than emptySeconds (180 s by default) is due one event at leave + emptySeconds; a shorter one
// none. The leave and return instants are where the person's box leaves and re-enters the ROI.
import type { TruthEvent } from '../truth.ts';
import { ActorLayer, type Actor } from './actors.ts';
import { roomBackground } from './backgrounds.ts';
import { WIDTH, type Clip, type ClipSpec, type Photos } from './clip.ts';
import { Path, type Key } from './paths.ts';
import { CROPS } from './sprites.ts';
import { stageClip } from './stage.ts';

export const ROOM_ROI: [number, number][] = [[0.06, 0.28], [0.94, 0.28], [0.94, 0.98], [0.06, 0.98]];
const ROI_RIGHT = ROOM_ROI[1]![0] * WIDTH;
const PERSON_H = 300;
const PERSON_W = (PERSON_H * CROPS.blueJacket.rect.width) / CROPS.blueJacket.rect.height;
const FOOT_Y = 520;
const DESK_X = 330;
const OFF_STAGE = WIDTH + 80;
/** walking pace across the room, px/s */
const PACE = 120;

type Stay = { at: number; until: number };

/** Present at the desk from `at` to `until`, arriving from / leaving to the right edge as asked. */
function presence(stay: Stay, arrive: boolean, leave: boolean): Actor {
  const walkTime = (OFF_STAGE - DESK_X) / PACE;
  const keys: Key[] = [];
  if (arrive) keys.push({ t: stay.at - walkTime, x: OFF_STAGE, y: FOOT_Y });
  // Standing is never quite still: a few pixels of sway every second and a half.
  for (let t = stay.at, i = 0; t <= stay.until + 1e-9; t += 1.5, i++) keys.push({ t, x: DESK_X + (i % 3 === 1 ? 4 : i % 3 === 2 ? -3 : 0), y: FOOT_Y + (i % 2) });
  if (leave) keys.push({ t: keys[keys.length - 1]!.t + walkTime, x: OFF_STAGE, y: FOOT_Y });
  return { crop: 'blueJacket', path: new Path(keys), height: () => PERSON_H, cls: 'person', bob: 0 };
}

/** Times (scanned in 0.01 s steps) at which the person's box enters (`inside`) or leaves the ROI. */
function roiTransitions(a: Actor, inside: boolean): number[] {
  const times: number[] = [];
  let was: boolean | undefined;
  for (let t = a.path.start; t <= a.path.end + 1e-9; t += 0.01) {
    const p = a.path.at(t)!;
    const isIn = p.x - PERSON_W / 2 < ROI_RIGHT;
    if (was !== undefined && isIn !== was && isIn === inside) times.push(Math.round(t * 100) / 100);
    was = isIn;
  }
  return times;
}

async function roomClip(photos: Photos, name: string, description: string, seconds: number, stays: Stay[], emptySeconds?: number): Promise<Clip> {
  const actors = stays.map((s, i) => presence(s, i > 0, s.until < seconds - 1));
  const events: TruthEvent[] = [];
  const wait = emptySeconds ?? 180;
  for (let i = 0; i < actors.length; i++) {
    const left = roiTransitions(actors[i]!, false)[0];
    if (left === undefined) continue;
    const back = actors[i + 1] ? roiTransitions(actors[i + 1]!, true)[0] : Infinity;
    if (back !== undefined && back - left > wait && left + wait <= seconds) events.push({ kind: 'dispatchRoom', atSeconds: Math.round((left + wait) * 100) / 100 });
  }
  return stageClip({
    name,
    description,
    seconds,
    camera: { role: 'dispatchRoom', analyses: { dispatchRoom: { roi: ROOM_ROI, ...(emptySeconds ? { emptySeconds } : {}) }, occlusion: {}, moved: {} } },
    events,
    background: roomBackground(name),
    actors: await ActorLayer.create(photos, actors),
    // Long static clips: a little less grain and a higher CRF keep them small.
    grain: 1.5,
    crf: 28,
  });
}

export const DISPATCH_ROOM_CLIPS: ClipSpec[] = [
  {
    name: 'dispatch-absence',
    scene: 'dispatchRoom',
    version: 1,
    quick: false,
    build: (photos) =>
      roomClip(photos, 'dispatch-absence', 'the dispatcher leaves at ~16 s and is away ~195 s: one event 180 s after leaving; back at the desk to the end', 230, [
        { at: 0, until: 15 },
        { at: 214, until: 230 },
      ]),
  },
  {
    name: 'dispatch-short-break',
    scene: 'dispatchRoom',
    version: 1,
    quick: false,
    build: (photos) =>
      roomClip(photos, 'dispatch-short-break', 'the dispatcher leaves for ~120 s and comes back: no event', 170, [
        { at: 0, until: 15 },
        { at: 139, until: 170 },
      ]),
  },
  {
    name: 'dispatch-quick',
    scene: 'dispatchRoom',
    version: 1,
    quick: true,
    build: (photos) =>
      roomClip(
        photos,
        'dispatch-quick',
        'emptySeconds 20 (a short stand-in for 180): away ~30 s (one event 20 s after leaving), then away ~12 s (none)',
        70,
        [
          { at: 0, until: 8 },
          { at: 41, until: 51 },
          { at: 66, until: 70 },
        ],
        20,
      ),
  },
];
