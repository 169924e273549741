import t from 'tap';
import { blockGrid, matchAlongAxis, summariseAxisMotion, type AxisMatchOptions } from '../../../../edge/analyses/image/blockMatching.ts';
import { texture, window } from './texture.ts';

const OPTS: AxisMatchOptions = { size: 12, maxShift: 10, minTexture: 2, distinctness: 0.5 };
const scene = texture(300, 200, 'block-scene', 4);
const W = 160;
const H = 100;
const prev = window(scene, 60, 50, W, H);
const blocks = blockGrid(W, H, 12, undefined, 12, 100);

t.test('the grid keeps blocks inside the mask and thins them evenly', (t) => {
  t.ok(blocks.length > 20);
  const mask = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < 80; x++) mask[y * W + x] = 1;
  const left = blockGrid(W, H, 12, mask, 0, 100);
  t.ok(left.length > 0 && left.every((b) => b.x + 12 <= 80), 'all in the left half');
  t.equal(blockGrid(W, H, 12, undefined, 0, 5).length, 5);
  t.end();
});

t.test('a shift along the axis is found in every block, with its sign and sub-pixel part', (t) => {
  for (const shift of [3, -2, 1.5, 6]) {
    // content moves right by `shift`: the new view starts `shift` further left in the scene
    const cur = window(scene, 60 - shift, 50, W, H);
    const m = summariseAxisMotion(matchAlongAxis(prev, cur, blocks, 1, 0, OPTS), 0.5);
    t.equal(m.valid, m.blocks, `all blocks matched for ${shift}`);
    t.equal(m.consistent, m.valid, `all agree for ${shift}`);
    t.ok(Math.abs(m.median - shift) < 0.3, `median ${m.median.toFixed(2)} for ${shift}`);
  }
  t.end();
});

t.test('a diagonal axis', (t) => {
  const ux = Math.SQRT1_2;
  const cur = window(scene, 60 - 4, 50 - 4, W, H);
  const m = summariseAxisMotion(matchAlongAxis(prev, cur, blocks, ux, ux, OPTS), 0.5);
  t.ok(m.consistent >= 0.8 * m.valid, `consistent ${m.consistent}/${m.valid}`);
  t.ok(Math.abs(m.median - 4 * Math.SQRT2) < 0.6, `median ${m.median.toFixed(2)} ≈ ${(4 * Math.SQRT2).toFixed(2)}`);
  t.end();
});

t.test('a still view relit by a lamp stays still', (t) => {
  const cur = { ...prev, data: prev.data.map((v) => v * 0.7 + 20) };
  const m = summariseAxisMotion(matchAlongAxis(prev, cur, blocks, 1, 0, OPTS), 0.5);
  t.equal(m.still, m.blocks);
  t.equal(m.consistent, 0);
  t.end();
});

t.test('movement across the axis does not look like movement along it', (t) => {
  const cur = window(scene, 60, 50 - 4, W, H);
  const m = summariseAxisMotion(matchAlongAxis(prev, cur, blocks, 1, 0, OPTS), 0.5);
  t.ok(m.consistent < 0.3 * m.blocks, `consistent ${m.consistent} of ${m.blocks}`);
  t.end();
});

t.test('flat blocks are not matched', (t) => {
  const flat = { width: W, height: H, data: new Float32Array(W * H).fill(90) };
  const m = summariseAxisMotion(matchAlongAxis(flat, flat, blocks, 1, 0, OPTS), 0.5);
  t.equal(m.valid, 0);
  t.throws(() => matchAlongAxis(prev, window(scene, 0, 0, 10, 10), blocks, 1, 0, OPTS), RangeError);
  t.end();
});
