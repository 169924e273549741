import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { EsealError } from '../../../src/errors.ts';
import { bufferSource } from '../../../src/media/byteSource.ts';
import { MediaCorrupt, MediaNoMoov, MediaNotH264, MediaNotMp4, MediaNoVideo, MediaUnreadable } from '../../../src/media/errors.ts';
import { probeMp4, probeMp4File } from '../../../src/media/mp4.ts';
import { makeMp4Fixture, makeVideo, padMp4ToSize, refusal } from '../../helpers/media.ts';

const MiB = 1024 * 1024;
const FPS = 10;
const FRAME_MS = 1000 / FPS;

const dir = await mkdtemp(join(tmpdir(), 'eseal-mp4-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const [h264, h264Fast, h264Frag, h264Aac, h265, mpeg4, aacOnly, mpegts, matroska, small] = await Promise.all([
  makeMp4Fixture(dir, 'h264'),
  makeMp4Fixture(dir, 'h264-faststart'),
  makeVideo(dir, { seconds: 3, fragmented: true }),
  makeMp4Fixture(dir, 'h264-aac'),
  makeMp4Fixture(dir, 'h265'),
  makeMp4Fixture(dir, 'mpeg4'),
  makeMp4Fixture(dir, 'aac-only'),
  makeMp4Fixture(dir, 'mpegts'),
  makeMp4Fixture(dir, 'matroska'),
  makeVideo(dir, { seconds: 1, width: 96, height: 64, fastStart: true, name: 'small.mp4' }),
]);

/** Offset of the first top-level box of `type` (walking sizes, so mdat payload is never matched). */
function topLevelOffset(bytes: Buffer, type: string): number {
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(at);
    if (bytes.toString('latin1', at + 4, at + 8) === type) return at;
    at += size === 1 ? Number(bytes.readBigUInt64BE(at + 8)) : size;
  }
  throw new Error(`no top-level ${type}`);
}

t.test('H.264 with moov at the end', async (t) => {
  const info = await probeMp4File(h264);
  t.equal(info.video.codec, 'avc1');
  t.equal(info.video.codecName, 'H.264');
  t.equal(info.video.width, 320);
  t.equal(info.video.height, 240);
  t.ok(Math.abs(info.video.durationMs - 2000) <= FRAME_MS, `video ${info.video.durationMs} ms ≈ 2000`);
  t.ok(Math.abs(info.durationMs - 2000) <= FRAME_MS, `movie ${info.durationMs} ms ≈ 2000`);
  t.equal(info.fastStart, false);
  t.equal(info.fragmented, false);
  t.equal(info.majorBrand, 'isom');
  t.ok(info.compatibleBrands.includes('avc1'));
  t.equal(info.fileSize, (await stat(h264)).size);
  t.same(info.tracks.map((x) => [x.handler, x.codec]), [['vide', 'avc1']]);
  t.equal(info.video.avc.nalLengthSize, 4);
  t.equal(info.video.avc.profileName, 'Baseline', 'x264 ultrafast with yuv420p writes Constrained Baseline');
});

t.test('H.264 with faststart', async (t) => {
  const info = await probeMp4File(h264Fast);
  t.equal(info.video.codec, 'avc1');
  t.equal(info.fastStart, true);
  t.equal(info.fragmented, false);
  t.same([info.video.width, info.video.height], [320, 240]);
  t.ok(Math.abs(info.video.durationMs - 2000) <= FRAME_MS);
});

t.test('other sizes and rates are read, not assumed', async (t) => {
  const path = await makeVideo(dir, { seconds: 1.5, width: 176, height: 144, fps: 25, fastStart: true });
  const info = await probeMp4File(path);
  t.same([info.video.width, info.video.height], [176, 144]);
  t.ok(Math.abs(info.video.durationMs - 1500) <= 1000 / 25, `${info.video.durationMs} ms ≈ 1500`);
});

t.test('fragmented H.264: duration is the sum over the fragments', async (t) => {
  const info = await probeMp4File(h264Frag);
  t.equal(info.fragmented, true);
  t.equal(info.fastStart, true);
  t.equal(info.video.codec, 'avc1');
  // empty_moov: moov holds no samples, so only the three one-second fragments can give 3 s.
  t.ok(Math.abs(info.video.durationMs - 3000) <= FRAME_MS, `video ${info.video.durationMs} ms ≈ 3000`);
  t.ok(Math.abs(info.durationMs - 3000) <= FRAME_MS, `movie ${info.durationMs} ms ≈ 3000`);
});

t.test('H.264 with an AAC track: the video is still found', async (t) => {
  const info = await probeMp4File(h264Aac);
  t.equal(info.tracks.length, 2);
  t.ok(info.tracks.some((x) => x.handler === 'soun' && x.codec === 'mp4a'), 'audio track listed');
  const videoTrack = info.tracks.find((x) => x.handler === 'vide');
  t.equal(info.video.trackId, videoTrack?.trackId);
  t.equal(info.video.codec, 'avc1');
  t.ok(Math.abs(info.video.durationMs - 2000) <= FRAME_MS);
});

t.test('padMp4ToSize: exactly 10 MiB and 10 MiB + 1, both still valid', async (t) => {
  for (const [name, total, options] of [
    ['10mib.mp4', 10 * MiB, {}],
    ['10mib1.mp4', 10 * MiB + 1, {}],
    ['10mib-64.mp4', 10 * MiB, { largeSize: true }],
  ] as const) {
    const dest = join(dir, name);
    await padMp4ToSize(h264Fast, dest, total, options);
    t.equal((await stat(dest)).size, total, `${name} is ${total} bytes`);
    const info = await probeMp4File(dest);
    t.equal(info.fileSize, total);
    t.equal(info.video.codec, 'avc1');
    t.equal(info.fastStart, true);
  }
  await t.rejects(padMp4ToSize(h264Fast, join(dir, 'bad.mp4'), (await stat(h264Fast)).size + 3), /at least 8 bytes/);
});

t.test('H.265 is refused, naming hvc1/hev1', async (t) => {
  const err = await refusal(probeMp4File(h265, { field: 'file' }));
  t.equal(err.code, MediaNotH264.code);
  t.equal(err.statusCode, 415);
  t.equal(err.field, 'file');
  t.match(err.message, /H\.265/);
  t.match(err.message, /\((hvc1|hev1)\)/);
  t.match(err.message, /requires H\.264 \(avc1\/avc3\)/);
});

t.test('MPEG-4 Part 2 is refused, naming mp4v', async (t) => {
  const err = await refusal(probeMp4File(mpeg4));
  t.equal(err.code, MediaNotH264.code);
  t.match(err.message, /MPEG-4 Part 2 \(mp4v\)/);
});

t.test('MPEG-TS and Matroska renamed to .MP4 are refused as what they are', async (t) => {
  const ts = join(dir, 'camera1.MP4');
  const mkv = join(dir, 'camera2.MP4');
  await copyFile(mpegts, ts);
  await copyFile(matroska, mkv);
  const tsErr = await refusal(probeMp4File(ts));
  t.equal(tsErr.code, MediaNotMp4.code);
  t.match(tsErr.message, /MPEG-TS/);
  t.match(tsErr.message, /ffmpeg -i input -c copy/);
  t.equal(tsErr.detail?.container, 'mpegts');
  const mkvErr = await refusal(probeMp4File(mkv));
  t.equal(mkvErr.code, MediaNotMp4.code);
  t.match(mkvErr.message, /Matroska/);
  t.equal(mkvErr.detail?.container, 'matroska');
});

t.test('a text file and an empty file are not MP4', async (t) => {
  const text = join(dir, 'notes.mp4');
  await writeFile(text, '视频上传失败, please retry\n');
  const err = await refusal(probeMp4File(text));
  t.equal(err.code, MediaNotMp4.code);
  t.match(err.message, /text file \(it begins "视频上传失败/);
  const empty = join(dir, 'empty.mp4');
  await writeFile(empty, '');
  const emptyErr = await refusal(probeMp4File(empty));
  t.equal(emptyErr.code, MediaNotMp4.code);
  t.match(emptyErr.message, /empty/);
});

t.test('audio-only MP4 has no video', async (t) => {
  const err = await refusal(probeMp4File(aacOnly));
  t.equal(err.code, MediaNoVideo.code);
  t.match(err.message, /soun \(mp4a\)/);
});

t.test('truncated copies are refused with a typed error, never a crash', async (t) => {
  for (const src of [h264, h264Fast, h264Frag]) {
    const bytes = await readFile(src);
    const moov = topLevelOffset(bytes, 'moov');
    const cuts = [9, 16, 31, 33, 40, 47, moov, moov + 3, moov + 8, moov + 100, Math.floor(bytes.length / 2), bytes.length - 1];
    for (const cut of cuts) {
      const path = join(dir, `cut-${cut}.mp4`);
      await writeFile(path, bytes.subarray(0, cut));
      const err = await refusal(probeMp4File(path));
      t.ok(err.code === MediaNoMoov.code || err.code === MediaCorrupt.code, `${src} cut at ${cut}: ${err.code} ${err.message}`);
    }
  }
});

t.test('a file cut where its moov would begin has no moov', async (t) => {
  const bytes = await readFile(h264);
  const moov = topLevelOffset(bytes, 'moov');
  const path = join(dir, 'no-moov.mp4');
  await writeFile(path, bytes.subarray(0, moov));
  const err = await refusal(probeMp4File(path));
  t.equal(err.code, MediaNoMoov.code);
  t.match(err.message, /ftyp, free, mdat/);
});

t.test('a recording cut off before it was finalised (mdat size 0, no moov)', async (t) => {
  const bytes = Buffer.from(await readFile(h264));
  const mdat = topLevelOffset(bytes, 'mdat');
  const moov = topLevelOffset(bytes, 'moov');
  const cut = bytes.subarray(0, moov - 1234);
  cut.writeUInt32BE(0, mdat); // the muxer writes the size only when it finalises the file
  const path = join(dir, 'cut-off.mp4');
  await writeFile(path, cut);
  const err = await refusal(probeMp4File(path));
  t.equal(err.code, MediaNoMoov.code);
  t.match(err.message, /cut off before it was finalised/);
});

t.test('limits: moov size, box count, bytes read', async (t) => {
  const moovErr = await refusal(probeMp4File(h264, { maxMoovBytes: 256 }));
  t.equal(moovErr.code, MediaCorrupt.code);
  t.match(moovErr.message, /moov box at offset \d+ is \d+ bytes, more than the 256 bytes/);
  const boxErr = await refusal(probeMp4File(h264Aac, { maxBoxes: 10 }));
  t.equal(boxErr.code, MediaCorrupt.code);
  t.match(boxErr.message, /more than 10 boxes/);
  const readErr = await refusal(probeMp4File(h264Frag, { maxMoovBytes: 4096, maxReadBytes: 2048 }));
  t.equal(readErr.code, MediaCorrupt.code);
  t.match(readErr.message, /past the 2048 bytes/);
});

t.test('a file the relay cannot read is its own problem, not the mine\'s', async (t) => {
  const err = await refusal(probeMp4File(join(dir, 'missing.mp4')));
  t.equal(err.code, MediaUnreadable.code);
  t.equal(err.statusCode, 500);
  t.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT');
});

/** Probe resolves, or rejects with a media EsealError; anything else fails the property. */
async function probeIsTyped(bytes: Buffer): Promise<boolean> {
  const started = performance.now();
  try {
    await probeMp4(bufferSource(bytes));
  } catch (err) {
    if (!(err instanceof EsealError) || !err.code.startsWith('ESEAL_ERR_MEDIA_')) throw err;
  }
  const ms = performance.now() - started;
  if (ms > 200) throw new Error(`probe took ${ms.toFixed(0)} ms`);
  return true;
}

t.test('property: mutated and truncated MP4s only ever fail as EsealError, quickly', async (t) => {
  const original = await readFile(small);
  const moovEnd = (() => {
    const at = topLevelOffset(original, 'moov');
    return at + original.readUInt32BE(at);
  })();
  // Most mutations land in ftyp/moov, where the parser looks; some anywhere.
  const position = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: moovEnd - 1 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: original.length - 1 }) },
  );
  const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 0x7f, 0x80, 0xff));
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(position, byte), { minLength: 1, maxLength: 8 }),
      fc.option(fc.integer({ min: 0, max: original.length }), { nil: undefined }),
      async (mutations, cut) => {
        const bytes = Buffer.from(original);
        for (const [at, value] of mutations) bytes[at] = value;
        return probeIsTyped(cut === undefined ? bytes : bytes.subarray(0, cut));
      },
    ),
    { numRuns: 400 },
  );
  t.pass('400 mutated files refused or accepted, never crashed');
});

t.test('property: a size field that claims more than the file is CORRUPT', async (t) => {
  const original = await readFile(small);
  const offsets = ['ftyp', 'moov', 'mdat'].map((type) => topLevelOffset(original, type));
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...offsets), fc.nat(), async (at, extra) => {
      const bytes = Buffer.from(original);
      const claim = Math.min(0xffffffff, bytes.length - at + 1 + extra);
      bytes.writeUInt32BE(claim, at);
      const err = await refusal(probeMp4(bufferSource(bytes)));
      return err.code === MediaCorrupt.code && /declares \d+ bytes but the file ends/.test(err.message);
    }),
    { numRuns: 100 },
  );
  t.pass();
});
