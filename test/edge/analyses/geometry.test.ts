import t from 'tap';
import fc from 'fast-check';
import {
  boxCentre,
  footPoint,
  pointInPolygon,
  polygonToNormalised,
  polygonToPixels,
  segmentsIntersect,
  sideOfLine,
  signedDistance,
  toNormalised,
  toPixels,
} from '../../../edge/analyses/geometry.ts';

const P = (x: number, y: number) => ({ x, y });

t.test('point in polygon: square, concave U shape, outside the bounding box', async (t) => {
  const square = [P(0, 0), P(10, 0), P(10, 10), P(0, 10)];
  t.ok(pointInPolygon(P(5, 5), square));
  t.notOk(pointInPolygon(P(15, 5), square));
  t.notOk(pointInPolygon(P(-1, -1), square));
  const u = [P(0, 0), P(3, 0), P(3, 8), P(7, 8), P(7, 0), P(10, 0), P(10, 10), P(0, 10)];
  t.ok(pointInPolygon(P(1, 5), u), 'left arm');
  t.notOk(pointInPolygon(P(5, 4), u), 'in the notch of the U');
  t.ok(pointInPolygon(P(5, 9), u), 'bottom of the U');
});

t.test('side of a directed line and signed distance', async (t) => {
  // image coordinates, y down: walking from (0,0) to (10,0), y > 0 is the positive side
  t.equal(sideOfLine(P(5, 3), P(0, 0), P(10, 0)), 1);
  t.equal(sideOfLine(P(5, -3), P(0, 0), P(10, 0)), -1);
  t.equal(sideOfLine(P(20, 0), P(0, 0), P(10, 0)), 0);
  t.equal(signedDistance(P(5, 3), P(0, 0), P(10, 0)), 3);
  t.equal(signedDistance(P(3, 4), P(0, 0), P(0, 0)), 0, 'degenerate line');
  fc.assert(
    fc.property(fc.tuple(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: -100, max: 100, noNaN: true })), ([x, y]) => {
      const a = P(1, 2);
      const b = P(7, -3);
      return sideOfLine(P(x, y), a, b) === -sideOfLine(P(x, y), b, a) || sideOfLine(P(x, y), a, b) === 0;
    }),
  );
});

t.test('segment intersection: crossing, apart, parallel, collinear overlap, touching end', async (t) => {
  t.ok(segmentsIntersect(P(0, 0), P(10, 10), P(0, 10), P(10, 0)), 'X');
  t.notOk(segmentsIntersect(P(0, 0), P(1, 1), P(5, 0), P(6, -1)), 'apart');
  t.notOk(segmentsIntersect(P(0, 0), P(10, 0), P(0, 1), P(10, 1)), 'parallel');
  t.ok(segmentsIntersect(P(0, 0), P(10, 0), P(5, 0), P(15, 0)), 'collinear overlap');
  t.notOk(segmentsIntersect(P(0, 0), P(10, 0), P(11, 0), P(15, 0)), 'collinear, apart');
  t.ok(segmentsIntersect(P(0, 0), P(10, 0), P(10, 0), P(10, 5)), 'touching at an end');
  t.notOk(segmentsIntersect(P(0, 0), P(10, 0), P(12, -5), P(12, 5)), 'crosses the infinite line beyond the segment');
});

t.test('normalised ↔ pixels round trip', async (t) => {
  t.same(toPixels(P(0.5, 0.25), 640, 360), P(320, 90));
  t.same(toNormalised(P(320, 90), 640, 360), P(0.5, 0.25));
  const poly = [P(0, 0), P(1, 0), P(0.5, 1)];
  t.same(polygonToPixels(poly, 640, 360), [P(0, 0), P(640, 0), P(320, 360)]);
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 16, max: 4096 }), fc.integer({ min: 16, max: 4096 }), (x, y, w, h) => {
      const back = polygonToNormalised(polygonToPixels([P(x, y)], w, h), w, h)[0]!;
      return Math.abs(back.x - x) < 1e-12 && Math.abs(back.y - y) < 1e-12;
    }),
  );
});

t.test('foot point and centre of a box', async (t) => {
  const b = { x1: 10, y1: 20, x2: 30, y2: 80 };
  t.same(footPoint(b), P(20, 80));
  t.same(boxCentre(b), P(20, 50));
});
