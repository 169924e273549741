// The MANSCDP reader and writer: real documents, entities, CDATA, case-insensitive lookups, limits,
// and a property: any string in, a result out (never a throw), and what we write reads back.
import fc from 'fast-check';
import t from 'tap';
import { XML_LIMITS, buildXml, child, childInt, childText, children, parseXml, type XmlFields } from '../../../src/gb28181/manscdp.ts';

t.test('a catalog response reads as its tree', async (t) => {
  const doc = `<?xml version="1.0" encoding="GB2312"?>
<!-- from an NVR -->
<Response>
<CmdType>Catalog</CmdType><SN>17</SN><DeviceID>34020000001320000001</DeviceID><SumNum>2</SumNum>
<DeviceList Num="2">
<Item><DeviceID>34020000001310000001</DeviceID><Name>主井 &amp; 副井</Name><Status>ON</Status><Info><PTZType>1</PTZType></Info></Item>
<Item><DeviceId>34020000001310000002</DeviceId><Name><![CDATA[a <b> &amp;]]></Name></Item>
</DeviceList>
</Response>`;
  const r = parseXml(doc);
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.root.name, 'Response');
  t.equal(childText(r.root, 'cmdtype'), 'Catalog');
  t.equal(childInt(r.root, 'SN'), 17);
  const items = children(child(r.root, 'DeviceList'), 'Item');
  t.equal(items.length, 2);
  t.equal(childText(items[0], 'Name'), '主井 & 副井');
  t.equal(childText(child(items[0], 'Info'), 'PTZType'), '1');
  t.equal(childText(items[1], 'DeviceID'), '34020000001310000002', 'DeviceId and DeviceID are the same');
  t.equal(childText(items[1], 'Name'), 'a <b> &amp;', 'CDATA is taken as it is');
  t.equal(childInt(r.root, 'Missing'), undefined);
});

t.test('broken documents are errors, not exceptions', async (t) => {
  for (const bad of ['', 'text', '<a>', '<a></b>', '<a><b></a></b>', '<a/><b/>', '<1a></1a>', '<a>&#0;</a>', '<a>&#x110000;</a>', '<a><![CDATA[x</a>', '<a><!-- x</a>', '<?xml', 'x<a></a>']) {
    const r = parseXml(bad);
    t.notOk(r.ok, JSON.stringify(bad));
  }
  const deep = '<a>'.repeat(XML_LIMITS.maxDepth + 1) + '</a>'.repeat(XML_LIMITS.maxDepth + 1);
  t.notOk(parseXml(deep).ok, 'too deep');
  t.notOk(parseXml('<a>' + '<b/>'.repeat(XML_LIMITS.maxElements + 1) + '</a>').ok, 'too many elements');
  t.ok(parseXml('<a>bare & ampersand</a>').ok, 'a bare & in a name (devices write them) is kept');
});

t.test('property: any input gives a result; what buildXml writes reads back', async () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (s) => {
      const r = parseXml(s);
      return typeof r.ok === 'boolean';
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }).filter((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/.test(s)), fc.nat(), (name, sn) => {
      const fields: XmlFields = { CmdType: 'Catalog', SN: sn, DeviceList: { '@Num': 1, Item: [{ Name: name }] } };
      const r = parseXml(buildXml('Response', fields));
      if (!r.ok) return false;
      return childInt(r.root, 'SN') === sn && childText(child(child(r.root, 'DeviceList'), 'Item'), 'Name') === name.trim();
    }),
    { numRuns: 1000 },
  );
  // cut documents never throw
  const doc = buildXml('Notify', { CmdType: 'Keepalive', SN: 1, DeviceID: '34020000001320000001', Status: 'OK' });
  for (let i = 0; i <= doc.length; i++) parseXml(doc.slice(0, i));
});

t.test('buildXml writes the standard declaration and the Num attribute', async (t) => {
  const x = buildXml('Query', { CmdType: 'Catalog', SN: 1, DeviceID: '1', DeviceList: { '@Num': 0 } });
  t.match(x, /^<\?xml version="1.0" encoding="GB2312"\?>\r\n<Query>/);
  t.match(x, /<DeviceList Num="0">/);
  t.match(buildXml('Notify', { Name: 'a<b' }), /<Name>a&lt;b<\/Name>/);
});
