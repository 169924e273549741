// The picture size of an H.265 SPS (ITU-T H.265 7.3.2.2.1), for stats: pic_width/height_in_luma_
// samples less the conformance window (an encoder codes 1080 lines as 1088 and crops 8, and pads
// widths to its minimum coding block), with the profile, tier and level read on the way through
// profile_tier_level (7.3.3). Bounded and total: a truncated or absurd SPS gives undefined.
import { Bits } from './bits.ts';
import { unescapeRbsp } from './nal.ts';

export interface H265SpsInfo {
  profileIdc: number;
  tierFlag: number;
  levelIdc: number;
  chromaFormatIdc: number;
  /** the displayed size (conformance window applied) */
  width: number;
  height: number;
  /** the coded size (pic_width/height_in_luma_samples) */
  codedWidth: number;
  codedHeight: number;
}

const SPS_NAL = 33;
const MAX_SIDE = 16384;

/** `nal` is the SPS NAL unit with its two header bytes. */
export function parseH265Sps(nal: Buffer): H265SpsInfo | undefined {
  if (nal.length < 15 || ((nal[0]! >> 1) & 0x3f) !== SPS_NAL) return undefined;
  try {
    const r = new Bits(unescapeRbsp(nal.subarray(2)));
    r.skip(4); // sps_video_parameter_set_id
    const maxSubLayersMinus1 = r.bits(3);
    if (maxSubLayersMinus1 > 6) return undefined;
    r.skip(1); // sps_temporal_id_nesting_flag
    // profile_tier_level(1, sps_max_sub_layers_minus1)
    r.skip(2); // general_profile_space
    const tierFlag = r.bit();
    const profileIdc = r.bits(5);
    r.skip(32 + 4 + 43 + 1); // compatibility flags, source flags, constraint flags, inbld/reserved
    const levelIdc = r.bits(8);
    const profilePresent: number[] = [];
    const levelPresent: number[] = [];
    for (let i = 0; i < maxSubLayersMinus1; i++) {
      profilePresent.push(r.bit());
      levelPresent.push(r.bit());
    }
    if (maxSubLayersMinus1 > 0) r.skip(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
    for (let i = 0; i < maxSubLayersMinus1; i++) {
      if (profilePresent[i]) r.skip(88);
      if (levelPresent[i]) r.skip(8);
    }
    if (r.ue() > 15) return undefined; // sps_seq_parameter_set_id
    const chromaFormatIdc = r.ue();
    if (chromaFormatIdc > 3) return undefined;
    const separateColourPlanes = chromaFormatIdc === 3 ? r.bit() : 0;
    const codedWidth = r.ue();
    const codedHeight = r.ue();
    let crop = [0, 0, 0, 0];
    if (r.bit()) crop = [r.ue(), r.ue(), r.ue(), r.ue()];
    // ChromaArrayType 0 (monochrome, or separate planes) and 4:4:4 do not subsample; 4:2:2 only across
    const chromaArrayType = separateColourPlanes ? 0 : chromaFormatIdc;
    const subW = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
    const subH = chromaArrayType === 1 ? 2 : 1;
    const width = codedWidth - subW * (crop[0]! + crop[1]!);
    const height = codedHeight - subH * (crop[2]! + crop[3]!);
    if (codedWidth > MAX_SIDE || codedHeight > MAX_SIDE || width <= 0 || height <= 0) return undefined;
    return { profileIdc, tierFlag, levelIdc, chromaFormatIdc, width, height, codedWidth, codedHeight };
  } catch {
    return undefined;
  }
}
