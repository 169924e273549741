// MANSCDP charsets: GB2312 / GBK / GB18030 / UTF-8 bodies decoded right whatever they declare.
import fc from 'fast-check';
import iconv from 'iconv-lite';
import t from 'tap';
import { decodeBody, encodeBody } from '../../../src/gb28181/charset.ts';

const doc = (enc: string, name: string) => `<?xml version="1.0" encoding="${enc}"?><Response><Name>${name}</Name></Response>`;

t.test('declared and real charsets, agreeing or not', async (t) => {
  const name = '主井口摄像机';
  const cases: [string, Buffer, string, boolean][] = [
    ['GB2312 as GB2312', iconv.encode(doc('GB2312', name), 'gb2312'), 'gb18030', false],
    ['GBK as GBK', iconv.encode(doc('GBK', '堃'), 'gbk'), 'gb18030', false],
    ['GB18030 as GB18030', iconv.encode(doc('GB18030', '𠀀'), 'gb18030'), 'gb18030', false],
    ['UTF-8 as UTF-8', Buffer.from(doc('UTF-8', name)), 'utf-8', false],
    ['UTF-8 declared GB2312', Buffer.from(doc('GB2312', name)), 'utf-8', true],
    ['GB2312 declared UTF-8', iconv.encode(doc('UTF-8', name), 'gb2312'), 'gb18030', true],
    ['GB2312 with no declaration', iconv.encode(`<Response><Name>${name}</Name></Response>`, 'gb2312'), 'gb18030', false],
  ];
  for (const [what, bytes, charset, lying] of cases) {
    const d = decodeBody(bytes);
    t.equal(d.charset, charset, what);
    t.equal(d.lying, lying, `${what}: lying`);
    t.match(d.text, /<Name>(主井口摄像机|堃|𠀀)<\/Name>/, what);
  }
  t.equal(decodeBody(Buffer.from('\ufeff<a/>')).text, '<a/>', 'a BOM is dropped');
  t.equal(decodeBody(Buffer.from('<a/>'), 'Application/MANSCDP+xml;charset=GB2312').declared, 'gb2312');
});

t.test('property: GB18030 and UTF-8 round trips of Chinese text', async () => {
  // common characters (GB2312 level 1, the ones names are written with)
  const common = fc.tuple(fc.integer({ min: 0xb0, max: 0xd7 }), fc.integer({ min: 0xa1, max: 0xfe })).filter(([l, t]) => !(l === 0xd7 && t > 0xf9)).map(([l, t]) => iconv.decode(Buffer.from([l, t]), 'gb2312'));
  const chinese = fc.array(common, { minLength: 1, maxLength: 40 }).map((cs) => cs.join(''));
  fc.assert(
    fc.property(chinese, fc.boolean(), (name, gb) => {
      const text = doc(gb ? 'GB2312' : 'UTF-8', name);
      const d = decodeBody(encodeBody(text, gb ? 'GB2312' : 'UTF-8'));
      return d.text === text;
    }),
    { numRuns: 3000 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => typeof decodeBody(b).text === 'string'));
});
