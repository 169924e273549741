import t from 'tap';
import { Persistence } from '../../../../edge/analyses/image/persistence.ts';

t.test('a state is taken after it has been voted for holdMs, by event time', (t) => {
  const p = new Persistence<string>(3000);
  t.equal(p.update(0, 'a'), false);
  t.equal(p.update(2000, 'a'), false);
  t.equal(p.update(2999, undefined), false, 'undecided frames do not count');
  t.equal(p.update(3000, 'a'), true);
  t.equal(p.state, 'a');
  t.equal(p.since, 0, 'since is when the votes began');
  t.end();
});

t.test('a few contrary votes are forgiven, more restart the clock', (t) => {
  const p = new Persistence<boolean>(1000, false, 2);
  p.update(0, true);
  p.update(200, false);
  p.update(400, false);
  t.equal(p.update(1000, true), true, 'two contrary votes forgiven');
  const q = new Persistence<boolean>(1000, false, 2);
  q.update(0, true);
  q.update(200, false);
  q.update(400, false);
  q.update(600, false);
  t.equal(q.update(1000, true), false, 'three restart it');
  t.equal(q.update(2000, true), true);
  t.equal(q.since, 1000);
  q.reset(false);
  t.equal(q.state, false);
  t.equal(q.pending, undefined);
  t.end();
});
