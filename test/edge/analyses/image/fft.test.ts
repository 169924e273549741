import fc from 'fast-check';
import t, { type Test } from 'tap';
import { fft, fft2d, isPowerOfTwo } from '../../../../edge/analyses/image/fft.ts';

function naiveDft(re: number[], im: number[], inverse = false): { re: number[]; im: number[] } {
  const n = re.length;
  const outRe: number[] = [];
  const outIm: number[] = [];
  const sign = inverse ? 1 : -1;
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let j = 0; j < n; j++) {
      const a = (sign * 2 * Math.PI * j * k) / n;
      sr += re[j]! * Math.cos(a) - im[j]! * Math.sin(a);
      si += re[j]! * Math.sin(a) + im[j]! * Math.cos(a);
    }
    outRe.push(inverse ? sr / n : sr);
    outIm.push(inverse ? si / n : si);
  }
  return { re: outRe, im: outIm };
}

const signal = fc
  .integer({ min: 0, max: 7 })
  .chain((bits) =>
    fc.tuple(
      fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 1 << bits, maxLength: 1 << bits }),
      fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 1 << bits, maxLength: 1 << bits }),
    ),
  );

function close(t: Test, got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  if (worst > tol) t.fail(`${what}: off by ${worst}`);
}

t.test('the FFT equals the naive DFT on random input, forward and inverse', (t) => {
  fc.assert(
    fc.property(signal, fc.boolean(), ([re, im], inverse) => {
      const want = naiveDft(re, im, inverse);
      const r = Float64Array.from(re);
      const i = Float64Array.from(im);
      fft(r, i, inverse);
      const tol = 1e-7 * re.length * 1000;
      for (let k = 0; k < re.length; k++) {
        if (Math.abs(r[k]! - want.re[k]!) > tol || Math.abs(i[k]! - want.im[k]!) > tol) return false;
      }
      return true;
    }),
    { numRuns: 200 },
  );
  t.pass('200 random signals of 1…128 samples');
  t.end();
});

t.test('inverse(forward(x)) = x', (t) => {
  fc.assert(
    fc.property(signal, ([re, im]) => {
      const r = Float64Array.from(re);
      const i = Float64Array.from(im);
      fft(r, i);
      fft(r, i, true);
      return re.every((v, k) => Math.abs(r[k]! - v) < 1e-6) && im.every((v, k) => Math.abs(i[k]! - v) < 1e-6);
    }),
    { numRuns: 200 },
  );
  t.pass('round trip');
  t.end();
});

t.test('the 2-D FFT equals a naive 2-D DFT', (t) => {
  const w = 8;
  const h = 4;
  fc.assert(
    fc.property(fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: w * h, maxLength: w * h }), (values) => {
      const re = Float64Array.from(values);
      const im = new Float64Array(w * h);
      fft2d(re, im, w, h);
      for (let ky = 0; ky < h; ky++) {
        for (let kx = 0; kx < w; kx++) {
          let sr = 0;
          let si = 0;
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) {
              const a = -2 * Math.PI * ((kx * x) / w + (ky * y) / h);
              sr += values[y * w + x]! * Math.cos(a);
              si += values[y * w + x]! * Math.sin(a);
            }
          }
          if (Math.abs(re[ky * w + kx]! - sr) > 1e-6 || Math.abs(im[ky * w + kx]! - si) > 1e-6) return false;
        }
      }
      return true;
    }),
    { numRuns: 50 },
  );
  t.pass('50 random 8x4 images');
  t.end();
});

t.test('sizes that are not powers of two are refused', (t) => {
  t.equal(isPowerOfTwo(128), true);
  t.equal(isPowerOfTwo(96), false);
  t.throws(() => fft(new Float64Array(6), new Float64Array(6)), RangeError);
  t.throws(() => fft(new Float64Array(8), new Float64Array(4)), RangeError);
  t.throws(() => fft2d(new Float64Array(16), new Float64Array(16), 4, 8), RangeError);
  const re = Float64Array.from([1, 2, 3, 4]);
  const im = new Float64Array(4);
  fft(re, im);
  close(t, re, [10, -2, -2, -2], 1e-12, 're');
  close(t, im, [0, 2, 0, -2], 1e-12, 'im');
  t.end();
});
