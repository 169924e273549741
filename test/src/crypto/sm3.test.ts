import t from 'tap';
import { createSm3, hmacSm3, sm3, sm3Hex } from '../../../src/crypto/sm3.ts';

// GB/T 32905-2016 appendix A.
const ABC = '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0';
const ABCD16 = 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732';

t.test('standard vectors', async (t) => {
  t.equal(sm3Hex('abc'), ABC);
  t.equal(sm3Hex(Buffer.from('abc')), ABC);
  t.equal(sm3Hex('abcd'.repeat(16)), ABCD16);
  t.equal(sm3('abc').toString('hex'), ABC);
});

t.test('incremental hashing equals one-shot', async (t) => {
  const h = createSm3();
  for (let i = 0; i < 16; i++) h.update('abcd');
  t.equal(h.digest('hex'), ABCD16);
});

t.test('strings are hashed as UTF-8', async (t) => {
  t.equal(sm3Hex('电子封条'), sm3Hex(Buffer.from('电子封条', 'utf8')));
  t.not(sm3Hex('电子封条'), sm3Hex(Buffer.from('电子封条', 'latin1')));
});

t.test('HMAC-SM3 depends on key and data', async (t) => {
  const a = hmacSm3(Buffer.from('k1'), 'data');
  t.equal(a.length, 32);
  t.not(a.toString('hex'), hmacSm3(Buffer.from('k2'), 'data').toString('hex'));
  t.not(a.toString('hex'), hmacSm3(Buffer.from('k1'), 'datb').toString('hex'));
});
