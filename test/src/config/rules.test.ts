// The rule language itself: one test per class of configuration mistake, each reading as the
// message a mine integrator sees.
import t from 'tap';
import { OneOf, Pattern, Type, check, pathOf } from '../../../src/config/rules.ts';

const problemsOf = (schema: Parameters<typeof check>[0], value: unknown, path = 'x', options = {}) => check(schema, value, path, options).problems;

t.test('an unknown key: did you mean the closest one, else the keys there are', async (t) => {
  const s = Type.Object({ maxFailures: Type.Integer(), lockSeconds: Type.Integer() });
  t.same(problemsOf(s, { maxFailure: 3, lockSeconds: 1 }, 'relay.login'), [
    'relay.login.maxFailure: unknown key (did you mean relay.login.maxFailures?)',
    'relay.login.maxFailures: required',
  ]);
  t.same(problemsOf(s, { colour: 1, maxFailures: 1, lockSeconds: 1 }, 'relay.login'), ['relay.login.colour: unknown key (one of maxFailures, lockSeconds)']);
  t.same(problemsOf(s, { maxFailures: 1, lockSeconds: 1, limits: {} }, ''), ['limits: unknown key (one of maxFailures, lockSeconds)'], 'at the top');
});

t.test('out of range: the range in words and the value', async (t) => {
  t.same(problemsOf(Type.Number({ minimum: 0, maximum: 1 }), 2, 'a.line[0][1]'), ['a.line[0][1]: must be between 0 and 1, got 2']);
  t.same(problemsOf(Type.Integer({ minimum: 1 }), 0), ['x: must be at least 1, got 0']);
  t.same(problemsOf(Type.Number({ exclusiveMinimum: 0 }), 0), ['x: must be more than 0, got 0']);
  t.same(problemsOf(Type.Number({ exclusiveMinimum: 0, maximum: 5 }), 6), ['x: must be more than 0 and at most 5, got 6']);
});

t.test('the wrong type: what it must be, with its range, and what it got', async (t) => {
  t.same(problemsOf(Type.Integer({ minimum: 1, maximum: 64 }), 2.5), ['x: must be a whole number between 1 and 64, got 2.5']);
  t.same(problemsOf(Type.Number(), 'ten'), ['x: must be a number, got "ten"']);
  t.same(problemsOf(Type.Boolean(), 'yes'), ['x: must be true or false, got "yes"']);
  t.same(problemsOf(Type.Object({ a: Type.String() }), [1]), ['x: must be a mapping with keys a, got [1]']);
  t.same(problemsOf(Type.Array(Type.String()), 'a'), ['x: must be a list, got "a"']);
  t.same(problemsOf(Type.Null(), 0), ['x: must be empty (null), got 0']);
});

t.test('a pattern is described by its hint, never by its regular expression', async (t) => {
  const id = Pattern(/^\d{2}$/, "the guide's 2-digit camera code");
  t.same(problemsOf(id, '7'), [`x: must be the guide's 2-digit camera code, got "7"`]);
  t.same(problemsOf(id, 7), [`x: must be the guide's 2-digit camera code, got "7"`], 'a number is read as its digits');
  t.same(problemsOf(id, true), [`x: must be the guide's 2-digit camera code, got true`]);
  t.same(problemsOf(Type.String({ pattern: '^a+$' }), 'b'), ['x: must be like /^a+$/, got "b"'], 'without a hint, the pattern');
});

t.test('one of a few values', async (t) => {
  t.same(problemsOf(OneOf(['GET', 'POST']), 'PUT'), ['x: must be one of GET, POST, got "PUT"']);
  t.same(problemsOf(Type.Union([Type.Literal(128), Type.Literal(256)]), 200), ['x: must be one of 128, 256, got 200']);
  t.same(check(OneOf(['no', 'yes']), 'yes', 'x').value, 'yes');
});

t.test('a list too long or too short', async (t) => {
  t.same(problemsOf(Type.Array(Type.Integer(), { maxItems: 2 }), [1, 2, 3]), ['x: at most 2 entries, got 3']);
  t.same(problemsOf(Type.Array(Type.Integer(), { minItems: 3, hint: 'a polygon' }), [1, 2]), ['x: at least 3 entries (a polygon), got 2']);
  t.same(problemsOf(Type.Object({}, { minProperties: 1, hint: 'the analyses to run' }), {}), ['x: at least 1 key (the analyses to run), got 0']);
});

t.test('a tuple: its length, then each place by index', async (t) => {
  const point = Type.Tuple([Type.Number({ minimum: 0, maximum: 1 }), Type.Number({ minimum: 0, maximum: 1 })], { hint: '[x, y]' });
  t.same(problemsOf(point, [0.5]), ['x: must be a list of 2 ([x, y]), got 1']);
  t.same(problemsOf(point, [0.5, 1.5]), ['x[1]: must be between 0 and 1, got 1.5']);
});

t.test('a union: the message of the variant of the value’s own shape, else what any variant takes', async (t) => {
  const unit = Type.Number({ minimum: 0, maximum: 1 });
  const point = Type.Union([Type.Tuple([unit, unit]), Type.Object({ x: unit, y: unit })], { hint: 'a point [x, y]' });
  t.same(problemsOf(point, [0.5, 2]), ['x[1]: must be between 0 and 1, got 2'], 'a list: the tuple speaks');
  t.same(problemsOf(point, { x: 0.5, depth: 1 }), ['x.depth: unknown key (one of x, y)', 'x.y: required'], 'a mapping: the object speaks');
  t.same(problemsOf(point, 'middle'), ['x: must be a point [x, y], got "middle"'], 'neither: the hint');
  t.same(problemsOf(Type.Union([Type.String(), Type.Null()]), true), ['x: must be a string or empty (null), got true'], 'no hint: each variant described');
  t.same(check(point, { x: 0.1, y: 0.2 }, 'x').value, { x: 0.1, y: 0.2 });
});

t.test('a secret is never echoed', async (t) => {
  const s = Type.Object({ secret: Pattern(/^\S+$/, 'no white space', { secret: true }), pin: Type.Integer({ minimum: 1000, secret: true }) });
  const problems = problemsOf(s, { secret: 'hunter 2', pin: 12 });
  t.same(problems, ['x.secret: must be no white space, got (hidden)', 'x.pin: must be at least 1000, got (hidden)']);
  t.notMatch(problems.join(), /hunter|12\b/);
});

t.test('coerce: numbers, booleans and comma lists from the strings of the environment', async (t) => {
  const s = Type.Object({ n: Type.Integer(), f: Type.Number(), b: Type.Boolean(), roles: Type.Array(OneOf(['relay', 'edge'])) });
  const read = check(s, { n: '3', f: '0.5', b: 'true', roles: 'relay, edge' }, 'env', { coerce: true });
  t.same(read.problems, []);
  t.same(read.value, { n: 3, f: 0.5, b: true, roles: ['relay', 'edge'] });
  t.same(problemsOf(s, { n: '3', f: 1, b: true, roles: [] }), ['x.n: must be a whole number, got "3"'], 'not without coerce');
  t.same(check(Type.Integer(), 'three', 'ESEAL_X', { coerce: true }).problems, ['ESEAL_X: must be a whole number, got "three"']);
});

t.test('defaults fill what is absent, and only that', async (t) => {
  const s = Type.Object({ a: Type.Integer({ default: 5 }), b: Type.Array(Type.Integer(), { default: [] }), c: Type.Optional(Type.String()) });
  const read = check(s, { a: 7 }, 'x');
  t.same(read, { value: { a: 7, b: [] }, problems: [] });
  const twice = check(s, {}, 'x').value;
  twice.b.push(1);
  t.same(check(s, {}, 'x').value.b, [], 'a default is copied, never shared');
});

t.test('a required key missing, unless partial', async (t) => {
  const s = Type.Object({ url: Pattern(/^https?:\/\//, 'an http:// or https:// URL'), name: Type.String(), note: Type.Optional(Type.String()) });
  t.same(problemsOf(s, { name: 'a' }), ['x.url: required: an http:// or https:// URL']);
  t.same(problemsOf(s, {}, 'x', { partial: true }), [], 'a file overrides only what it names');
});

t.test('every problem at once, in the order of the value, each naming its path', async (t) => {
  const s = Type.Object({
    cameras: Type.Array(Type.Object({ name: Type.String(), port: Type.Integer({ minimum: 1, maximum: 65535 }) })),
    mode: OneOf(['auto', 'files']),
  });
  const problems = problemsOf(s, { cameras: [{ name: 'a', port: 0 }, { nme: 'b', port: 'x' }], mode: 'maybe' }, 'edge');
  t.same(problems, [
    'edge.cameras[0].port: must be between 1 and 65535, got 0',
    'edge.cameras[1].nme: unknown key (did you mean edge.cameras[1].name?)',
    'edge.cameras[1].port: must be a whole number between 1 and 65535, got "x"',
    'edge.cameras[1].name: required',
    'edge.mode: must be one of auto, files, got "maybe"',
  ]);
  t.same(problems.map(pathOf), ['edge.cameras[0].port', 'edge.cameras[1].nme', 'edge.cameras[1].port', 'edge.cameras[1].name', 'edge.mode'], 'pathOf gives the field');
});

t.test('a record: keys by pattern, values by their rule', async (t) => {
  const classes = Type.Record(Type.String({ pattern: '^\\d+$' }), OneOf(['person', 'vehicle']), { hint: 'class ids' });
  t.same(problemsOf(classes, { '0': 'person', a: 'vehicle', '2': 'cat' }), ['x.2: must be one of person, vehicle, got "cat"', 'x.a: not an allowed key (class ids)']);
});

t.test('additional keys are kept where a schema allows them (a signed manifest may grow)', async (t) => {
  const s = Type.Object({ a: Type.Integer() }, { additionalProperties: true });
  t.same(check(s, { a: 1, later: 'x' }, 'm'), { value: { a: 1, later: 'x' }, problems: [] });
});

t.test('did you mean: a key cut short, when only one key starts so', async (t) => {
  const s = Type.Object({ holdSeconds: Type.Integer({ default: 1 }), holdFrames: Type.Integer({ default: 1 }), warmupSeconds: Type.Integer({ default: 1 }) });
  t.same(problemsOf(s, { warm: 3 }), ['x.warm: unknown key (did you mean x.warmupSeconds?)']);
  t.same(problemsOf(s, { hol: 3 }), ['x.hol: unknown key (one of holdSeconds, holdFrames, warmupSeconds)'], 'two keys start so: none is guessed');
});
