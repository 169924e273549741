// Annex B splitting (gb28181/media/es/nal.ts): the native-search splitAnnexB against the plain
// byte loop it replaced, on random bytes dense in zeros and start codes, and on a real clip.
import t from 'tap';
import fc from 'fast-check';
import { splitAnnexB } from '../../../../gb28181/media/es/nal.ts';
import { annexBClip } from '../../../helpers/rtpPs.ts';

/** The reference: a byte-by-byte scan for 00 00 01 and 00 00 00 01. */
function reference(buf: Buffer): Buffer[] {
  const starts: Array<{ at: number; len: number }> = [];
  for (let i = 0; i + 2 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0) {
      if (buf[i + 2] === 1) {
        starts.push({ at: i, len: 3 });
        i += 2;
      } else if (buf[i + 2] === 0 && i + 3 < buf.length && buf[i + 3] === 1) {
        starts.push({ at: i, len: 4 });
        i += 3;
      }
    }
  }
  const out: Buffer[] = [];
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k]!;
    const end = k + 1 < starts.length ? starts[k + 1]!.at : buf.length;
    if (end > s.at + s.len) out.push(buf.subarray(s.at + s.len, end));
  }
  return out;
}

const hex = (list: Buffer[]): string[] => list.map((b) => b.toString('hex'));

t.test('the same NAL units as the byte loop, on any bytes', async (t) => {
  // bytes drawn mostly from 0 and 1 so that start codes, 4-byte codes and zero runs are frequent
  const bytes = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 255 })), { maxLength: 200 });
  fc.assert(
    fc.property(bytes, (arr) => {
      const buf = Buffer.from(arr);
      return JSON.stringify(hex(splitAnnexB(buf))) === JSON.stringify(hex(reference(buf)));
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 random buffers split alike');
});

t.test('the same NAL units on an ffmpeg clip, H.264 and H.265', async (t) => {
  for (const codec of ['h264', 'h265'] as const) {
    const clip = await annexBClip(codec, 1);
    const got = splitAnnexB(clip);
    t.ok(got.length > 25, `${codec}: many NAL units`);
    t.strictSame(hex(got), hex(reference(clip)), `${codec}: identical`);
  }
});
