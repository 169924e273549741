import t from 'tap';
import { BoxKalman } from '../../../edge/track/kalman.ts';
import { gaussian, prng } from './synth.ts';

const boxAt = (s: number, noise = 0, rand = () => 0.5) => {
  const n = () => (noise ? gaussian(rand) * noise : 0);
  const cx = 100 + 60 * s;
  const cy = 200 + 15 * s;
  return { x1: cx - 25 + n(), y1: cy - 50 + n(), x2: cx + 25 + n(), y2: cy + 50 + n() };
};

t.test('exact measurements of a constant-velocity box: the rate is learnt and the prediction follows', async (t) => {
  const kf = new BoxKalman(boxAt(0));
  for (let k = 1; k <= 25; k++) {
    kf.predict(0.2);
    kf.update(boxAt(k * 0.2));
  }
  const v = kf.velocity();
  t.ok(Math.abs(v.cx - 60) < 1, `vx ${v.cx.toFixed(2)} ≈ 60 px/s`);
  t.ok(Math.abs(v.cy - 15) < 1, `vy ${v.cy.toFixed(2)} ≈ 15 px/s`);
  t.ok(Math.abs(v.w) < 0.5 && Math.abs(v.h) < 0.5, 'size does not change');
  kf.predict(2); // two seconds without a measurement
  const p = kf.box();
  const truth = boxAt(5 + 2);
  t.ok(Math.abs(p.x1 - truth.x1) < 2 && Math.abs(p.y2 - truth.y2) < 2, `predicted ${p.x1.toFixed(1)},${p.y2.toFixed(1)} vs ${truth.x1},${truth.y2}`);
});

t.test('noisy measurements: the filtered position is closer to the truth than the measurements', async (t) => {
  const rand = prng(42);
  const kf = new BoxKalman(boxAt(0, 3, rand));
  let measErr = 0;
  let filtErr = 0;
  let n = 0;
  for (let k = 1; k <= 100; k++) {
    const s = k * 0.2;
    kf.predict(0.2);
    const z = boxAt(s, 3, rand);
    kf.update(z);
    if (k > 20) {
      const truth = boxAt(s);
      const b = kf.box();
      measErr += Math.hypot((z.x1 + z.x2) / 2 - (truth.x1 + truth.x2) / 2, (z.y1 + z.y2) / 2 - (truth.y1 + truth.y2) / 2);
      filtErr += Math.hypot((b.x1 + b.x2) / 2 - (truth.x1 + truth.x2) / 2, (b.y1 + b.y2) / 2 - (truth.y1 + truth.y2) / 2);
      n++;
    }
  }
  t.ok(filtErr < measErr, `mean error filtered ${(filtErr / n).toFixed(2)} px < measured ${(measErr / n).toFixed(2)} px`);
  t.ok(Math.abs(kf.velocity().cx - 60) < 10, `vx ${kf.velocity().cx.toFixed(1)} within 10 px/s of 60`);
  // one second ahead the prediction stays near the truth
  kf.predict(1);
  const truth = boxAt(21);
  t.ok(Math.abs((kf.box().x1 + kf.box().x2) / 2 - (truth.x1 + truth.x2) / 2) < 12, 'one second ahead within 12 px');
});

t.test('predict(0) and negative dt change nothing; sizes never collapse below 1 px', async (t) => {
  const kf = new BoxKalman({ x1: 0, y1: 0, x2: 10, y2: 20 });
  kf.predict(0);
  kf.predict(-1);
  t.same(kf.box(), { x1: 0, y1: 0, x2: 10, y2: 20 });
  for (let k = 0; k < 5; k++) {
    kf.predict(0.2);
    kf.update({ x1: 0, y1: 0, x2: 10 - 2 * k, y2: 20 - 4 * k });
  }
  kf.predict(60);
  const b = kf.box();
  t.ok(b.x2 - b.x1 >= 1 && b.y2 - b.y1 >= 1, 'a shrinking box is not predicted to negative size');
});
