// The PS muxer and RTP packetiser round-trip (fast-check): the PTS and SCR read back, PES lengths
// add up to the picture, the PSM's CRC checks, the RTP packets reassemble to the pack, each ≤ the
// limit, one timestamp, the marker on the last; the Annex-B splitter groups pictures.
import t from 'tap';
import fc from 'fast-check';
import { accessUnits, splitNalUnits } from '../../../sim/device/annexB.ts';
import { crc32Mpeg2, muxVideoFrame, programStreamMap, readPts, readScr, type PsMuxOptions } from '../../../sim/device/psMux.ts';
import { Rfc4571Reader, frame4571, packetise, parseRtp } from '../../../sim/device/rtp.ts';

/** Walks a pack: its PES packets (stream id, PTS, payload). */
function walk(ps: Buffer): { scr: number; ids: number[]; pes: Array<{ id: number; pts?: number; payload: Buffer }> } {
  const out = { scr: readScr(ps), ids: [] as number[], pes: [] as Array<{ id: number; pts?: number; payload: Buffer }> };
  let at = 14 + (ps[13]! & 7);
  while (at + 6 <= ps.length) {
    if (ps.readUIntBE(at, 3) !== 1) throw new Error(`no start code at ${at}`);
    const id = ps[at + 3]!;
    const len = ps.readUInt16BE(at + 4);
    out.ids.push(id);
    if (id === 0xe0 || id === 0xc0 || id === 0xbd) {
      const hlen = ps[at + 8]!;
      const pts = ps[at + 7]! & 0x80 ? readPts(ps, at + 9) : undefined;
      out.pes.push({ id, ...(pts === undefined ? {} : { pts }), payload: ps.subarray(at + 9 + hlen, at + 6 + len) });
    }
    at += 6 + len;
  }
  if (at !== ps.length) throw new Error('trailing bytes');
  return out;
}

t.test('mux + packetise round-trip', async (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 200_000 }),
      fc.boolean(),
      fc.nat({ max: 2 ** 33 - 1 }),
      fc.record({ psm: fc.boolean(), privateStream: fc.boolean(), audio: fc.boolean(), maxPesPayload: fc.integer({ min: 1, max: 70_000 }), codec: fc.constantFrom('h264' as const, 'h265' as const) }),
      fc.integer({ min: 13, max: 1400 }),
      (data, keyframe, pts, o: PsMuxOptions, maxPacket) => {
        const ps = muxVideoFrame({ data, keyframe }, pts, o);
        const w = walk(ps);
        if (w.scr !== pts) return false;
        const video = w.pes.filter((p) => p.id === 0xe0);
        if (video[0]!.pts !== pts || video.slice(1).some((p) => p.pts !== undefined)) return false;
        if (!Buffer.concat(video.map((p) => p.payload)).equals(Buffer.from(data))) return false;
        if (w.ids.includes(0xbb) !== keyframe || w.ids.includes(0xbc) !== (keyframe && o.psm) || w.ids.includes(0xbd) !== o.privateStream) return false;
        const state = { ssrc: 123456789, payloadType: 96, seq: 65530 };
        const packets = packetise(state, ps, pts, maxPacket);
        const parsed = packets.map((p) => parseRtp(p)!);
        return (
          packets.every((p) => p.length <= maxPacket) &&
          Buffer.concat(parsed.map((p) => p.payload)).equals(ps) &&
          parsed.every((p, i) => p.timestamp === pts % 2 ** 32 && p.seq === (65530 + i) % 65536 && p.ssrc === 123456789 && p.marker === (i === parsed.length - 1))
        );
      },
    ),
    { numRuns: 150 },
  );
  t.pass('round-trips');
});

t.test('RFC 4571 framing round-trips through any chunking', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 3000 }), { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 10 }), (packets, cuts) => {
      const stream = Buffer.concat(packets.map(frame4571));
      const r = new Rfc4571Reader();
      const got: Buffer[] = [];
      for (let at = 0, i = 0; at < stream.length; i++) {
        const n = cuts[i % cuts.length]!;
        got.push(...r.push(stream.subarray(at, at + n)));
        at += n;
      }
      return got.length === packets.length && got.every((g, i) => g.equals(Buffer.from(packets[i]!)));
    }),
  );
  t.pass('round-trips');
});

t.test('PSM CRC and the Annex-B splitter', async (t) => {
  const psm = programStreamMap({ codec: 'h264', audio: true });
  t.equal(crc32Mpeg2(psm), 0, 'a section with its CRC checks to 0');
  t.equal(crc32Mpeg2(Buffer.from('123456789')), 0x0376e6e7, 'CRC-32/MPEG-2 check value');
  const nal = (b: number[]): number[] => [0, 0, 0, 1, ...b];
  const stream = Buffer.from([...nal([0x67, 1]), ...nal([0x68, 2]), ...nal([0x65, 0x80, 3]), ...nal([0x65, 0x00, 4]), ...nal([0x41, 0x80, 5]), 0, 0, 1, 0x41, 0x80, 6]);
  t.same(splitNalUnits(stream).length, 6);
  const units = accessUnits('h264', stream);
  t.same(units.map((u) => [u.keyframe, u.nalTypes]), [[true, [7, 8, 5, 5]], [false, [1]], [false, [1]]], 'a picture of two slices, then two P pictures');
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => Array.isArray(accessUnits('h265', b)) && Array.isArray(accessUnits('h264', b))), { numRuns: 300 });
});
