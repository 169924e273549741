import t from 'tap';
import fc from 'fast-check';
import { EsealError } from '../../../src/errors.ts';
import { refused } from '../../helpers/refusal.ts';

const message = (fn: () => unknown): string => refused(fn).message;
import { parseJsonBody, parseJsonText } from '../../../src/contract/json.ts';

t.test('the guide’s own example bodies get a precise reason', async (t) => {
  // copied shape of the guide's person example: curly quotes and a missing comma
  const guide = '{\n\t“mineId” : “123456789xxx”,\n\t"cameraId" : "10"\n}';
  const m = message(() => parseJsonText(guide));
  t.match(m, /^body: invalid JSON at line 2, column 2 \(position 3\)/);
  t.match(m, /full-width opening quote “ \(U\+201C\)/);

  const missingComma = '{\n\t"mineId" : "140421007866",\n\t"inWellNumber" : "0001"\n\t"time" : "2020-09-09 12:00:00"\n}';
  const m2 = message(() => parseJsonText(missingComma));
  t.match(m2, /line 4, column 2/);
  t.match(m2, /missing comma after the value of "inWellNumber"/);
});

t.test('other classic mistakes', async (t) => {
  t.match(message(() => parseJsonText("{'a': 1}")), /single quote/);
  t.match(message(() => parseJsonText('{"a"：1}')), /full-width colon/);
  t.match(message(() => parseJsonText('{"a":1,}')), /trailing comma/);
  t.match(message(() => parseJsonText('{"a":1')), /the end of the body/);
  t.match(message(() => parseJsonText('')), /empty/);
  t.match(message(() => parseJsonText('{"a":1,"a":2}')), /appears twice/);
  t.match(message(() => parseJsonText('{"a":1} x')), /after the end/);
  t.match(message(() => parseJsonBody(Buffer.from([0x7b, 0x22, 0xc4, 0xe3, 0x22, 0x7d]))), /not valid UTF-8/);
});

t.test('limits hold while reading', async (t) => {
  t.match(message(() => parseJsonText('['.repeat(20) + ']'.repeat(20))), /nested deeper than 8/);
  t.match(message(() => parseJsonText(JSON.stringify(Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, i]))))), /more than 64 members/);
  t.match(message(() => parseJsonText(JSON.stringify({ a: 'x'.repeat(5000) }))), /longer than 4096/);
  t.same(parseJsonBody(Buffer.from('\ufeff{"a":1}')), { a: 1 }, 'a UTF-8 BOM is dropped');
});

t.test('agrees with JSON.parse on valid JSON', async (t) => {
  const limits = { maxDepth: 64, maxMembers: 10_000, maxStringLength: 1_000_000 };
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      const text = JSON.stringify(v, null, 1);
      const ours = parseJsonText(text, limits);
      return JSON.stringify(ours) === JSON.stringify(JSON.parse(text));
    }),
    { numRuns: 500 },
  );
  t.pass('same values');
});

t.test('rejects what JSON.parse rejects, with a typed error', async (t) => {
  const limits = { maxDepth: 64, maxMembers: 10_000, maxStringLength: 1_000_000 };
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), (s) => {
      let native = true;
      try {
        JSON.parse(s);
      } catch {
        native = false;
      }
      try {
        parseJsonText(s, limits);
        return native;
      } catch (err) {
        return err instanceof EsealError && !native;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass('same verdicts');
});
