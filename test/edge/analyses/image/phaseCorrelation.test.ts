import fc from 'fast-check';
import t from 'tap';
import { correlate, hann, phaseCorrelate, spectrumOf } from '../../../../edge/analyses/image/phaseCorrelation.ts';
import { texture, rolled, window } from './texture.ts';

t.test('integer circular shifts are recovered exactly, with a peak of 1', (t) => {
  const base = texture(128, 128, 'pc-circular');
  fc.assert(
    fc.property(fc.integer({ min: -60, max: 60 }), fc.integer({ min: -60, max: 60 }), (dx, dy) => {
      const s = phaseCorrelate(base, rolled(base, dx, dy), false);
      return Math.abs(s.dx - dx) < 1e-6 && Math.abs(s.dy - dy) < 1e-6 && s.peak > 0.999;
    }),
    { numRuns: 40 },
  );
  t.pass('40 random shifts');
  t.end();
});

t.test('integer shifts of a window over a larger scene are recovered exactly (Hann window)', (t) => {
  const scene = texture(256, 256, 'pc-scene');
  const ref = window(scene, 64, 64, 128, 128);
  for (const [dx, dy] of [
    [5, 0],
    [0, -7],
    [12, 9],
    [-20, 3],
    [1, 1],
  ] as const) {
    // the camera looks (dx, dy) further on, so the content moves by (−dx, −dy)
    const s = phaseCorrelate(ref, window(scene, 64 + dx, 64 + dy, 128, 128));
    t.equal(Math.round(s.dx), -dx, `dx of (${dx}, ${dy})`);
    t.equal(Math.round(s.dy), -dy, `dy of (${dx}, ${dy})`);
    t.ok(Math.abs(s.dx + dx) < 0.25 && Math.abs(s.dy + dy) < 0.25, `sub-pixel estimate close for (${dx}, ${dy}): ${s.dx.toFixed(2)}, ${s.dy.toFixed(2)}`);
    t.ok(s.peak > 0.3, `clear peak ${s.peak.toFixed(2)}`);
  }
  t.end();
});

t.test('sub-pixel shifts are recovered roughly', (t) => {
  const scene = texture(256, 256, 'pc-subpixel', 8);
  const ref = window(scene, 64, 64, 128, 128);
  for (const [dx, dy] of [
    [2.5, 0],
    [0, 3.3],
    [-4.7, 1.5],
  ] as const) {
    const s = phaseCorrelate(ref, window(scene, 64 + dx, 64 + dy, 128, 128));
    t.ok(Math.abs(s.dx + dx) <= 0.35, `dx ${s.dx.toFixed(2)} for ${-dx}`);
    t.ok(Math.abs(s.dy + dy) <= 0.35, `dy ${s.dy.toFixed(2)} for ${-dy}`);
  }
  t.end();
});

t.test('unrelated images give a collapsed peak; a relit copy does not', (t) => {
  const a = texture(128, 128, 'pc-a');
  // another lattice size: two value-noise textures on one lattice share its periodic structure
  const b = texture(128, 128, 'pc-b', 7);
  const ra = spectrumOf(a);
  const u = correlate(ra, spectrumOf(b));
  t.ok(u.peak < 0.1, `unrelated: peak ${u.peak.toFixed(3)}`);
  const relit = { ...a, data: a.data.map((v) => v * 0.5 + 30) };
  const s = correlate(ra, spectrumOf(relit));
  t.ok(s.peak > 0.99 && Math.abs(s.dx) < 1e-3 && Math.abs(s.dy) < 1e-3, `relit: peak ${s.peak}`);
  t.end();
});

t.test('the Hann window and size checks', (t) => {
  const w = hann(8);
  t.equal(w[0], 0);
  t.ok(Math.abs(w[4]! - 1) < 1e-12);
  t.throws(() => spectrumOf({ width: 100, height: 64, data: new Float32Array(6400) }), RangeError);
  t.end();
});
