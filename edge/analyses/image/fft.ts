// Radix-2 complex FFT, iterative and in place, on separate real and imaginary arrays, plus the 2-D
// transform (rows, then columns) that phase correlation needs. Twiddles and bit-reversal tables are
// made once per size. The inverse is scaled by 1/n so that inverse(forward(x)) = x.

interface Plan {
  cos: Float64Array;
  sin: Float64Array;
  rev: Uint32Array;
}

const plans = new Map<number, Plan>();

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

function planFor(n: number): Plan {
  let plan = plans.get(n);
  if (plan) return plan;
  if (!isPowerOfTwo(n)) throw new RangeError(`FFT size ${n} is not a power of two`);
  const cos = new Float64Array(n >> 1);
  const sin = new Float64Array(n >> 1);
  for (let k = 0; k < n >> 1; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = Math.sin((2 * Math.PI * k) / n);
  }
  const rev = new Uint32Array(n);
  const bits = Math.log2(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0, v = i; b < bits; b++, v >>= 1) r = (r << 1) | (v & 1);
    rev[i] = r;
  }
  plan = { cos, sin, rev };
  plans.set(n, plan);
  return plan;
}

/**
 * Transforms re + i·im in place: forward X[k] = Σ x[j]·e^(−2πi·jk/n), inverse with e^(+…) and 1/n.
 * `re.length` must be a power of two and equal `im.length`.
 */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n) throw new RangeError(`FFT arrays differ in length: ${n} and ${im.length}`);
  // a single column one value wide
  transformColumns(re, im, 1, n, inverse);
}

/**
 * 2-D transform of a width×height row-major array in place (both sizes powers of two). Both passes
 * run "vectorised": every butterfly is applied to whole rows at once, so the inner loop walks
 * memory in order with its twiddle factor fixed (about three times faster in JS than transforming
 * one column at a time); the pass along x runs on the transpose.
 */
export function fft2d(re: Float64Array, im: Float64Array, width: number, height: number, inverse = false): void {
  if (re.length !== width * height || im.length !== width * height) {
    throw new RangeError(`2-D FFT of ${width}x${height} given arrays of ${re.length} and ${im.length}`);
  }
  planFor(width);
  planFor(height);
  transformColumns(re, im, width, height, inverse);
  const tr = transpose(re, width, height);
  const ti = transpose(im, width, height);
  transformColumns(tr, ti, height, width, inverse);
  re.set(transpose(tr, height, width));
  im.set(transpose(ti, height, width));
}

/** Transforms every column of a width×height array, all columns together. */
function transformColumns(re: Float64Array, im: Float64Array, width: number, height: number, inverse: boolean): void {
  if (height <= 1) return;
  const { cos, sin, rev } = planFor(height);
  for (let i = 0; i < height; i++) {
    const j = rev[i]!;
    if (j <= i) continue;
    const a = i * width;
    const b = j * width;
    for (let x = 0; x < width; x++) {
      const tr = re[a + x]!;
      re[a + x] = re[b + x]!;
      re[b + x] = tr;
      const ti = im[a + x]!;
      im[a + x] = im[b + x]!;
      im[b + x] = ti;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let size = 2; size <= height; size <<= 1) {
    const half = size >> 1;
    const step = height / size;
    for (let start = 0; start < height; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step]!;
        const wi = sign * sin[k * step]!;
        const a = (start + k) * width;
        const b = a + half * width;
        for (let x = 0; x < width; x++) {
          const br = re[b + x]!;
          const bi = im[b + x]!;
          const xr = br * wr - bi * wi;
          const xi = br * wi + bi * wr;
          const ar = re[a + x]!;
          const ai = im[a + x]!;
          re[b + x] = ar - xr;
          im[b + x] = ai - xi;
          re[a + x] = ar + xr;
          im[a + x] = ai + xi;
        }
      }
    }
  }
  if (inverse) {
    const s = 1 / height;
    for (let i = 0; i < re.length; i++) {
      re[i] = re[i]! * s;
      im[i] = im[i]! * s;
    }
  }
}

function transpose(src: Float64Array, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) out[x * height + y] = src[row + x]!;
  }
  return out;
}
