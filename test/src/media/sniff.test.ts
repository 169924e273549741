import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { notMp4Message, SNIFF_BYTES, sniffContainer } from '../../../src/media/sniff.ts';
import { makeImage, makeMp4Fixture, makeVideo } from '../../helpers/media.ts';

const dir = await mkdtemp(join(tmpdir(), 'eseal-sniff-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

async function head(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

t.test('each fixture kind is recognised from its first bytes', async (t) => {
  const [mp4, frag, ts, mkv, avi, jpeg, png] = await Promise.all([
    makeMp4Fixture(dir, 'h264'),
    makeMp4Fixture(dir, 'h264-fragmented'),
    makeMp4Fixture(dir, 'mpegts'),
    makeMp4Fixture(dir, 'matroska'),
    makeVideo(dir, { seconds: 1, container: 'avi', codec: 'mpeg4' }),
    makeImage(dir, 'jpeg'),
    makeImage(dir, 'png'),
  ]);
  const cases = [
    [mp4, 'mp4', /major brand 'isom'/],
    [frag, 'mp4', /ISO BMFF/],
    [ts, 'mpegts', /MPEG-TS/],
    [mkv, 'matroska', /^Matroska/],
    [avi, 'avi', /AVI/],
    [jpeg, 'jpeg', /JPEG/],
    [png, 'png', /PNG/],
  ] as const;
  for (const [path, kind, detail] of cases) {
    const sniff = sniffContainer(await head(path));
    t.equal(sniff.kind, kind, path);
    t.match(sniff.detail, detail);
  }
});

t.test('what else an upload may turn out to be', async (t) => {
  const ts188 = Buffer.alloc(188 * 3);
  const m2ts = Buffer.alloc(192 * 3);
  for (let i = 0; i < 3; i += 1) {
    ts188[i * 188] = 0x47;
    m2ts[4 + i * 192] = 0x47;
  }
  const ebml = (docType: string): Buffer =>
    Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x80 | docType.length]), Buffer.from(docType)]);
  const box = (type: string): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 16]), Buffer.from(type, 'latin1'), Buffer.alloc(8)]);
  const cases: [Buffer, string, RegExp][] = [
    [Buffer.alloc(0), 'unknown', /^empty/],
    [ts188, 'mpegts', /188/],
    [m2ts, 'mpegts', /M2TS/],
    [ebml('webm'), 'matroska', /^WebM/],
    [ebml('matroska'), 'matroska', /^Matroska/],
    [Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVEfmt ')]), 'unknown', /WAV audio/],
    [Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05]), 'unknown', /FLV/],
    [Buffer.from([0, 0, 1, 0xba, 0x44]), 'unknown', /program stream/],
    [Buffer.from([0, 0, 0, 1, 0x67, 0x64]), 'unknown', /elementary stream/],
    [box('mdat'), 'unknown', /without an ftyp box \(the first box is 'mdat'\)/],
    [box('styp'), 'unknown', /styp/],
    [Buffer.from('<!DOCTYPE html><html><body>502 Bad Gateway'), 'unknown', /HTML page/],
    [Buffer.from('{"code":1,"msg":"token invalid"}'), 'unknown', /JSON/],
    [Buffer.from('GET /video HTTP/1.1\r\n'), 'unknown', /text file \(it begins "GET \/video/],
    [Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]), 'unknown', /unrecognised binary data \(first bytes de ad be ef 00 01\)/],
  ];
  for (const [bytes, kind, detail] of cases) {
    const sniff = sniffContainer(bytes);
    t.equal(sniff.kind, kind, String(detail));
    t.match(sniff.detail, detail);
  }
});

t.test('a multi-byte character cut at the sample edge is still text', async (t) => {
  const text = Buffer.from('煤矿电子封条'.repeat(200));
  const sniff = sniffContainer(text.subarray(0, SNIFF_BYTES));
  t.match(sniff.detail, /^text file/);
});

t.test('messages say what was found, what is required and how to fix it', async (t) => {
  const ts = notMp4Message({ kind: 'mpegts', detail: 'MPEG-TS stream (sync byte 0x47 every 188 bytes)' });
  t.match(ts, /^file is an MPEG-TS stream .*, not MP4; the national platform requires an MP4 \(ISO BMFF\) file .*ffmpeg -i input -c copy/);
  t.match(notMp4Message({ kind: 'jpeg', detail: 'JPEG image' }), /^file is a JPEG image, not a video/);
  t.match(notMp4Message(sniffContainer(Buffer.alloc(0))), /^file is empty \(0 bytes\), not MP4/);
});

t.test('property: sniffing never throws, and an ftyp box is always MP4', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      const sniff = sniffContainer(Buffer.from(bytes));
      return typeof sniff.kind === 'string' && typeof sniff.detail === 'string';
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 8, max: 0xffffffff }), fc.uint8Array({ maxLength: 64 }), (size, rest) => {
      const bytes = Buffer.concat([Buffer.alloc(4), Buffer.from('ftyp'), Buffer.from(rest)]);
      bytes.writeUInt32BE(size, 0);
      return sniffContainer(bytes).kind === 'mp4';
    }),
    { numRuns: 200 },
  );
  t.pass();
});
