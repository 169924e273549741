// The probe over hand-built files: the box forms no muxer at hand writes (64-bit sizes, size 0,
// version 1 headers, uuid), and every way a size field can lie.

import fc from 'fast-check';
import t from 'tap';
import { bufferSource } from '../../../src/media/byteSource.ts';
import { MediaCorrupt, MediaNoVideo, MediaNotH264 } from '../../../src/media/errors.ts';
import { type Mp4Info, type ProbeMp4Options, probeMp4 } from '../../../src/media/mp4.ts';
import { box, buildMp4, fourcc, type HandMp4Options, refusal, zeros } from '../../helpers/media.ts';

function probe(bytes: Buffer, options?: ProbeMp4Options): Promise<Mp4Info> {
  return probeMp4(bufferSource(bytes), options);
}

/**
 * Offset of the first box of `type` in a hand-built file. Past ftyp (whose brands name 'avc1'),
 * box types occur nowhere but in headers.
 */
function offsetOf(bytes: Buffer, type: string): number {
  const ftypSize = bytes.readUInt32BE(0) === 1 ? Number(bytes.readBigUInt64BE(8)) : bytes.readUInt32BE(0);
  const at = type === 'ftyp' ? 0 : bytes.indexOf(type, ftypSize, 'latin1') - 4;
  if (at < 0) throw new Error(`no ${type}`);
  return at;
}

t.test('a minimal hand-built MP4 parses', async (t) => {
  const info = await probe(buildMp4());
  t.equal(info.video.codec, 'avc1');
  t.same([info.video.width, info.video.height], [320, 240]);
  t.equal(info.durationMs, 2000);
  t.equal(info.video.durationMs, 2000);
  t.equal(info.video.timescale, 10240);
  t.equal(info.fastStart, true);
  t.same(info.video.avc, { profile: 100, profileName: 'High', level: 3.1, nalLengthSize: 4 });
});

t.test('version 1 mvhd/tkhd/mdhd with durations past 32 bits', async (t) => {
  const info = await probe(
    buildMp4({
      version: 1,
      movieTimescale: 1000,
      movieDuration: 6_000_000_000n,
      tracks: [{ timescale: 90000, duration: 2 ** 33 }],
    }),
  );
  t.equal(info.durationMs, 6_000_000_000);
  t.equal(info.video.durationMs, Math.round((2 ** 33 * 1000) / 90000));
  t.same([info.video.width, info.video.height], [320, 240]);
});

t.test('unknown durations (all ones) fall back to the tracks', async (t) => {
  const info = await probe(buildMp4({ movieDuration: 0xffffffff }));
  t.equal(info.durationMs, 2000);
});

const SIZE64_CANDIDATES = ['ftyp', 'moov', 'mdat', 'mvhd', 'trak', 'tkhd', 'mdia', 'mdhd', 'hdlr', 'minf', 'stbl', 'stsd', 'stts', 'avc1', 'avcC'];

t.test('property: 64-bit sizes, size 0, free/skip/wide/uuid boxes all parse to the same facts', async (t) => {
  const reference = await probe(buildMp4());
  const extra = fc.constantFrom(
    box('free', [zeros(3)]),
    box('skip'),
    box('wide'),
    box('uuid', [Buffer.alloc(16, 0xab), zeros(5)]),
    box('free', [zeros(20)], { size64: true }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.subarray(SIZE64_CANDIDATES),
      fc.boolean(),
      fc.boolean(),
      fc.array(extra, { maxLength: 4 }),
      async (size64, moovAtEnd, lastBoxSize0, extraTopLevel) => {
        const options: HandMp4Options = { size64, moovAtEnd, lastBoxSize0, extraTopLevel };
        const info = await probe(buildMp4(options));
        t.equal(info.fastStart, !moovAtEnd);
        return (
          info.video.codec === 'avc1' &&
          info.video.width === reference.video.width &&
          info.video.height === reference.video.height &&
          info.video.durationMs === reference.video.durationMs &&
          info.durationMs === reference.durationMs
        );
      },
    ),
    { numRuns: 150 },
  );
});

t.test('size 0 inside a box is valid only where the parent also runs to the end of the file', async (t) => {
  const atEnd = buildMp4({ moovAtEnd: true, lastBoxSize0: true });
  atEnd.writeUInt32BE(0, offsetOf(atEnd, 'trak')); // the only trak: last child of the last box
  const info = await probe(atEnd);
  t.equal(info.video.codec, 'avc1');

  const inside = buildMp4();
  inside.writeUInt32BE(0, offsetOf(inside, 'trak')); // moov is followed by mdat
  const err = await refusal(probe(inside));
  t.equal(err.code, MediaCorrupt.code);
  t.match(err.message, /box 'trak' at offset \d+ in moov has size 0 \(runs to the end of the file\) but its parent ends/);
});

t.test('sizes below the header are CORRUPT', async (t) => {
  for (const [type, size] of [['moov', 4], ['mdat', 7], ['trak', 2], ['stsd', 5]] as const) {
    const bytes = buildMp4();
    bytes.writeUInt32BE(size, offsetOf(bytes, type));
    const err = await refusal(probe(bytes));
    t.equal(err.code, MediaCorrupt.code, `${type} size ${size}`);
    t.match(err.message, new RegExp(`box '${type}' .*declares a size of ${size} bytes, less than its own 8-byte header`));
  }
  const large = buildMp4({ size64: ['moov'] });
  large.writeBigUInt64BE(15n, offsetOf(large, 'moov') + 8);
  t.match((await refusal(probe(large))).message, /64-bit size of 15 bytes, less than its own 16-byte header/);
  large.writeBigUInt64BE(0xffffffffffffffffn, offsetOf(large, 'moov') + 8);
  const huge = await refusal(probe(large));
  t.equal(huge.code, MediaCorrupt.code);
  t.match(huge.message, /more than 2\^53 bytes/);
});

t.test('a uuid box too short for its extended type is CORRUPT', async (t) => {
  const err = await refusal(probe(buildMp4({ extraTopLevel: [box('uuid', [zeros(8)])] })));
  t.equal(err.code, MediaCorrupt.code);
  t.match(err.message, /too short for its 16-byte extended type/);
});

t.test('property: a nested box that claims more than its parent is CORRUPT', async (t) => {
  const parents: Record<string, string> = {
    mvhd: 'moov', trak: 'moov', tkhd: 'trak', mdia: 'trak', mdhd: 'mdia', hdlr: 'mdia', minf: 'mdia',
    stbl: 'minf', stsd: 'stbl', stts: 'stbl', avc1: 'stsd', avcC: 'avc1',
  };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...Object.keys(parents)), fc.boolean(), fc.nat(), async (type, moovAtEnd, extra) => {
      const bytes = buildMp4({ moovAtEnd });
      const at = offsetOf(bytes, type);
      const parentAt = offsetOf(bytes, parents[type] ?? 'moov');
      const room = parentAt + bytes.readUInt32BE(parentAt) - at;
      bytes.writeUInt32BE(Math.min(0xffffffff, room + 1 + extra), at);
      const err = await refusal(probe(bytes));
      return err.code === MediaCorrupt.code && /declares \d+ bytes but (its parent|the file) ends/.test(err.message);
    }),
    { numRuns: 150 },
  );
  t.pass();
});

t.test('the box budget bounds a file of many tiny boxes', async (t) => {
  const many = Array.from({ length: 200 }, () => box('free'));
  const err = await refusal(probe(buildMp4({ extraTopLevel: many }), { maxBoxes: 100 }));
  t.equal(err.code, MediaCorrupt.code);
  t.match(err.message, /more than 100 boxes/);
  t.equal((await probe(buildMp4({ extraTopLevel: many }))).video.codec, 'avc1', 'the default budget allows it');
});

t.test('fragmented: explicit trun durations, tfhd defaults, trex defaults, mehd', async (t) => {
  const fragments = [
    { sampleDurations: [1024, 1024, 1024, 1024] }, // 4096
    { samples: 10, defaultDuration: 512 }, // 5120
    { samples: 3 }, // 3 × trex 2048 = 6144
  ];
  const info = await probe(buildMp4({ fragments, trexDefaultDuration: 2048 }));
  t.equal(info.fragmented, true);
  t.equal(info.video.durationMs, Math.round(((4096 + 5120 + 6144) * 1000) / 10240));
  t.equal(info.durationMs, info.video.durationMs, 'without mehd the movie lasts as long as its longest track');

  const withMehd = await probe(buildMp4({ fragments, trexDefaultDuration: 2048, mehdDuration: 1600 }));
  t.equal(withMehd.durationMs, 1600, 'mehd, in the mvhd timescale (1000), wins for the movie');
  t.equal(withMehd.video.durationMs, info.video.durationMs);
});

t.test('a trun with more samples than bytes is CORRUPT, not a long loop', async (t) => {
  const bytes = buildMp4({ fragments: [{ sampleDurations: [1000, 1000] }] });
  bytes.writeUInt32BE(0xffffffff, offsetOf(bytes, 'trun') + 12); // sample_count
  const started = performance.now();
  const err = await refusal(probe(bytes));
  t.equal(err.code, MediaCorrupt.code);
  t.match(err.message, /too few for its 4294967295 sample records/);
  // a loop over 4 billion records would take minutes; the bound leaves room for a loaded machine
  t.ok(performance.now() - started < 2000, `refused in ${(performance.now() - started).toFixed(0)} ms`);
});

t.test('codec rules on hand-built sample entries', async (t) => {
  t.equal((await probe(buildMp4({ tracks: [{ codec: 'avc3' }] }))).video.codec, 'avc3');
  const cases: [string, RegExp][] = [
    ['hvc1', /video track is H\.265\/HEVC \(hvc1\)/],
    ['av01', /video track is AV1 \(av01\)/],
    ['vp09', /video track is VP9 \(vp09\)/],
    ['zzzz', /video track uses sample entry 'zzzz', which is not H\.264/],
  ];
  for (const [codec, message] of cases) {
    const err = await refusal(probe(buildMp4({ tracks: [{ codec }] })));
    t.equal(err.code, MediaNotH264.code, codec);
    t.match(err.message, message);
    t.equal(err.detail?.codec, codec);
  }
  const sinf = box('sinf', [box('frma', [fourcc('avc1')])]);
  const encrypted = await refusal(probe(buildMp4({ tracks: [{ codec: 'encv', entryTrailer: sinf }] })));
  t.equal(encrypted.code, MediaNotH264.code);
  t.match(encrypted.message, /video track is encrypted \(encv, original format avc1\)/);

  const noAvcC = await refusal(probe(buildMp4({ tracks: [{ noAvcC: true }] })));
  t.equal(noAvcC.code, MediaCorrupt.code);
  t.match(noAvcC.message, /has no avcC box/);
});

t.test('sample entries: a QuickTime-style zero terminator is fine, other stray bytes are not', async (t) => {
  const terminated = await probe(buildMp4({ tracks: [{ entryTrailer: zeros(4) }] }));
  t.equal(terminated.video.codec, 'avc1');
  const stray = await refusal(probe(buildMp4({ tracks: [{ entryTrailer: Buffer.from([1, 2, 3, 4]) }] })));
  t.equal(stray.code, MediaCorrupt.code);
  t.match(stray.message, /4 byte\(s\) left at offset \d+ in moov\/trak\[1\]\/mdia\/minf\/stbl\/stsd\/avc1/);
  // The children of an entry the relay refuses anyway are not looked at.
  const hevc = await refusal(probe(buildMp4({ tracks: [{ codec: 'hvc1', entryTrailer: Buffer.from([1, 2, 3, 4]) }] })));
  t.equal(hevc.code, MediaNotH264.code);
});

t.test('the first video track is the one checked, wherever it is', async (t) => {
  const info = await probe(buildMp4({ tracks: [{ handler: 'soun' }, { handler: 'vide', width: 640, height: 360 }] }));
  t.equal(info.video.trackId, 2);
  t.same([info.video.width, info.video.height], [640, 360]);
  t.same(info.tracks.map((x) => [x.handler, x.codec]), [['soun', 'mp4a'], ['vide', 'avc1']]);
});

t.test('structural rules', async (t) => {
  const none = await refusal(probe(buildMp4({ tracks: [] })));
  t.equal(none.code, MediaNoVideo.code);
  t.match(none.message, /no tracks at all/);

  const plain = buildMp4();
  const moovAt = offsetOf(plain, 'moov');
  const moov = plain.subarray(moovAt, moovAt + plain.readUInt32BE(moovAt));
  const twice = await refusal(probe(buildMp4({ extraTopLevel: [moov] })));
  t.equal(twice.code, MediaCorrupt.code);
  t.match(twice.message, /second moov box/);

  const noHdlr = buildMp4();
  noHdlr.write('hdlX', offsetOf(noHdlr, 'hdlr') + 4, 'latin1');
  t.match((await refusal(probe(noHdlr))).message, /moov\/trak\[1\]\/mdia has no hdlr box/);

  const zeroScale = buildMp4();
  zeroScale.writeUInt32BE(0, offsetOf(zeroScale, 'mdhd') + 20); // v0: header 8, version 4, times 8
  t.match((await refusal(probe(zeroScale))).message, /box 'mdhd' at offset \d+ has a timescale of 0/);

  const v2 = buildMp4();
  v2.writeUInt8(2, offsetOf(v2, 'tkhd') + 8);
  t.match((await refusal(probe(v2))).message, /box 'tkhd' at offset \d+ has version 2/);

  const stray = Buffer.concat([buildMp4(), fourcc('abc')]);
  t.match((await refusal(probe(stray))).message, /ends with 3 stray byte\(s\)/);
});
