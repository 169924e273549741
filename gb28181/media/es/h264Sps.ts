// The picture size of an H.264 SPS (ISO 14496-10 7.3.2.1.1), for stats and the MP4 track header.
// Bounded and total: a truncated or absurd SPS gives undefined.
import { Bits } from './bits.ts';
import { unescapeRbsp } from './nal.ts';

export interface H264SpsInfo {
  profileIdc: number;
  constraints: number;
  levelIdc: number;
  width: number;
  height: number;
}

/** `nal` is the SPS NAL unit with its header byte. */
export function parseH264Sps(nal: Buffer): H264SpsInfo | undefined {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) return undefined;
  try {
    const r = new Bits(unescapeRbsp(nal.subarray(1)));
    const profileIdc = r.bits(8);
    const constraints = r.bits(8);
    const levelIdc = r.bits(8);
    r.ue();
    let chroma = 1;
    if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profileIdc)) {
      chroma = r.ue();
      if (chroma === 3) r.bit();
      r.ue();
      r.ue();
      r.bit();
      if (r.bit()) {
        for (let i = 0; i < (chroma !== 3 ? 8 : 12); i++) {
          if (!r.bit()) continue;
          const size = i < 6 ? 16 : 64;
          let last = 8;
          let next = 8;
          for (let j = 0; j < size; j++) {
            if (next !== 0) next = (last + r.se() + 256) % 256;
            last = next === 0 ? last : next;
          }
        }
      }
    }
    r.ue();
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) {
      r.bit();
      r.se();
      r.se();
      const n = r.ue();
      if (n > 255) return undefined;
      for (let i = 0; i < n; i++) r.se();
    }
    r.ue();
    r.bit();
    const wMbs = r.ue() + 1;
    const hMapUnits = r.ue() + 1;
    const frameMbsOnly = r.bit();
    if (!frameMbsOnly) r.bit();
    r.bit();
    let crop = [0, 0, 0, 0];
    if (r.bit()) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
    const subW = chroma === 1 || chroma === 2 ? 2 : 1;
    const subH = (chroma === 1 ? 2 : 1) * (2 - frameMbsOnly);
    const width = wMbs * 16 - subW * (crop[0]! + crop[1]!);
    const height = (2 - frameMbsOnly) * hMapUnits * 16 - subH * (crop[2]! + crop[3]!);
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384) return undefined;
    return { profileIdc, constraints, levelIdc, width, height };
  } catch {
    return undefined;
  }
}
