import t from 'tap';
import type { Test } from 'tap';
import fc from 'fast-check';
import { PsDemuxer, type DemuxedFrame } from '../../../../gb28181/media/ps/PsDemuxer.ts';
import { accessUnits, annexBClip, pes, psFrame, type AccessUnit, type PsOptions } from '../../../helpers/rtpPs.ts';

function demuxAll(chunks: Buffer[]): { frames: DemuxedFrame[]; d: PsDemuxer } {
  const frames: DemuxedFrame[] = [];
  const d = new PsDemuxer((f) => frames.push(f));
  for (const c of chunks) d.push(c);
  d.flush();
  return { frames, d };
}

function cut(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; at += size) out.push(buf.subarray(at, at + size));
  return out;
}

async function stream(codec: 'h264' | 'h265', o: PsOptions = {}): Promise<{ aus: AccessUnit[]; ps: Buffer }> {
  const aus = accessUnits(codec, await annexBClip(codec, 2)).slice(0, 30);
  return { aus, ps: Buffer.concat(aus.map((au, i) => psFrame(au, 3600 * (i + 1), { ...o, codec }))) };
}

function checkFrames(t: Test, frames: DemuxedFrame[], aus: AccessUnit[], codec: string): void {
  const video = frames.filter((f) => f.kind === 'video');
  t.equal(video.length, aus.length, 'one frame per access unit');
  t.ok(video.every((f, i) => f.data.equals(aus[i]!.data)), 'frames byte-identical to the access units');
  t.same(video.map((f) => f.keyframe), aus.map((a) => a.keyframe), 'keyframes flagged');
  t.same(video.map((f) => f.pts90k), aus.map((_, i) => 3600 * (i + 1)), 'PTS read');
  t.ok(video.every((f) => f.codec === codec), `codec ${codec}`);
}

t.test('GB/T 28181 PS: BA+BB+BC+E0 keyframes, BA+E0 P-frames, cut in RTP-sized pieces', async (t) => {
  const { aus, ps } = await stream('h264');
  t.ok(aus.some((a) => a.keyframe) && aus.some((a) => !a.keyframe), 'the clip has both kinds of frames');
  for (const size of [1400, 7, 100_000]) {
    const { frames, d } = demuxAll(cut(ps, size));
    checkFrames(t, frames, aus, 'h264');
    t.equal(d.counts.skippedBytes, 0, `nothing skipped with ${size}-byte pieces`);
  }
});

t.test('a frame over several PES, a 0xBD private stream and G.711 audio', async (t) => {
  const { aus, ps } = await stream('h264', { maxPesPayload: 500, privateStream: true, audio: true });
  const { frames, d } = demuxAll(cut(ps, 1400));
  checkFrames(t, frames, aus, 'h264');
  const audio = frames.filter((f) => f.kind === 'audio');
  t.equal(audio.length, aus.length, 'one audio frame per pack');
  t.ok(audio.every((a) => a.codec === 'pcma' && a.data.length === 160 && a.data.every((b) => b === 0xd5)), 'G.711A passed through');
  t.ok(d.counts.skippedPes >= aus.length, '0xBD skipped');
});

t.test('PS without any PSM: the codec is probed, H.264 and H.265', async (t) => {
  for (const codec of ['h264', 'h265'] as const) {
    const { aus, ps } = await stream(codec, { noPsm: true });
    const { frames } = demuxAll(cut(ps, 1400));
    checkFrames(t, frames, aus, codec);
  }
});

t.test('H.265 with a PSM (stream type 0x24)', async (t) => {
  const { aus, ps } = await stream('h265');
  checkFrames(t, demuxAll(cut(ps, 1000)).frames, aus, 'h265');
});

t.test('the RTP marker completes a frame at once', async (t) => {
  const { aus } = await stream('h264');
  const frames: DemuxedFrame[] = [];
  const d = new PsDemuxer((f) => frames.push(f));
  d.push(psFrame(aus[0]!, 3600), 0, true);
  t.equal(frames.length, 1, 'no wait for the next frame');
  d.push(pes(0xe0, aus[1]!.data.subarray(0, 10), 7200), 0, false);
  t.equal(frames.length, 1);
});

t.test('garbage before and between packs is skipped and counted', async (t) => {
  const { aus, ps } = await stream('h264');
  const junk = Buffer.from('GARBAGE\x00\x00\x01\x00junk');
  const { frames, d } = demuxAll([junk, ...cut(ps, 1400)]);
  checkFrames(t, frames, aus, 'h264');
  t.ok(d.counts.skippedBytes >= junk.length - 4, 'skipped bytes counted');
});

t.test('property: random cuts give the same frames; random bytes never throw', async (t) => {
  const { aus, ps } = await stream('h264', { audio: true, privateStream: true, maxPesPayload: 3000 });
  const whole = demuxAll([ps]).frames;
  t.equal(whole.filter((f) => f.kind === 'video').length, aus.length);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 50 }), (sizes) => {
      const chunks: Buffer[] = [];
      let at = 0;
      let k = 0;
      while (at < ps.length) {
        const n = sizes[k++ % sizes.length]!;
        chunks.push(ps.subarray(at, at + n));
        at += n;
      }
      const got = demuxAll(chunks).frames;
      return got.length === whole.length && got.every((f, i) => f.data.equals(whole[i]!.data) && f.pts90k === whole[i]!.pts90k);
    }),
    { numRuns: 60 },
  );
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 20 }), fc.integer({ min: 0, max: ps.length }), (noise, at) => {
      // noise alone, and noise spliced into a real stream
      demuxAll(noise.map((n) => Buffer.from(n)));
      demuxAll([ps.subarray(0, at), ...noise.map((n) => Buffer.from(n)), ps.subarray(at)]);
      return true;
    }),
    { numRuns: 200 },
  );
});
