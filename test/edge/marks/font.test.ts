import t from 'tap';
import { CELL_WIDTH, forEachTextPixel, GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows, textHeight, textWidth } from '../../../edge/marks/font.ts';

const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));

t.test('every printable ASCII character has its own glyph within 5×7', async (t) => {
  const seen = new Map<string, string>();
  for (const ch of printable) {
    const rows = glyphRows(ch);
    t.equal(rows.length, GLYPH_HEIGHT, `${ch} has ${GLYPH_HEIGHT} rows`);
    t.ok(rows.every((r) => r >= 0 && r < 1 << GLYPH_WIDTH), `${ch} fits ${GLYPH_WIDTH} columns`);
    const key = rows.join(',');
    if (ch !== ' ') t.not(key, '0,0,0,0,0,0,0', `${ch} is not blank`);
    t.notOk(seen.has(key), `${ch} differs from ${seen.get(key) ?? 'the others'}`);
    seen.set(key, ch);
  }
});

t.test('characters outside ASCII draw a hollow box, not a letter', async (t) => {
  const box = glyphRows('中');
  t.same(box, [0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f]);
  t.same(glyphRows('é'), box);
  t.notSame(glyphRows('?'), box);
});

t.test('measures and scales', async (t) => {
  t.equal(textWidth('', 2), 0);
  t.equal(textWidth('A', 1), GLYPH_WIDTH);
  t.equal(textWidth('AB', 1), CELL_WIDTH + GLYPH_WIDTH);
  t.equal(textWidth('AB', 3), 3 * (CELL_WIDTH + GLYPH_WIDTH));
  t.equal(textHeight(2), 14);
  const at1: string[] = [];
  const at2: string[] = [];
  forEachTextPixel('1', 0, 0, 1, (x, y) => at1.push(`${x},${y}`));
  forEachTextPixel('1', 10, 20, 2, (x, y) => at2.push(`${x},${y}`));
  t.equal(at2.length, at1.length * 4, 'each pixel becomes a 2×2 square');
  t.ok(at2.every((p) => {
    const [x, y] = p.split(',').map(Number) as [number, number];
    return x >= 10 && x < 10 + 2 * GLYPH_WIDTH && y >= 20 && y < 20 + 2 * GLYPH_HEIGHT;
  }), 'scaled text stays in its cell');
  // '1' has its stem in the middle column on every row but the last.
  t.ok(at1.includes('2,3') && at1.includes('2,0'));
});
