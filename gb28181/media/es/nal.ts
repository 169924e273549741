// Annex B helpers for H.264 and H.265: NAL units between start codes, their types, keyframes,
// and which codec a bare elementary stream is (for PS without a PSM).
export type VideoCodec = 'h264' | 'h265';

/** The NAL units of an Annex B buffer (without their start codes). Total on any bytes. */
export function splitAnnexB(buf: Buffer): Buffer[] {
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
