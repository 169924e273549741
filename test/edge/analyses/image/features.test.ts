import t from 'tap';
import { darkRatio, edgeDensity, laplacianVariance, meanBrightness, ncc, percentile, stdDev } from '../../../../edge/analyses/image/features.ts';
import { downscaleFrame, downscaleRegion, factorFor, resample, type WorkImage } from '../../../../edge/analyses/image/workImage.ts';
import { texture } from './texture.ts';

function flat(w: number, h: number, v: number): WorkImage {
  return { width: w, height: h, data: new Float32Array(w * h).fill(v) };
}

function map(img: WorkImage, f: (v: number, i: number) => number): WorkImage {
  return { width: img.width, height: img.height, data: img.data.map(f) };
}

/** 3x3 box blur, repeated. */
function blur(img: WorkImage, times: number): WorkImage {
  let cur = img;
  for (let k = 0; k < times; k++) {
    const { width: w, height: h } = cur;
    const out = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += cur.data[Math.min(h - 1, Math.max(0, y + dy)) * w + Math.min(w - 1, Math.max(0, x + dx))]!;
        out[y * w + x] = s / 9;
      }
    }
    cur = { width: w, height: h, data: out };
  }
  return cur;
}

t.test('brightness, spread, darkness and percentiles', (t) => {
  const half = map(flat(10, 10, 0), (_, i) => (i < 50 ? 20 : 200));
  t.equal(meanBrightness(half), 110);
  t.equal(stdDev(half), 90);
  t.equal(darkRatio(half, 35), 0.5);
  t.equal(percentile(half, 0.9), 200);
  t.equal(percentile(half, 0.4), 20);
  const mask = new Uint8Array(100).fill(0, 0, 50).fill(1, 50);
  t.equal(meanBrightness(half, mask), 200, 'mask selects the bright half');
  t.equal(darkRatio(half, 35, mask), 0);
  t.equal(stdDev(flat(8, 8, 77)), 0);
  t.end();
});

t.test('edge density: none on a flat image, high on texture, lower when blurred', (t) => {
  t.equal(edgeDensity(flat(32, 32, 100), 4), 0);
  const tex = texture(96, 96, 'features-edges', 3);
  const sharp = edgeDensity(tex, 8);
  const soft = edgeDensity(blur(tex, 10), 8);
  t.ok(sharp > 0.3, `textured ${sharp.toFixed(2)}`);
  t.ok(soft < sharp / 2, `blurred ${soft.toFixed(2)} < half of ${sharp.toFixed(2)}`);
  // a vertical step of 100 levels is an edge two pixels wide (Sobel), on every row inside
  const step = map(flat(20, 20, 0), (_, i) => (i % 20 < 10 ? 0 : 100));
  t.equal(edgeDensity(step, 20), (2 * 18) / (18 * 18));
  t.end();
});

t.test('Laplacian variance measures sharpness', (t) => {
  const tex = texture(96, 96, 'features-lap', 3);
  t.equal(laplacianVariance(flat(16, 16, 9)), 0);
  t.ok(laplacianVariance(blur(tex, 3)) < laplacianVariance(tex) / 5, 'blur divides it');
  t.end();
});

t.test('NCC ignores gain and offset, and sees inversion and unrelated content', (t) => {
  const a = texture(64, 64, 'ncc-a');
  const b = texture(64, 64, 'ncc-b', 5);
  t.ok(Math.abs(ncc(a, a) - 1) < 1e-9);
  t.ok(Math.abs(ncc(a, map(a, (v) => 0.4 * v + 50)) - 1) < 1e-6, 'relit');
  t.ok(Math.abs(ncc(a, map(a, (v) => 255 - v)) + 1) < 1e-6, 'inverted');
  t.ok(Math.abs(ncc(a, b)) < 0.3, `unrelated ${ncc(a, b).toFixed(2)}`);
  t.equal(ncc(a, flat(64, 64, 3)), 0, 'flat');
  t.throws(() => ncc(a, flat(32, 32, 0)), RangeError);
  t.end();
});

t.test('downscaling averages blocks; the whole-frame result is cached per buffer', (t) => {
  const gray = new Uint8Array(8 * 4);
  for (let i = 0; i < gray.length; i++) gray[i] = i;
  const small = downscaleRegion(gray, 8, 0, 0, 8, 4, 2);
  t.same([small.width, small.height], [4, 2]);
  t.equal(small.data[0], (0 + 1 + 8 + 9) / 4);
  const region = downscaleRegion(gray, 8, 2, 1, 4, 2, 2);
  t.equal(region.data[1], (12 + 13 + 20 + 21) / 4);
  t.equal(downscaleFrame(gray, 8, 4, 2), downscaleFrame(gray, 8, 4, 2), 'same object');
  t.equal(factorFor(704, 176), 4);
  t.equal(factorFor(100, 176), 1);
  const up = resample({ width: 2, height: 1, data: Float32Array.from([0, 100]) }, 4, 1);
  t.same(Array.from(up.data), [0, 25, 75, 100]);
  t.end();
});
