// Annex B helpers for H.264 and H.265: NAL units between start codes, their types, keyframes,
// and which codec a bare elementary stream is (for PS without a PSM).
export type VideoCodec = 'h264' | 'h265';

const START_CODE = Buffer.from([0, 0, 1]);

/**
 * The NAL units of an Annex B buffer (without their start codes). Total on any bytes. Start codes
 * are found with Buffer.indexOf (native): every frame of every stream passes here (keyframe test),
 * and a byte loop in JavaScript cost the media worker more than its RTP handling.
 */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  let nalStart = -1;
  for (;;) {
    const found = buf.indexOf(START_CODE, from);
    if (found < 0) break;
    // a zero before 00 00 01 makes it a 4-byte start code (unless that zero ended the previous one)
    const at = found > from && buf[found - 1] === 0 ? found - 1 : found;
    if (nalStart >= 0 && at > nalStart) out.push(buf.subarray(nalStart, at));
    nalStart = found + 3;
    from = nalStart;
  }
  if (nalStart >= 0 && nalStart < buf.length) out.push(buf.subarray(nalStart));
  return out;
}

export function nalType(codec: VideoCodec, nal: Buffer): number {
  const b = nal[0] ?? 0;
  return codec === 'h264' ? b & 0x1f : (b >> 1) & 0x3f;
}

export function isKeyframeNal(codec: VideoCodec, nal: Buffer): boolean {
  const t = nalType(codec, nal);
  return codec === 'h264' ? t === 5 : t >= 16 && t <= 21;
}

export function isKeyframe(codec: VideoCodec, annexB: Buffer): boolean {
  return splitAnnexB(annexB).some((n) => isKeyframeNal(codec, n));
}

/**
 * H.264 or H.265 from the first NAL headers of an Annex B stream, undefined when unsure. H.265
 * headers are two bytes with forbidden bit 0, layer id 0 and temporal id + 1 ≥ 1; a parameter set
 * (H.264 SPS 7 / PPS 8, H.265 VPS 32 / SPS 33 / PPS 34) settles it at once.
 */
export function probeCodec(annexB: Buffer): VideoCodec | undefined {
  let h264 = 0;
  let h265 = 0;
  for (const nal of splitAnnexB(annexB)) {
    if (nal.length < 2 || nal[0]! & 0x80) continue;
    const t4 = nal[0]! & 0x1f;
    const t5 = (nal[0]! >> 1) & 0x3f;
    const h265Shape = (nal[0]! & 0x01) === 0 && (nal[1]! & 0xf8) === 0 && (nal[1]! & 0x07) !== 0;
    if (h265Shape && (t5 === 32 || t5 === 33 || t5 === 34)) return 'h265';
    if ((t4 === 7 || t4 === 8) && ((nal[0]! >> 5) & 3) !== 0) return 'h264';
    if (h265Shape && (t5 <= 21 || t5 === 35 || t5 === 39 || t5 === 40)) h265++;
    if (t4 >= 1 && t4 <= 12 && ((nal[0]! >> 5) & 3) !== 0) h264++;
  }
  if (h264 > h265) return 'h264';
  if (h265 > h264) return 'h265';
  return undefined;
}

/** The RBSP of a NAL (emulation prevention bytes removed). */
export function unescapeRbsp(nal: Buffer): Buffer {
  const out = Buffer.allocUnsafe(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}
