// ISO BMFF (ISO/IEC 14496-12) box headers and the few leaf boxes the probe needs. Every read is
// checked against the bytes at hand and every size against the parent box, so that no input can
// send the parser outside its buffer, backwards, or round in circles.

import type { EsealError } from '../errors.ts';
import { MediaCorrupt } from './errors.ts';
import { printable4cc } from './sniff.ts';

export interface BoxHeader {
  type: string;
  /** absolute file offset of the box's first byte */
  start: number;
  /** 8, 16 with a 64-bit size, 16 more for a uuid box's extended type */
  headerSize: number;
  /** absolute file offset just past the box */
  end: number;
}

/** Shared by one probe: the file's size, where errors point, and what is left of the box budget. */
export interface BoxWalk {
  readonly fileSize: number;
  readonly field: string | undefined;
  readonly maxBoxes: number;
  boxesLeft: number;
}

/** Nesting the probe ever needs is moov/trak/mdia/minf/stbl/stsd/avc1/avcC: 8. */
export const MAX_BOX_DEPTH = 16;

/** Enough bytes to hold any box header: 64-bit size plus uuid extended type. */
export const MAX_HEADER_BYTES = 32;

export function corrupt(walk: BoxWalk, message: string, detail?: Record<string, unknown>): EsealError {
  return MediaCorrupt(message, { field: walk.field, detail });
}

export function boxBody(data: Buffer, base: number, box: BoxHeader): Buffer {
  return data.subarray(box.start + box.headerSize - base, box.end - base);
}

export function bodyStart(box: BoxHeader): number {
  return box.start + box.headerSize;
}

/**
 * Reads the header of the box at absolute offset `start`. `bytes` begins at `start` and holds
 * whatever of the next MAX_HEADER_BYTES is available; `limit` is where the parent (or the file)
 * ends; `where` names the parent for messages ("in moov/trak[1]", "at the top level").
 */
export function parseBoxHeader(walk: BoxWalk, bytes: Buffer, start: number, limit: number, where: string): BoxHeader {
  walk.boxesLeft -= 1;
  if (walk.boxesLeft < 0) {
    throw corrupt(
      walk,
      `file has more than ${walk.maxBoxes} boxes (reached at offset ${start}); a video of at most 10 MiB never needs that many: the MP4 structure is damaged`,
      { offset: start },
    );
  }
  const room = Math.min(limit - start, bytes.length);
  const topLevel = where === 'at the top level';
  if (room < 8) {
    throw corrupt(
      walk,
      topLevel
        ? `file ends with ${limit - start} stray byte(s) at offset ${start}, too few for a box header (8 bytes): the file is truncated or has data appended after its last box`
        : `${limit - start} byte(s) left at offset ${start} ${where}, too few for a box header (8 bytes): the MP4 structure is damaged`,
      { offset: start },
    );
  }
  const size32 = bytes.readUInt32BE(0);
  const type = bytes.toString('latin1', 4, 8);
  const name = `box '${printable4cc(type)}' at offset ${start}${topLevel ? '' : ` ${where}`}`;
  let headerSize = 8;
  let end: number;
  if (size32 === 1) {
    if (room < 16) throw corrupt(
      walk,
      `${name} announces a 64-bit size but its 16-byte header is cut off: the file is truncated or damaged`,
      { offset: start, box: type },
    );
    const large = bytes.readBigUInt64BE(8);
    headerSize = 16;
    if (large < 16n) throw corrupt(
      walk,
      `${name} declares a 64-bit size of ${large} bytes, less than its own 16-byte header: the MP4 structure is damaged`,
      { offset: start, box: type },
    );
    end = large > BigInt(Number.MAX_SAFE_INTEGER - start) ? Number.POSITIVE_INFINITY : start + Number(large);
  } else if (size32 === 0) {
    // size 0: the box runs to the end of the file; inside a parent only if the parent does too.
    end = walk.fileSize;
    if (end > limit) throw corrupt(
      walk,
      `${name} has size 0 (runs to the end of the file) but its parent ends at offset ${limit}: the MP4 structure is damaged`,
      { offset: start, box: type },
    );
  } else if (size32 < 8) {
    throw corrupt(
      walk,
      `${name} declares a size of ${size32} bytes, less than its own 8-byte header: the MP4 structure is damaged`,
      { offset: start, box: type },
    );
  } else {
    end = start + size32;
  }
  if (type === 'uuid') {
    headerSize += 16;
    if (room < headerSize || end - start < headerSize) throw corrupt(
      walk,
      `${name} is too short for its 16-byte extended type: the MP4 structure is damaged`,
      { offset: start, box: type },
    );
  }
  if (end > limit) {
    const declared = Number.isFinite(end) ? `${end - start}` : 'more than 2^53';
    throw corrupt(
      walk,
      limit === walk.fileSize && topLevel
        ? `${name} declares ${declared} bytes but the file ends ${limit - start} bytes after its start (file size ${walk.fileSize}): the file is truncated (or its box sizes are damaged); upload the complete recording`
        : `${name} declares ${declared} bytes but its parent ends ${limit - start} bytes after its start: the MP4 structure is damaged`,
      { offset: start, box: type, declaredSize: Number.isFinite(end) ? end - start : undefined },
    );
  }
  return { type, start, headerSize, end };
}

/**
 * The boxes inside [from, to), parsed from `data`, which holds the file's bytes from absolute
 * offset `base`. `depth` is how deep `path` is; walks stop at MAX_BOX_DEPTH. With
 * `zeroTerminated`, fewer than 8 zero bytes may end the list (QuickTime-style writers end sample
 * entries with a 32-bit 0).
 */
export function childBoxes(
  walk: BoxWalk,
  data: Buffer,
  base: number,
  from: number,
  to: number,
  path: string,
  depth: number,
  zeroTerminated = false,
): BoxHeader[] {
  if (depth > MAX_BOX_DEPTH) {
    throw corrupt(walk, `boxes nest more than ${MAX_BOX_DEPTH} deep at ${path}: the MP4 structure is damaged`, { path });
  }
  const boxes: BoxHeader[] = [];
  for (let at = from; at < to; ) {
    if (zeroTerminated && to - at < 8 && data.subarray(at - base, to - base).every((byte) => byte === 0)) break;
    const header = parseBoxHeader(walk, data.subarray(at - base, at - base + MAX_HEADER_BYTES), at, to, `in ${path}`);
    boxes.push(header);
    at = header.end;
  }
  return boxes;
}

/** Sequential big-endian reads over a box body that fail as CORRUPT, never past the body. */
export class FieldReader {
  #pos = 0;
  readonly #bytes: Buffer;
  readonly #walk: BoxWalk;
  readonly #box: BoxHeader;

  constructor(walk: BoxWalk, box: BoxHeader, body: Buffer) {
    this.#walk = walk;
    this.#box = box;
    this.#bytes = body;
  }

  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  get position(): number {
    return this.#pos;
  }

  need(n: number, what: string): void {
    if (n > this.remaining) {
      throw corrupt(
        this.#walk,
        `box '${printable4cc(this.#box.type)}' at offset ${this.#box.start} holds ${this.#bytes.length} bytes of content, too few for its ${what}: the MP4 structure is damaged`,
        { offset: this.#box.start, box: this.#box.type },
      );
    }
  }

  skip(n: number, what = 'fields'): void {
    this.need(n, what);
    this.#pos += n;
  }

  u8(what = 'fields'): number {
    this.need(1, what);
    return this.#bytes.readUInt8(this.#pos++);
  }

  u16(what = 'fields'): number {
    this.need(2, what);
    const v = this.#bytes.readUInt16BE(this.#pos);
    this.#pos += 2;
    return v;
  }

  u32(what = 'fields'): number {
    this.need(4, what);
    const v = this.#bytes.readUInt32BE(this.#pos);
    this.#pos += 4;
    return v;
  }

  u64(what = 'fields'): bigint {
    this.need(8, what);
    const v = this.#bytes.readBigUInt64BE(this.#pos);
    this.#pos += 8;
    return v;
  }

  fourcc(what = 'fields'): string {
    this.need(4, what);
    const v = this.#bytes.toString('latin1', this.#pos, this.#pos + 4);
    this.#pos += 4;
    return v;
  }

  /** version and flags of a FullBox; `maxVersion` is the highest the standard defines */
  fullBox(maxVersion: number): { version: number; flags: number } {
    const word = this.u32('version and flags');
    const version = word >>> 24;
    if (version > maxVersion) {
      throw corrupt(
        this.#walk,
        `box '${printable4cc(this.#box.type)}' at offset ${this.#box.start} has version ${version}; ISO/IEC 14496-12 defines only up to ${maxVersion}: the MP4 structure is damaged`,
        { offset: this.#box.start, box: this.#box.type },
      );
    }
    return { version, flags: word & 0xffffff };
  }
}

const U32_UNKNOWN = 0xffffffff;
const U64_UNKNOWN = 0xffffffffffffffffn;

/** A time field of a v0/v1 box as a number; "all ones" (unknown) reads as 0. */
function timeField(r: FieldReader, version: number, what: string): number {
  if (version === 1) {
    const v = r.u64(what);
    return v === U64_UNKNOWN ? 0 : Number(v);
  }
  const v = r.u32(what);
  return v === U32_UNKNOWN ? 0 : v;
}

function skipTimes(r: FieldReader, version: number): void {
  r.skip(version === 1 ? 16 : 8, 'creation and modification times');
}

export interface FileType {
  majorBrand: string;
  minorVersion: number;
  compatibleBrands: string[];
}

export function parseFtyp(walk: BoxWalk, box: BoxHeader, body: Buffer): FileType {
  const r = new FieldReader(walk, box, body);
  const majorBrand = r.fourcc('major brand');
  const minorVersion = r.u32('minor version');
  const compatibleBrands: string[] = [];
  while (r.remaining >= 4) compatibleBrands.push(r.fourcc());
  return { majorBrand, minorVersion, compatibleBrands };
}

export interface MediaTime {
  timescale: number;
  /** in timescale units; 0 where unknown */
  duration: number;
}

/** mvhd and mdhd share their first fields. */
export function parseMvhdOrMdhd(walk: BoxWalk, box: BoxHeader, body: Buffer): MediaTime {
  const r = new FieldReader(walk, box, body);
  const { version } = r.fullBox(1);
  skipTimes(r, version);
  const timescale = r.u32('timescale');
  const duration = timeField(r, version, 'duration');
  if (timescale === 0) {
    throw corrupt(
      walk,
      `box '${box.type}' at offset ${box.start} has a timescale of 0, which makes its duration meaningless: the MP4 structure is damaged`,
      { offset: box.start, box: box.type },
    );
  }
  return { timescale, duration };
}

export interface TrackHeader {
  trackId: number;
  /** presentation size (16.16 fixed point, integer part) */
  width: number;
  height: number;
}

export function parseTkhd(walk: BoxWalk, box: BoxHeader, body: Buffer): TrackHeader {
  const r = new FieldReader(walk, box, body);
  const { version } = r.fullBox(1);
  skipTimes(r, version);
  const trackId = r.u32('track ID');
  r.skip(4, 'reserved field');
  timeField(r, version, 'duration');
  // reserved(8) layer(2) alternate_group(2) volume(2) reserved(2) matrix(36)
  r.skip(52, 'matrix');
  const width = r.u32('width') >>> 16;
  const height = r.u32('height') >>> 16;
  return { trackId, width, height };
}

export function parseHdlr(walk: BoxWalk, box: BoxHeader, body: Buffer): string {
  const r = new FieldReader(walk, box, body);
  r.fullBox(0);
  r.skip(4, 'pre_defined field');
  return r.fourcc('handler type');
}

export function parseMehd(walk: BoxWalk, box: BoxHeader, body: Buffer): number {
  const r = new FieldReader(walk, box, body);
  const { version } = r.fullBox(1);
  return timeField(r, version, 'fragment duration');
}

export interface TrackExtends {
  trackId: number;
  defaultSampleDuration: number;
}

export function parseTrex(walk: BoxWalk, box: BoxHeader, body: Buffer): TrackExtends {
  const r = new FieldReader(walk, box, body);
  r.fullBox(0);
  const trackId = r.u32('track ID');
  r.skip(4, 'default sample description index');
  const defaultSampleDuration = r.u32('default sample duration');
  return { trackId, defaultSampleDuration };
}

export interface FragmentHeader {
  trackId: number;
  defaultSampleDuration: number | undefined;
}

const TFHD_BASE_DATA_OFFSET = 0x1;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x2;
const TFHD_DEFAULT_DURATION = 0x8;

export function parseTfhd(walk: BoxWalk, box: BoxHeader, body: Buffer): FragmentHeader {
  const r = new FieldReader(walk, box, body);
  const { flags } = r.fullBox(0);
  const trackId = r.u32('track ID');
  if (flags & TFHD_BASE_DATA_OFFSET) r.skip(8, 'base data offset');
  if (flags & TFHD_SAMPLE_DESCRIPTION_INDEX) r.skip(4, 'sample description index');
  const defaultSampleDuration = flags & TFHD_DEFAULT_DURATION ? r.u32('default sample duration') : undefined;
  return { trackId, defaultSampleDuration };
}

export interface TrackRun {
  sampleCount: number;
  /** sum of the durations written per sample */
  explicitDuration: number;
  /** samples whose duration comes from tfhd or trex defaults */
  samplesWithoutDuration: number;
}

const TRUN_DATA_OFFSET = 0x1;
const TRUN_FIRST_SAMPLE_FLAGS = 0x4;
const TRUN_SAMPLE_DURATION = 0x100;
const TRUN_PER_SAMPLE_FIELDS = [0x100, 0x200, 0x400, 0x800];

export function parseTrun(walk: BoxWalk, box: BoxHeader, body: Buffer): TrackRun {
  const r = new FieldReader(walk, box, body);
  const { flags } = r.fullBox(1);
  const sampleCount = r.u32('sample count');
  if (flags & TRUN_DATA_OFFSET) r.skip(4, 'data offset');
  if (flags & TRUN_FIRST_SAMPLE_FLAGS) r.skip(4, 'first sample flags');
  const perSample = 4 * TRUN_PER_SAMPLE_FIELDS.filter((bit) => flags & bit).length;
  // Checked before any loop, so the loop below is bounded by the box's real size.
  r.need(sampleCount * perSample, `${sampleCount} sample records`);
  if (!(flags & TRUN_SAMPLE_DURATION)) {
    return { sampleCount, explicitDuration: 0, samplesWithoutDuration: sampleCount };
  }
  let explicitDuration = 0;
  for (let i = 0; i < sampleCount; i += 1) {
    explicitDuration += r.u32();
    r.skip(perSample - 4);
  }
  return { sampleCount, explicitDuration, samplesWithoutDuration: 0 };
}

export interface VisualSampleEntry {
  width: number;
  height: number;
  /** offset inside the entry's body where its child boxes (avcC, pasp, …) begin */
  childrenAt: number;
}

/** SampleEntry (8) + VisualSampleEntry fields (70) come before the child boxes. */
const VISUAL_SAMPLE_ENTRY_FIELDS = 78;

export function parseVisualSampleEntry(walk: BoxWalk, box: BoxHeader, body: Buffer): VisualSampleEntry {
  const r = new FieldReader(walk, box, body);
  r.skip(24, 'sample entry fields');
  const width = r.u16('width');
  const height = r.u16('height');
  r.skip(VISUAL_SAMPLE_ENTRY_FIELDS - r.position, 'visual sample entry fields');
  return { width, height, childrenAt: VISUAL_SAMPLE_ENTRY_FIELDS };
}

export interface AvcConfig {
  /** profile_idc: 66 Baseline, 77 Main, 100 High, … */
  profile: number;
  profileName: string;
  /** level_idc / 10, e.g. 3.1 */
  level: number;
  /** bytes of each NAL unit length prefix: 1, 2 or 4 */
  nalLengthSize: number;
}

const AVC_PROFILES: Record<number, string> = {
  66: 'Baseline',
  77: 'Main',
  88: 'Extended',
  100: 'High',
  110: 'High 10',
  122: 'High 4:2:2',
  244: 'High 4:4:4 Predictive',
  44: 'CAVLC 4:4:4 Intra',
};

export function parseAvcC(walk: BoxWalk, box: BoxHeader, body: Buffer): AvcConfig {
  const r = new FieldReader(walk, box, body);
  const version = r.u8('configuration version');
  if (version !== 1) {
    throw corrupt(
      walk,
      `avcC box at offset ${box.start} has configuration version ${version}; ISO/IEC 14496-15 defines only version 1: the H.264 decoder configuration is damaged`,
      { offset: box.start, box: box.type },
    );
  }
  const profile = r.u8('profile');
  r.u8('profile compatibility');
  const levelIdc = r.u8('level');
  const nalLengthSize = (r.u8('NAL length size') & 0x03) + 1;
  if (nalLengthSize === 3) {
    throw corrupt(
      walk,
      `avcC box at offset ${box.start} declares 3-byte NAL unit lengths, which H.264 in MP4 does not allow (1, 2 or 4): the H.264 decoder configuration is damaged`,
      { offset: box.start, box: box.type },
    );
  }
  return { profile, profileName: AVC_PROFILES[profile] ?? `profile_idc ${profile}`, level: levelIdc / 10, nalLengthSize };
}
