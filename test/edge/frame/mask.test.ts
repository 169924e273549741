import fc from 'fast-check';
import t from 'tap';
import { dilateMask, maskRegions, polygonMask, type Mask } from '../../../edge/frame/mask.ts';

function mask(rows: string[]): Mask {
  const width = rows[0]!.length;
  return { width, height: rows.length, data: Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0)) };
}

function draw(m: Mask): string[] {
  const rows: string[] = [];
  for (let y = 0; y < m.height; y++) rows.push([...m.data.subarray(y * m.width, (y + 1) * m.width)].map((v) => (v ? '#' : '.')).join(''));
  return rows;
}

t.test('polygons in normalised coordinates are rasterised by pixel centre', async (t) => {
  const whole = polygonMask(8, 4, [[{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }, { x: 0, y: 1 }]]);
  t.ok(whole.data.every((v) => v === 1));
  const left = polygonMask(8, 4, [[{ x: 0, y: 0 }, { x: 0.5, y: 0 }, { x: 0.5, y: 1 }, { x: 0, y: 1 }]]);
  t.same(draw(left), ['####....', '####....', '####....', '####....']);
  const triangle = polygonMask(4, 4, [[{ x: 0, y: 0 }, { x: 1, y: 1 }, { x: 0, y: 1 }]]);
  t.same(draw(triangle), ['....', '#...', '##..', '###.'], 'a centre on the right edge is outside');
  t.ok(polygonMask(4, 4, [[{ x: 0, y: 0 }, { x: 1, y: 1 }]]).data.every((v) => v === 0), 'two points cover nothing');
  const two = polygonMask(8, 2, [
    [{ x: 0, y: 0 }, { x: 0.25, y: 0 }, { x: 0.25, y: 1 }, { x: 0, y: 1 }],
    [{ x: 0.75, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }, { x: 0.75, y: 1 }],
  ]);
  t.same(draw(two), ['##....##', '##....##']);
});

t.test('rectangles cover the pixels whose centres they contain', async (t) => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (a, b) => {
      const [x1, x2] = a < b ? [a, b] : [b, a];
      const m = polygonMask(20, 1, [[{ x: x1, y: 0 }, { x: x2, y: 0 }, { x: x2, y: 1 }, { x: x1, y: 1 }]]);
      return [...m.data].every((v, x) => v === (x + 0.5 >= x1 * 20 && x + 0.5 < x2 * 20 ? 1 : 0));
    }),
  );
});

t.test('dilation grows by a square', async (t) => {
  const dot = mask(['.....', '.....', '..#..', '.....', '.....']);
  t.same(draw(dilateMask(dot, 1)), ['.....', '.###.', '.###.', '.###.', '.....']);
  t.same(draw(dilateMask(mask(['#....', '.....', '.....']), 2)), ['###..', '###..', '###..']);
  t.same(dilateMask(dot, 0).data, dot.data);
});

t.test('regions are 8-connected, with boxes and pixel counts', async (t) => {
  const regions = maskRegions(mask(['##....', '.#...#', '..#..#', '......', '###...']));
  t.same(regions, [
    { x1: 0, y1: 0, x2: 3, y2: 3, area: 4 },
    { x1: 5, y1: 1, x2: 6, y2: 3, area: 2 },
    { x1: 0, y1: 4, x2: 3, y2: 5, area: 3 },
  ]);
  t.same(maskRegions(mask(['...', '...'])), []);
});
