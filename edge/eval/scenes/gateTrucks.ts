// Trucks at the gate at the sizes the guide's gate cameras give them: a box of 1/128 to 1/32 of
// the picture (5.3.4), far smaller than the pickup of trucks.ts. The real pickup from dog.jpg drives
// across the gate's vertical counting line, out (counted) and in (not), in two lanes, by day and by
// infrared night, encoded at a mine uplink's bitrate. Truth from the paths.
import { ActorLayer, type Actor } from './actors.ts';
import { roadBackground } from './backgrounds.ts';
import { HEIGHT, WIDTH, type Clip, type ClipSpec, type Photos } from './clip.ts';
import { UPLINK_KBPS } from './elevatedPersons.ts';
import { infraredNight } from './night.ts';
import { Path } from './paths.ts';
import { stageClip } from './stage.ts';
import { ASPECT, GATE_CAMERA, LINE_A, truckCrossings } from './trucks.ts';

/** Height in pixels of the pickup whose box covers `share` of the frame. */
export function truckHeightForShare(share: number): number {
  const width = Math.sqrt((share * WIDTH * HEIGHT) / ASPECT);
  return width * ASPECT;
}

const LANES = [455, 520] as const;

/** A truck of box share `share` driving across in `seconds` (out: left to right). */
function truck(t0: number, lane: number, share: number, out: boolean, seconds: number): Actor {
  const h = truckHeightForShare(share);
  const w = h / ASPECT;
  const [from, to] = out ? [-w, WIDTH + w] : [WIDTH + w, -w];
  return {
    crop: 'pickup',
    mirrored: !out,
    path: new Path([
      { t: t0, x: from, y: lane },
      { t: t0 + seconds, x: to, y: lane },
    ]),
    height: () => h,
    cls: 'vehicle',
    shadow: 0.4,
  };
}

async function gateClip(photos: Photos, name: string, description: string, actors: Actor[], night: boolean): Promise<Clip> {
  const events = truckCrossings(actors);
  const seconds = Math.ceil(Math.max(...actors.map((a) => a.path.end)) + 2);
  return stageClip({
    name,
    description,
    seconds,
    camera: GATE_CAMERA,
    events,
    background: await roadBackground(photos, LINE_A.x, `${name}:road`),
    actors: await ActorLayer.create(photos, actors),
    ...(night
      ? {
          paint: infraredNight({ seed: `${name}:ir`, spot: { x: WIDTH / 2, y: HEIGHT * 0.85 }, reach: 300, ambient: 0.3, lamps: [{ x: 352, y: 110, r: 6 }], grain: 7 }),
          grain: 0,
        }
      : {}),
    bitrateKbps: UPLINK_KBPS,
  });
}

/** Four out (counted), two in, alternating lanes; the gate's pace, about 10 km/h. */
function traffic(share: number, seconds: number): Actor[] {
  return [
    truck(1, LANES[1], share, true, seconds),
    truck(4, LANES[0], share, false, seconds),
    truck(10, LANES[0], share, true, seconds * 1.2),
    truck(17, LANES[1], share, true, seconds * 0.9),
    truck(21, LANES[1], share, false, seconds),
    truck(27, LANES[0], share, true, seconds * 1.1),
  ];
}

function spec(name: string, description: string, actors: () => Actor[], night = false): ClipSpec {
  return { name, scene: 'gateTrucks', version: 1, quick: false, build: (photos) => gateClip(photos, name, description, actors(), night) };
}

export const GATE_TRUCKS_CLIPS: ClipSpec[] = [
  spec('gate-trucks-1-128', 'trucks 1/128 of the picture (85×38 px): four drive out (4), two in (0)', () => traffic(1 / 128, 9)),
  spec('gate-trucks-1-64', 'trucks 1/64 of the picture (120×53 px): four drive out (4), two in (0)', () => traffic(1 / 64, 9)),
  spec('gate-trucks-1-32', 'trucks 1/32 of the picture (170×75 px): four drive out (4), two in (0)', () => traffic(1 / 32, 9)),
  spec(
    'gate-trucks-night',
    'night, infrared: trucks of 1/128, 1/64 and 1/32 of the picture drive out (4) and in (0)',
    () => [truck(1, LANES[1], 1 / 128, true, 9), truck(4, LANES[0], 1 / 64, false, 9), truck(10, LANES[0], 1 / 32, true, 10), truck(17, LANES[1], 1 / 64, true, 8), truck(21, LANES[1], 1 / 128, false, 9), truck(27, LANES[0], 1 / 128, true, 10)],
    true,
  ),
];
