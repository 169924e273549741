// The elevated-view persons and the gate trucks at the guide's sizes, rendered without encoding:
// people keep the perspective scale along their walk, the truth counts what the paths cross, night
// frames are grey, and a truck's box covers the share of the picture its clip is named for.
import t from 'tap';
import { Photos } from '../../../edge/eval/scenes/clip.ts';
import { ELEVATED_PERSONS_CLIPS, heightAt, lineHeight, LONG, STEEP } from '../../../edge/eval/scenes/elevatedPersons.ts';
import { GATE_TRUCKS_CLIPS, truckHeightForShare } from '../../../edge/eval/scenes/gateTrucks.ts';
import { parseTruth } from '../../../edge/eval/truth.ts';
import { truthOf } from '../../../edge/eval/scenes/clip.ts';

const photos = new Photos();
const spec = (name: string) => [...ELEVATED_PERSONS_CLIPS, ...GATE_TRUCKS_CLIPS].find((c) => c.name === name)!;

t.test('the views: people shrink towards the vanishing row, and the lines sit at the heights the clips are named for', async (t) => {
  t.ok(heightAt(STEEP, 0) > 25 && heightAt(STEEP, 576) > 140, 'steep: ~27 px at the top, ~150 at the bottom');
  t.ok(heightAt(LONG, 60) < 20 && heightAt(LONG, 576) > 190, 'long: under 20 px far away');
  t.ok(Math.abs(lineHeight({ view: LONG, lineY: 0.2 }) - 38) < 1);
});

t.test('elev-long-away: six counted crossings, each walker as tall as the view makes them where they stand', async (t) => {
  const clip = await spec('elev-long-away').build(photos);
  const truth = parseTruth(truthOf(clip, 'test'));
  t.equal(truth.events.length, 6);
  t.same(truth.camera.analyses.person?.line, [[0.02, 0.32], [0.98, 0.32]]);
  let seen = 0;
  for (let i = 0; i < clip.frames; i += 7) {
    for (const o of clip.objects(i)) {
      if (o.box.y2 >= 570 || o.box.y1 <= 0) continue; // cut by the frame's edge
      const expected = heightAt(LONG, o.box.y2);
      t.ok(Math.abs(o.box.y2 - o.box.y1 - expected) <= Math.max(3, 0.06 * expected), `frame ${i}: ${o.box.y2 - o.box.y1} px tall at y ${o.box.y2}, ${expected.toFixed(0)} expected`);
      seen++;
    }
  }
  t.ok(seen > 20);
});

t.test('night clips are grey, with a blooming lamp', async (t) => {
  const clip = await spec('elev-night-pairs-away').build(photos);
  const img = clip.render(50);
  let colour = 0;
  for (let i = 0; i < img.rgb.length; i += 3) if (img.rgb[i] !== img.rgb[i + 1] || img.rgb[i] !== img.rgb[i + 2]) colour++;
  t.equal(colour, 0, 'every pixel grey');
  t.equal(img.rgb[(30 * img.width + 70) * 3], 255, 'the lamp saturates');
});

t.test('gate trucks cover 1/128 of the picture', async (t) => {
  const clip = await spec('gate-trucks-1-128').build(photos);
  const h = truckHeightForShare(1 / 128);
  const box = clip.objects(Math.round(5.5 * 5)).find((o) => o.cls === 'vehicle' && o.box.x1 > 0 && o.box.x2 < 704)!;
  const share = ((box.box.x2 - box.box.x1) * (box.box.y2 - box.box.y1)) / (704 * 576);
  t.ok(Math.abs(share * 128 - 1) < 0.1, `share 1/${(1 / share).toFixed(0)}, ${h.toFixed(0)} px tall`);
});
