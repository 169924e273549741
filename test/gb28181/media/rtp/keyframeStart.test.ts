import t from 'tap';
import fc from 'fast-check';
import { markPs, markRaw } from '../../../../gb28181/media/rtp/keyframeStart.ts';
import { parseRtp } from '../../../../gb28181/media/rtp/rtpPacket.ts';
import { accessUnits, annexBClip, psFrame, RtpPacketiser, type Codec, type PsOptions } from '../../../helpers/rtpPs.ts';

/** Marks of every packet of a PS stream of the clip, per access unit, beside whether the unit is a keyframe. */
async function psMarks(codec: Codec, o: PsOptions = {}, known?: Codec): Promise<{ keyframe: boolean; marks: { unitStart: boolean; key: boolean }[] }[]> {
  const aus = accessUnits(codec, await annexBClip(codec, 2));
  const rtp = new RtpPacketiser({ ssrc: 1 });
  return aus.map((au, i) => ({
    keyframe: au.keyframe,
    marks: rtp.ps(psFrame(au, 3600 * (i + 1), { ...o, codec }), 3600 * (i + 1)).map((b) => markPs(parseRtp(b)!.payload, known)),
  }));
}

for (const codec of ['h264', 'h265'] as const) {
  for (const [what, o] of [['BA+BB+BC+E0 keyframes', {}], ['no PSM', { noPsm: true }], ['audio and private PES', { audio: true, privateStream: true }], ['PES split', { maxPesPayload: 3000 }]] as const) {
    t.test(`PS ${codec}, ${what}: each picture's first packet starts a unit, keyframes show it, nothing else does`, async (t) => {
      for (const known of [undefined, codec]) {
        const units = await psMarks(codec, o, known);
        t.ok(units.some((u) => u.keyframe) && units.some((u) => !u.keyframe), 'both kinds of pictures');
        t.ok(units.every((u) => u.marks[0]!.unitStart), 'the first packet of every picture starts a unit');
        t.ok(units.every((u) => u.marks.slice(1).every((m) => !m.unitStart)), 'no other packet does');
        t.same(units.map((u) => u.marks[0]!.key), units.map((u) => u.keyframe), `the first packet tells keyframes (codec ${known ?? 'unknown'})`);
        t.ok(units.every((u) => u.marks.slice(1).every((m) => !m.key)), 'continuation packets show nothing');
      }
    });
  }
  t.test(`raw ${codec}: a new timestamp starts a unit; parameter sets, IDR and FU starts of IDR show a keyframe`, async (t) => {
    const aus = accessUnits(codec, await annexBClip(codec, 2));
    const rtp = new RtpPacketiser({ ssrc: 1 });
    let last: number | undefined;
    for (const [i, au] of aus.entries()) {
      const marks = rtp.raw(codec, au.data, 3600 * (i + 1)).map((b) => {
        const p = parseRtp(b)!;
        const m = markRaw(p.payload, codec, p.timestamp !== last);
        last = p.timestamp;
        return m;
      });
      t.ok(marks[0]!.unitStart && marks.slice(1).every((m) => !m.unitStart), `unit ${i}: its first packet starts it`);
      t.equal(marks.some((m) => m.key), au.keyframe, `unit ${i}: keyframe ${au.keyframe}`);
    }
  });
}

t.test('total: any bytes give an answer, never an exception', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(undefined, 'h264', 'h265'), (bytes, codec) => {
      const b = Buffer.from(bytes);
      markPs(b, codec as Codec | undefined);
      markPs(Buffer.concat([Buffer.from([0, 0, 1, 0xba]), b]), codec as Codec | undefined);
      markRaw(b, (codec ?? 'h264') as Codec, true);
    }),
    { numRuns: 2000 },
  );
  t.pass('no throw');
});
