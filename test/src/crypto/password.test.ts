// Passwords at rest, shared by the relay's accounts and the console's users.
import t from 'tap';
import { dummyHash, hashPassword, verifyPassword } from '../../../src/crypto/password.ts';

t.test('scrypt hashes: the password verifies, nothing else does', async (t) => {
  const stored = await hashPassword('Local+Pass/1');
  t.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'scrypt$N$r$p$salt$hash');
  t.notOk(stored.includes('Local+Pass/1'), 'never the password itself');
  t.ok(await verifyPassword('Local+Pass/1', stored));
  t.notOk(await verifyPassword('Local+Pass/2', stored), 'a wrong password');
  t.not(await hashPassword('Local+Pass/1'), stored, 'salted: the same password hashes differently');
  t.notOk(await verifyPassword('Local+Pass/1', await dummyHash()), 'the dummy hash never verifies');
});

t.test('a damaged or planted record is refused, never computed', async (t) => {
  const stored = await hashPassword('Local+Pass/1');
  const parts = stored.split('$');
  t.notOk(await verifyPassword('Local+Pass/1', 'plain'), 'not a hash');
  t.notOk(await verifyPassword('Local+Pass/1', ['bcrypt', ...parts.slice(1)].join('$')), 'another scheme');
  t.notOk(await verifyPassword('Local+Pass/1', [parts[0], String(1 << 22), ...parts.slice(2)].join('$')), 'more work than ours (N)');
  t.notOk(await verifyPassword('Local+Pass/1', [parts[0], parts[1], '64', ...parts.slice(3)].join('$')), 'more work than ours (r)');
});
