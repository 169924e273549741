import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { CaptureFailed } from '../../../edge/capture/errors.ts';
import { runFfmpeg } from '../../../src/media/ffmpeg.ts';
import { blurGray, boxBlurGray, cropGray, decodeImageFile, resizeGray, rgbToGray, type GrayImage } from '../../../edge/frame/image.ts';

const dir = await mkdtemp(join(tmpdir(), 'eseal-image-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

function image(width: number, height: number, at: (x: number, y: number) => number): GrayImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = at(x, y);
  return { width, height, data };
}

const sizes = fc.record({ w: fc.integer({ min: 1, max: 40 }), h: fc.integer({ min: 1, max: 40 }) });

t.test('rgbToGray is BT.601 luma in integers', async (t) => {
  const rgb = Uint8Array.from([0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 100, 150, 200]);
  t.same([...rgbToGray(rgb, 6, 1)], [0, 255, 77, 149, 29, 141]);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (r, g, b) => {
      const y = rgbToGray(Uint8Array.of(r, g, b), 1, 1)[0]!;
      return Math.abs(y - (0.299 * r + 0.587 * g + 0.114 * b)) <= 1;
    }),
  );
  t.throws(() => rgbToGray(new Uint8Array(5), 2, 1), RangeError);
});

t.test('area resize averages blocks; bilinear keeps flat images flat', async (t) => {
  const src = image(4, 2, (x, y) => (x < 2 ? 10 : 50) + y * 20);
  t.same([...resizeGray(src, 2, 1).data], [20, 60]);
  t.same([...resizeGray(src, 1, 1).data], [40]);
  fc.assert(
    fc.property(sizes, sizes, fc.integer({ min: 0, max: 255 }), ({ w, h }, to, v) => {
      const flat = image(w, h, () => v);
      return (['area', 'bilinear'] as const).every((mode) => resizeGray(flat, to.w, to.h, mode).data.every((p) => p === v));
    }),
  );
  const ramp = image(8, 1, (x) => x * 10);
  t.same([...resizeGray(ramp, 16, 1, 'bilinear').data.slice(2, 6)], [8, 13, 18, 23], 'interpolated between centres');
  t.throws(() => resizeGray(ramp, 0, 1), RangeError);
});

t.test('cropGray copies the box, clipped to the image', async (t) => {
  const src = image(6, 4, (x, y) => y * 10 + x);
  const crop = cropGray(src, { x1: 1.5, y1: 1, x2: 4, y2: 3 });
  t.same(crop, { width: 3, height: 2, data: Uint8Array.from([11, 12, 13, 21, 22, 23]) });
  t.same(cropGray(src, { x1: 4, y1: 2, x2: 10, y2: 10 }).data, Uint8Array.from([24, 25, 34, 35]));
  t.equal(cropGray(src, { x1: 8, y1: 8, x2: 9, y2: 9 }).data.length, 0);
});

t.test('box blur: flat stays flat, an impulse spreads over the window, total kept', async (t) => {
  fc.assert(
    fc.property(sizes, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 5 }), ({ w, h }, v, r) =>
      blurGray(image(w, h, () => v), r).data.every((p) => p === v),
    ),
  );
  const impulse = image(9, 9, (x, y) => (x === 4 && y === 4 ? 225 : 0));
  const blurred = boxBlurGray(impulse, 1);
  t.equal(blurred.data[4 * 9 + 4], 25);
  t.equal(blurred.data[3 * 9 + 3], 25);
  t.equal(blurred.data[2 * 9 + 4], 0);
  t.equal(blurred.data.reduce((n, p) => n + p, 0), 225);
  const wide = blurGray(impulse, 1);
  t.ok(wide.data[4 * 9 + 4]! < 25 && wide.data[4 * 9 + 2]! > 0, 'three passes spread further');
  t.same(boxBlurGray(impulse, 0).data, impulse.data);
});

t.test('decodeImageFile decodes PNG and JPEG through ffmpeg, optionally scaled', async (t) => {
  const png = join(dir, 'solid.png');
  const jpg = join(dir, 'solid.jpg');
  const base = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=0x336699:s=40x30,format=rgb24', '-frames:v', '1'];
  await runFfmpeg([...base, '-pix_fmt', 'rgb24', png], { stdout: 'ignore' });
  await runFfmpeg([...base, '-pix_fmt', 'yuvj420p', '-q:v', '2', jpg], { stdout: 'ignore' });
  const decoded = await decodeImageFile(png);
  t.equal(decoded.width, 40);
  t.equal(decoded.height, 30);
  t.equal(decoded.rgb.length, 40 * 30 * 3);
  t.same([...decoded.rgb.subarray(0, 6)], [0x33, 0x66, 0x99, 0x33, 0x66, 0x99]);
  const scaled = await decodeImageFile(jpg, { width: 20 });
  t.same([scaled.width, scaled.height], [20, 15], 'aspect kept');
  const [r, g, b] = scaled.rgb;
  t.ok(Math.abs(r! - 0x33) <= 4 && Math.abs(g! - 0x66) <= 4 && Math.abs(b! - 0x99) <= 4, `JPEG colour close (${r},${g},${b})`);
  const both = await decodeImageFile(png, { width: 64, height: 48 });
  t.same([both.width, both.height, both.rgb.length], [64, 48, 64 * 48 * 3]);
  await t.rejects(decodeImageFile(join(dir, 'missing.png')), { code: CaptureFailed.code, message: /missing\.png/ });
});
