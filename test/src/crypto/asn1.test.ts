import t from 'tap';
import fc from 'fast-check';
import {
  decodeDer,
  derBitString,
  derBoolean,
  derExplicit,
  derGeneralizedTime,
  derIa5String,
  derImplicit,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derPrintableString,
  derSequence,
  derSetOf,
  derTime,
  derToPem,
  derUnsignedInteger,
  derUtcTime,
  derUtf8String,
  expectTag,
  pemToDer,
  readBitString,
  readBoolean,
  readInteger,
  readNull,
  readOctetString,
  readOid,
  readSequence,
  readSet,
  readString,
  readTime,
} from '../../../src/crypto/asn1.ts';
import { ESEAL_ERR_CRYPTO_ASN1 } from '../../../src/crypto/errors.ts';

const hex = (b: Buffer) => b.toString('hex');
const fromHex = (h: string) => Buffer.from(h, 'hex');
const asn1Error = { code: ESEAL_ERR_CRYPTO_ASN1.code };

t.test('INTEGER encodings are minimal two’s complement', async (t) => {
  const cases: [bigint, string][] = [
    [0n, '020100'],
    [1n, '020101'],
    [127n, '02017f'],
    [128n, '02020080'],
    [256n, '02020100'],
    [-1n, '0201ff'],
    [-128n, '020180'],
    [-129n, '0202ff7f'],
  ];
  for (const [value, encoding] of cases) {
    t.equal(hex(derInteger(value)), encoding, `encode ${value}`);
    t.equal(readInteger(decodeDer(fromHex(encoding))), value, `decode ${value}`);
  }
  t.equal(hex(derUnsignedInteger(fromHex('0000ff'))), '020200ff');
  t.equal(hex(derUnsignedInteger(Buffer.alloc(0))), '020100');
});

t.test('property: INTEGER round trip', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }), (n) => readInteger(decodeDer(derInteger(n))) === n),
  );
  t.pass();
});

t.test('OBJECT IDENTIFIER', async (t) => {
  t.equal(hex(derOid('1.2.840.113549')), '06062a864886f70d');
  t.equal(hex(derOid('1.2.156.10197.1.301')), '06082a811ccf5501822d');
  t.equal(readOid(decodeDer(fromHex('06082a811ccf5501822d'))), '1.2.156.10197.1.301');
  t.equal(readOid(decodeDer(derOid('2.999.3'))), '2.999.3');
  t.throws(() => derOid('1.40'), RangeError);
  t.throws(() => derOid('3.1'), RangeError);
  t.throws(() => readOid(decodeDer(fromHex('0602802a'))), asn1Error, 'redundant leading group');
  t.throws(() => readOid(decodeDer(fromHex('06022a86'))), asn1Error, 'ends inside a sub-identifier');
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 0, max: 39 }),
      fc.array(fc.bigInt({ min: 0n, max: 1n << 70n }), { maxLength: 8 }),
      (a, b, rest) => {
        const oid = [a, b, ...rest].join('.');
        return readOid(decodeDer(derOid(oid))) === oid;
      },
    ),
  );
});

t.test('strings, NULL, BOOLEAN, BIT STRING, OCTET STRING', async (t) => {
  t.equal(readString(decodeDer(derUtf8String('电子封条'))), '电子封条');
  t.equal(readString(decodeDer(derPrintableString('Relay 1'))), 'Relay 1');
  t.equal(readString(decodeDer(derIa5String('a@b'))), 'a@b');
  t.throws(() => derPrintableString('a@b'), RangeError);
  t.throws(() => readString(decodeDer(fromHex('0c02c328'))), asn1Error, 'bad UTF-8');
  t.equal(readNull(decodeDer(derNull())), null);
  t.equal(hex(derNull()), '0500');
  t.equal(readBoolean(decodeDer(derBoolean(true))), true);
  t.throws(() => readBoolean(decodeDer(fromHex('010101'))), asn1Error, 'BOOLEAN true must be FF');
  t.same(readBitString(decodeDer(derBitString(fromHex('a0'), 5))), { bytes: fromHex('a0'), unusedBits: 5 });
  t.throws(() => readBitString(decodeDer(fromHex('030205a1'))), asn1Error, 'non-zero unused bits');
  t.throws(() => readBitString(decodeDer(fromHex('030108'))), asn1Error, 'unused bits without bytes');
  t.equal(hex(readOctetString(decodeDer(derOctetString(fromHex('0102'))))), '0102');
});

t.test('lengths: short, long, and their limits', async (t) => {
  const long = derOctetString(Buffer.alloc(200, 7));
  t.equal(hex(long.subarray(0, 3)), '0481c8');
  t.equal(readOctetString(decodeDer(long)).length, 200);
  const longer = derOctetString(Buffer.alloc(70000));
  t.equal(hex(longer.subarray(0, 5)), '0483011170');
  t.equal(readOctetString(decodeDer(longer)).length, 70000);

  t.throws(() => decodeDer(fromHex('048101aa')), asn1Error, 'long form for a short length');
  t.throws(() => decodeDer(fromHex('04820001aa')), asn1Error, 'leading zero length byte');
  t.equal(readOctetString(decodeDer(fromHex('048101aa'), { lenient: true })).length, 1, 'lenient accepts it');
  t.throws(() => decodeDer(fromHex('3080020100 0000'.replace(/ /g, ''))), asn1Error, 'indefinite length');
  t.throws(() => decodeDer(fromHex('0405aabb')), asn1Error, 'length beyond the data');
  t.throws(() => decodeDer(fromHex('0485ffffffffff')), asn1Error, 'absurd length');
  t.throws(() => decodeDer(fromHex('020100ff')), asn1Error, 'trailing byte');
  t.throws(() => decodeDer(Buffer.alloc(0)), asn1Error, 'empty');
});

t.test('DER form rules', async (t) => {
  t.throws(() => readInteger(decodeDer(fromHex('0202007f'))), asn1Error, 'redundant 00');
  t.throws(() => readInteger(decodeDer(fromHex('0202ff80'))), asn1Error, 'redundant FF');
  t.equal(readInteger(decodeDer(fromHex('0202007f')), { lenient: true }), 127n);
  t.throws(() => readInteger(decodeDer(fromHex('0200'))), asn1Error, 'empty INTEGER');
  t.throws(() => decodeDer(fromHex('2203020100')), asn1Error, 'constructed INTEGER');
  t.throws(() => decodeDer(fromHex('1000')), asn1Error, 'primitive SEQUENCE');
  t.throws(() => decodeDer(fromHex('0000')), asn1Error, 'end-of-contents');
  const deep = Array.from({ length: 40 }).reduce<Buffer>((inner) => derSequence(inner), derNull());
  t.throws(() => decodeDer(deep), asn1Error, 'nesting too deep');
  t.ok(decodeDer(deep, { maxDepth: 64 }));
});

t.test('structures: SEQUENCE, SET OF, context tags', async (t) => {
  const der = derSequence(derInteger(5), derExplicit(0, derOid('1.2.3')), derImplicit(2, Buffer.from('x')), derSetOf(derInteger(2), derInteger(1)));
  const [n, explicit, implicit, set] = readSequence(decodeDer(der), 4, 4);
  t.equal(readInteger(n!), 5n);
  t.equal(readOid(expectTag(explicit!, 'context', 0, true).children[0]!), '1.2.3');
  t.equal(expectTag(implicit!, 'context', 2, false).content.toString(), 'x');
  t.same(readSet(set!).map((e) => readInteger(e)), [1n, 2n], 'SET OF sorted by encoding');
  t.throws(() => readSequence(decodeDer(der), 5), asn1Error, 'too few elements');
  t.throws(() => readInteger(explicit!), asn1Error, 'wrong tag');
  // high tag numbers
  const high = derImplicit(100, Buffer.from('y'));
  t.equal(hex(high.subarray(0, 2)), '9f64');
  t.equal(decodeDer(high).tag, 100);
  t.throws(() => decodeDer(fromHex('9f0500')), asn1Error, 'low tag in high form');
});

t.test('times', async (t) => {
  const d2049 = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
  const d2050 = new Date(Date.UTC(2050, 0, 1, 0, 0, 0));
  t.equal(derTime(d2049)[0], 0x17, 'UTCTime through 2049');
  t.equal(derTime(d2050)[0], 0x18, 'GeneralizedTime from 2050');
  t.equal(derUtcTime(d2049).subarray(2).toString(), '491231235959Z');
  t.equal(readTime(decodeDer(derUtcTime(d2049))).getTime(), d2049.getTime());
  t.equal(readTime(decodeDer(derGeneralizedTime(d2050))).getTime(), d2050.getTime());
  t.equal(readTime(decodeDer(derUtcTime(new Date(Date.UTC(1999, 5, 1))))).getUTCFullYear(), 1999);
  t.throws(() => derUtcTime(d2050), RangeError);
  t.throws(() => readTime(decodeDer(Buffer.concat([fromHex('170d'), Buffer.from('491331235959Z')]))), asn1Error, 'month 13');
  t.throws(() => readTime(decodeDer(Buffer.concat([fromHex('170b'), Buffer.from('4912312359Z')]))), asn1Error, 'no seconds');
  fc.assert(
    fc.property(fc.date({ min: new Date(Date.UTC(1950, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }), (date) => {
      const whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
      return readTime(decodeDer(derTime(whole))).getTime() === whole.getTime();
    }),
  );
});

t.test('PEM', async (t) => {
  const der = derSequence(derInteger(1), derOctetString(Buffer.alloc(100, 1)));
  const pem = derToPem(der, 'TEST THING');
  t.match(pem, /^-----BEGIN TEST THING-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END TEST THING-----\n$/);
  t.same(pemToDer(`junk before\n${pem}`, 'TEST THING'), der);
  t.equal(pemToDer(pem, 'OTHER'), null);
  t.throws(() => pemToDer('-----BEGIN X-----\n@@@\n-----END X-----', 'X'), asn1Error);
});

t.test('property: arbitrary bytes decode or throw the typed error', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, lenient) => {
      try {
        const node = decodeDer(Buffer.from(bytes), { lenient });
        return node.der.length === bytes.length;
      } catch (err) {
        return ESEAL_ERR_CRYPTO_ASN1.is(err);
      }
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

t.test('property: every truncation of a valid encoding is rejected', async (t) => {
  const der = derSequence(
    derInteger(123456789n),
    derOctetString(Buffer.alloc(130, 9)),
    derExplicit(1, derBitString(Buffer.alloc(65, 4))),
    derSetOf(derUtf8String('a'), derUtf8String('b')),
  );
  for (let cut = 0; cut < der.length; cut++) {
    t.throws(() => decodeDer(der.subarray(0, cut)), asn1Error, `cut at ${cut}`);
  }
});
