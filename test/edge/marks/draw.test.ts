import fc from 'fast-check';
import t from 'tap';
import { drawMarks, footerText, textScaleFor } from '../../../edge/marks/draw.ts';
import { textHeight, textWidth } from '../../../edge/marks/font.ts';
import { emptyMarks, type Marks, type Rgb } from '../../../edge/types.ts';

const W = 200;
const H = 150;
const GUARD = 64;
const RED: Rgb = [255, 0, 0];
const GREEN: Rgb = [0, 255, 0];
const AT = Date.UTC(2024, 0, 2, 3, 4, 5);

/** A grey frame with guard bytes after it, to catch writes past the end. */
function canvas(fill = 0): Uint8Array {
  const buf = new Uint8Array(W * H * 3 + GUARD).fill(fill);
  buf.fill(0xab, W * H * 3);
  return buf;
}

function px(rgb: Uint8Array, x: number, y: number): [number, number, number] {
  const i = (y * W + x) * 3;
  return [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
}

function guardIntact(rgb: Uint8Array): boolean {
  return rgb.subarray(W * H * 3).every((b) => b === 0xab);
}

function marks(m: Partial<Marks>): Marks[] {
  return [{ ...emptyMarks(), ...m }];
}

/** Pixels that differ between two frames, as [x, y]. */
function diff(a: Uint8Array, b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) if (px(a, x, y).join() !== px(b, x, y).join()) out.push([x, y]);
  }
  return out;
}

t.test('a box is a 2 px outline with a filled label tag above it', async (t) => {
  const rgb = canvas();
  drawMarks(rgb, W, H, marks({ boxes: [{ box: { x1: 40, y1: 50, x2: 100, y2: 110 }, label: 'P1', color: RED }] }), { time: AT, camera: 'c' });
  t.same(px(rgb, 40, 80), RED, 'left edge');
  t.same(px(rgb, 41, 80), RED, 'left edge, second pixel');
  t.same(px(rgb, 42, 80), [0, 0, 0], 'inside is untouched');
  t.same(px(rgb, 99, 80), RED, 'right edge');
  t.same(px(rgb, 70, 50), RED, 'top edge');
  t.same(px(rgb, 70, 109), RED, 'bottom edge');
  t.same(px(rgb, 70, 80), [0, 0, 0], 'centre untouched');
  t.same(px(rgb, 39, 80), [0, 0, 0], 'nothing left of the box');
  // The tag: one line of text plus padding, right above the top edge, red with white text.
  const s = textScaleFor(H);
  const tagH = textHeight(s) + 2 * s;
  const tagW = textWidth('P1', s) + 2 * s;
  let red = 0;
  let white = 0;
  for (let y = 50 - tagH; y < 50; y++) {
    for (let x = 40; x < 40 + tagW; x++) {
      const c = px(rgb, x, y).join();
      if (c === RED.join()) red++;
      else if (c === '255,255,255') white++;
    }
  }
  t.equal(red + white, tagW * tagH, 'the tag is filled');
  t.ok(white > 10, `the label is written in it (${white} px)`);
  t.same(px(rgb, 40 + tagW, 50 - 2), [0, 0, 0], 'the tag ends after the text');
  t.ok(guardIntact(rgb));
});

t.test('lines are 2 px Bresenham lines; polygons close', async (t) => {
  const rgb = canvas();
  drawMarks(
    rgb,
    W,
    H,
    marks({
      lines: [
        { a: { x: 10, y: 20 }, b: { x: 190, y: 20 }, color: GREEN },
        { a: { x: 10, y: 30 }, b: { x: 60, y: 80 }, color: RED },
      ],
      polygons: [{ points: [{ x: 120, y: 60 }, { x: 180, y: 60 }, { x: 150, y: 120 }], color: GREEN }],
    }),
    { time: AT, camera: 'c' },
  );
  for (const x of [10, 100, 190]) {
    t.same(px(rgb, x, 20), GREEN, `horizontal line at x=${x}`);
    t.same(px(rgb, x, 21), GREEN, `second row at x=${x}`);
    t.same(px(rgb, x, 22), [0, 0, 0], `only two rows at x=${x}`);
  }
  t.same(px(rgb, 9, 20), [0, 0, 0], 'the line stops at its end point');
  for (let k = 0; k <= 50; k += 10) t.same(px(rgb, 10 + k, 30 + k), RED, `diagonal at +${k}`);
  t.same(px(rgb, 150, 60), GREEN, 'polygon top side');
  t.same(px(rgb, 150, 119), GREEN, 'polygon apex');
  t.same(px(rgb, 135, 90), GREEN, 'polygon closing side');
  t.same(px(rgb, 150, 80), [0, 0, 0], 'polygon is not filled');
});

t.test('status texts top-left on a dark band; camera and Beijing time bottom-right', async (t) => {
  const grey = 120;
  const rgb = canvas(grey);
  drawMarks(rgb, W, H, marks({ texts: ['belt: running'] }), { time: AT, camera: 'aux-1', state: 'shut' });
  t.equal(footerText({ time: AT, camera: 'aux-1', state: 'shut' }), 'aux-1  shut  2024-01-02 11:04:05', 'UTC 03:04:05 is 11:04:05 in Beijing');
  const [r] = px(rgb, 0, 0);
  t.ok(r < grey / 2, `band darkens the corner (${r})`);
  let whiteTop = 0;
  for (let y = 0; y < 15; y++) for (let x = 0; x < 100; x++) if (px(rgb, x, y).join() === '255,255,255') whiteTop++;
  t.ok(whiteTop > 30, `status text is drawn (${whiteTop} px)`);
  t.same(px(rgb, W - 1, 40), [grey, grey, grey], 'away from the bands the frame is untouched');

  // One second later only the last digit of the time changes, in the bottom-right corner.
  const later = canvas(grey);
  drawMarks(later, W, H, marks({ texts: ['belt: running'] }), { time: AT + 1000, camera: 'aux-1', state: 'shut' });
  const changed = diff(rgb, later);
  t.ok(changed.length > 0, 'the time is drawn');
  t.ok(changed.every(([x, y]) => x >= W - 12 && y >= H - 12), 'and it is the bottom-right glyph');
});

t.test('boxes partly or wholly outside the frame draw only what falls inside', async (t) => {
  const rgb = canvas();
  drawMarks(
    rgb,
    W,
    H,
    marks({
      boxes: [
        { box: { x1: -300, y1: -300, x2: -10, y2: -10 }, label: 'gone', color: RED },
        { box: { x1: W + 5, y1: 10, x2: W + 50, y2: 60 }, label: 'gone too', color: RED },
        { box: { x1: -50, y1: 100, x2: 30, y2: H + 40 }, label: 'half', color: GREEN },
      ],
    }),
    { time: AT, camera: 'c' },
  );
  t.ok(guardIntact(rgb), 'nothing written past the end of the frame');
  t.same(px(rgb, 28, 120), GREEN, 'the visible right edge of the half box');
  t.same(px(rgb, 0, 100), GREEN, 'its top edge from the frame border');
  for (let y = 0; y < H - 20; y++) t.same(px(rgb, W - 1, y), [0, 0, 0], `no wrap-around into column ${W - 1} at row ${y}`);
  for (let y = 0; y < 90; y++) for (let x = 0; x < W; x++) if (px(rgb, x, y).join() !== '0,0,0') t.fail(`pixel ${x},${y} drawn for a box outside the frame`);
});

t.test('never throws and never writes outside the frame, whatever the coordinates', async (t) => {
  const coord = fc.oneof(fc.double({ min: -1e5, max: 1e5, noNaN: true }), fc.constantFrom(NaN, Infinity, -Infinity, 0, W, H, -1));
  const color = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }));
  const point = fc.record({ x: coord, y: coord });
  const mark = fc.record({
    boxes: fc.array(fc.record({ box: fc.record({ x1: coord, y1: coord, x2: coord, y2: coord }), label: fc.string({ maxLength: 80 }), color }), { maxLength: 4 }),
    lines: fc.array(fc.record({ a: point, b: point, color, label: fc.option(fc.string(), { nil: undefined }) }), { maxLength: 4 }),
    polygons: fc.array(fc.record({ points: fc.array(point, { maxLength: 5 }), color, label: fc.option(fc.string(), { nil: undefined }) }), { maxLength: 2 }),
    texts: fc.array(fc.string({ maxLength: 100 }), { maxLength: 4 }),
  });
  fc.assert(
    fc.property(fc.array(mark, { maxLength: 3 }), fc.string({ maxLength: 40 }), (ms, camera) => {
      const rgb = canvas();
      drawMarks(rgb, W, H, ms as Marks[], { time: AT, camera });
      return guardIntact(rgb);
    }),
    { numRuns: 150 },
  );
  t.pass('150 random mark sets drawn');
});

t.test('refuses a buffer smaller than the frame', async (t) => {
  t.throws(() => drawMarks(new Uint8Array(10), W, H, [], { time: AT, camera: 'c' }), RangeError);
});
