// The simulator's streaming multipart reader: whatever the chunking, every part comes out as it
// went in, including bytes that look like the start of a boundary; broken bodies are named.
import t from 'tap';
import fc from 'fast-check';
import { headerParams, multipartBoundary, readMultipart, type PartHead } from '../../sim/national/multipart.ts';

interface Part {
  name: string;
  fileName?: string;
  contentType?: string;
  data: Buffer;
}

function build(boundary: string, parts: Part[], preamble = '', epilogue = ''): Buffer {
  // a preamble ends with the CRLF that belongs to the first delimiter (RFC 2046)
  const chunks: Buffer[] = [Buffer.from(preamble ? preamble + '\r\n' : '')];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.fileName !== undefined) head += `; filename="${p.fileName}"`;
    head += '\r\n';
    if (p.contentType) head += `Content-Type: ${p.contentType}\r\n`;
    chunks.push(Buffer.from(head + '\r\n'), p.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n${epilogue}`));
  return Buffer.concat(chunks);
}

async function* chunked(bytes: Buffer, cuts: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const c of [...new Set(cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b)) {
    if (c > at) yield bytes.subarray(at, c);
    at = Math.max(at, c);
  }
  if (at < bytes.length) yield bytes.subarray(at);
}

async function parse(source: AsyncIterable<Buffer>, boundary: string): Promise<{ head: PartHead; data: Buffer }[]> {
  const out: { head: PartHead; data: Buffer }[] = [];
  await readMultipart(source, boundary, (head) => {
    const chunks: Buffer[] = [];
    return {
      write: (c) => void chunks.push(Buffer.from(c)),
      end: () => void out.push({ head, data: Buffer.concat(chunks) }),
    };
  });
  return out;
}

t.test('every part comes out whole, however the body is cut', async (t) => {
  const boundary = '----formdata-undici-0123456789';
  // bytes rich in CR, LF and '-' so that near-boundaries are common
  const data = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a.map((b) => [13, 10, 45, 45, b][b % 5]!)));
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ name: fc.stringMatching(/^[a-zA-Z]{1,12}$/), file: fc.boolean(), data }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      fc.constantFrom('', 'preamble text'),
      async (spec, cuts, preamble) => {
        const parts: Part[] = spec.map((p, i) => (p.file ? { name: p.name, fileName: `${i}.MP4`, contentType: 'application/mp4', data: Buffer.from(p.data) } : { name: p.name, data: Buffer.from(p.data) }));
        const body = build(boundary, parts, preamble, 'epilogue');
        const got = await parse(chunked(body, cuts), boundary);
        if (got.length !== parts.length) throw new Error(`${got.length} parts out of ${parts.length}`);
        for (const [i, p] of parts.entries()) {
          if (got[i]!.head.name !== p.name || got[i]!.head.fileName !== p.fileName || !got[i]!.data.equals(p.data)) {
            throw new Error(`part ${i} differs`);
          }
        }
      },
    ),
    { numRuns: 200 },
  );
  t.pass('200 bodies, cut at random');
});

t.test('headers: quoted names, RFC 5987 file names, content type', async (t) => {
  t.equal(multipartBoundary('multipart/form-data; boundary=abc'), 'abc');
  t.equal(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b;c"'), 'a b;c');
  t.equal(multipartBoundary('application/json'), undefined);
  t.equal(multipartBoundary('multipart/form-data'), undefined);
  t.same(headerParams(`form-data; name="a\\"b"; filename=plain.MP4`), { name: 'a"b', filename: 'plain.MP4' });
  t.same(headerParams(`form-data; name="v"; filename="x.MP4"; filename*=UTF-8''%E8%A7%86%E9%A2%91.MP4`), { name: 'v', filename: '视频.MP4' });
  const body = Buffer.from('--b\r\ncontent-disposition: form-data; name="personVideo"; filename="1.MP4"\r\ncontent-type: application/mp4\r\n\r\nxyz\r\n--b--');
  const [part] = await parse(chunked(body, []), 'b');
  t.same(part!.head, {
    name: 'personVideo',
    fileName: '1.MP4',
    contentType: 'application/mp4',
    headers: { 'content-disposition': 'form-data; name="personVideo"; filename="1.MP4"', 'content-type': 'application/mp4' },
  });
  t.equal(part!.data.toString(), 'xyz');
});

t.test('broken bodies are refused with what is wrong', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nxyz', 'b', /^body: the body ended before its closing boundary --b--/],
    ['--other\r\n\r\nxyz\r\n--other--', 'b', /^body: no boundary --b in the body/],
    ['--b\r\nContent-Type: text/plain\r\n\r\nxyz\r\n--b--', 'b', /^body: every part needs "Content-Disposition: form-data/],
    ['--b\r\nContent-Disposition: form-data; filename="x"\r\n\r\nxyz\r\n--b--', 'b', /^body: a part's Content-Disposition has no name/],
    ['--b\r\nbroken header\r\n\r\nxyz\r\n--b--', 'b', /^body: a part header line is not "Name: value"/],
  ];
  for (const [text, boundary, msg] of cases) {
    await t.rejects(parse(chunked(Buffer.from(text), [3, 9]), boundary), { code: 'ESEAL_ERR_SIM_MULTIPART', message: msg }, text);
  }
  const many = Buffer.from('--b\r\n' + 'Content-Disposition: form-data; name="f"\r\n\r\nv\r\n--b\r\n'.repeat(20) + '\r\n--b--');
  await t.rejects(parse(chunked(many, []), 'b'), { message: /^body: more than 16 parts/ });
});
