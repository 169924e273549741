// An H.264 / H.265 Annex-B elementary stream cut into access units (one picture each), with the
// keyframes marked: what the PS muxer needs to put pack + system header + PSM before an IDR and to
// give every picture its own PTS. Total: bytes that are not Annex-B give no units, never a throw.
// A kernel candidate (the bridge's demuxer does the reverse).

export type VideoCodec = 'h264' | 'h265';

export interface AccessUnit {
  /** the unit's NAL units, each with its 4-byte start code, ready to go into a PES */
  data: Buffer;
  keyframe: boolean;
  /** NAL unit types in order, for tests and logs */
  nalTypes: number[];
}

/** NAL units (without start codes) of an Annex-B buffer. */
export function splitNalUnits(buf: Uint8Array): Buffer[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const starts: Array<{ at: number; payload: number }> = [];
  for (let i = 0; i + 2 < b.length; i++) {
    if (b[i] === 0 && b[i + 1] === 0) {
      if (b[i + 2] === 1) {
        starts.push({ at: i > 0 && b[i - 1] === 0 ? i - 1 : i, payload: i + 3 });
        i += 2;
      }
    }
  }
  const out: Buffer[] = [];
  for (let k = 0; k < starts.length; k++) {
    const end = k + 1 < starts.length ? starts[k + 1]!.at : b.length;
    let stop = end;
    while (stop > starts[k]!.payload && b[stop - 1] === 0) stop--; // trailing_zero_8bits
    if (stop > starts[k]!.payload) out.push(b.subarray(starts[k]!.payload, stop));
  }
  return out;
}

export function nalType(codec: VideoCodec, nal: Uint8Array): number {
  return codec === 'h264' ? nal[0]! & 0x1f : (nal[0]! >> 1) & 0x3f;
}

function isVcl(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type >= 1 && type <= 5 : type <= 31;
}

function isKey(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type === 5 : type >= 16 && type <= 23;
}

/** first_mb_in_slice == 0 (H.264: ue(v) whose first bit is 1) / first_slice_segment_in_pic_flag (H.265). */
function firstSliceOfPicture(codec: VideoCodec, nal: Uint8Array): boolean {
  const byte = codec === 'h264' ? nal[1] : nal[2];
  return byte !== undefined && (byte & 0x80) !== 0;
}

/** Parameter sets, AUD, SEI: they open a new unit when they follow a picture. */
function opensUnit(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type === 6 || type === 7 || type === 8 || type === 9 : type === 32 || type === 33 || type === 34 || type === 35 || type === 39;
}

const START = Buffer.from([0, 0, 0, 1]);

/** Groups the stream's NAL units into access units (ITU-T H.264 §7.4.1.2.3, H.265 §7.4.2.4.4). */
export function accessUnits(codec: VideoCodec, stream: Uint8Array): AccessUnit[] {
  const units: AccessUnit[] = [];
  let nals: Buffer[] = [];
  let types: number[] = [];
  let hasPicture = false;
  const flush = (): void => {
    if (hasPicture) {
      units.push({ data: Buffer.concat(nals.flatMap((n) => [START, n])), keyframe: types.some((t) => isKey(codec, t)), nalTypes: types });
    }
    nals = [];
    types = [];
    hasPicture = false;
  };
  for (const nal of splitNalUnits(stream)) {
    if (nal.length < (codec === 'h264' ? 1 : 2)) continue;
    const type = nalType(codec, nal);
    if (hasPicture && (opensUnit(codec, type) || (isVcl(codec, type) && firstSliceOfPicture(codec, nal)))) flush();
    nals.push(nal);
    types.push(type);
    if (isVcl(codec, type)) hasPicture = true;
  }
  flush();
  return units;
}
