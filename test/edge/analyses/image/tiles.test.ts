import t from 'tap';
import { IgnoreMask } from '../../../../edge/analyses/image/ignoreMask.ts';
import { matchTile, tileGrid, tileShare } from '../../../../edge/analyses/image/tiles.ts';
import type { WorkImage } from '../../../../edge/analyses/image/workImage.ts';

function textured(w: number, h: number, dx = 0): WorkImage {
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = 128 + 60 * Math.sin((x - dx) * 0.7 + Math.cos(y * 0.3) * 2) + ((((x - dx) * 31 + y * 17) % 13) - 6) * 3;
  return { width: w, height: h, data };
}

t.test('tileGrid covers the image exactly', (t) => {
  const tiles = tileGrid(100, 70, 3, 2);
  t.equal(tiles.length, 6);
  t.equal(tiles.reduce((a, b) => a + b.w * b.h, 0), 7000);
  t.end();
});

t.test('matchTile: in place, at a shift, with ignored pixels', (t) => {
  const ref = textured(64, 64);
  const moved = textured(64, 64, 5);
  const tile = { x: 16, y: 16, w: 32, h: 32 };
  t.ok(matchTile(ref, ref, tile, 0, 0).ncc > 0.999, 'identical');
  t.ok(matchTile(ref, moved, tile, 0, 0).ncc < 0.6, 'shifted content does not match in place');
  t.ok(matchTile(ref, moved, tile, 5, 0).ncc > 0.999, 'it matches at the shift');
  const use = new IgnoreMask([[{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 0.5 }, { x: 0, y: 0.5 }]]).at(64, 64)!;
  t.equal(matchTile(ref, ref, tile, 0, 0, use).used, 0.5, 'the ignored half is not compared');
  t.equal(new IgnoreMask([]).at(64, 64), undefined, 'nothing ignored: no mask');
  const flags = new Uint8Array(64 * 64).fill(1);
  t.equal(tileShare(flags, 64, tile, use), 1);
  t.end();
});
