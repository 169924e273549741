import t from 'tap';
import { ReportLimiter } from '../../../edge/analyses/reportLimiter.ts';

t.test('one report per interval per camera and kind, by event time', (t) => {
  const l = new ReportLimiter(3600);
  const h = 3_600_000;
  t.equal(l.tryReport('cam-1', 'occlusion', 1000), true);
  t.equal(l.tryReport('cam-1', 'occlusion', 1000 + h - 1), false, 'within the hour');
  t.equal(l.allows('cam-1', 'occlusion', 1000 + h - 1), false);
  t.equal(l.tryReport('cam-1', 'moved', 2000), true, 'another kind is counted apart');
  t.equal(l.tryReport('cam-2', 'occlusion', 2000), true, 'another camera is counted apart');
  t.equal(l.tryReport('cam-1', 'occlusion', 1000 + h), true, 'an hour later');
  t.equal(l.lastReport('cam-1', 'occlusion'), 1000 + h);
  t.equal(l.allows('cam-1', 'occlusion', 1000 + h + 10), false, 'a refused try does not move the clock');
  t.end();
});

t.test('a clock set back by more than the interval starts a new interval', (t) => {
  const l = new ReportLimiter(60);
  t.equal(l.tryReport('c', 'moved', 10 * 60_000), true);
  t.equal(l.tryReport('c', 'moved', 10 * 60_000 - 30_000), false, 'half an interval back');
  t.equal(l.tryReport('c', 'moved', 10 * 60_000 - 61_000), true, 'more than an interval back');
  t.throws(() => new ReportLimiter(-1), RangeError);
  t.end();
});

t.test('a held condition: first report dated at its onset, later ones when they are allowed', (t) => {
  const l = new ReportLimiter(3600);
  const h = 3_600_000;
  t.equal(l.tryReportHeld('c', 'occlusion', 1000, 11_000, true), 1000);
  t.equal(l.tryReportHeld('c', 'occlusion', 1000, 12_000, false), undefined);
  t.equal(l.tryReportHeld('c', 'occlusion', 1000, 1000 + h, false), 1000 + h, 'an hour later, dated then');
  // a new condition shortly after a report is held back, then dated when it may be reported
  t.equal(l.tryReportHeld('c', 'occlusion', 2000 + h, 2000 + h + 10_000, true), undefined);
  t.equal(l.tryReportHeld('c', 'occlusion', 2000 + h, 1000 + 2 * h, true), 1000 + 2 * h);
  t.end();
});
