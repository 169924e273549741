// Probe of an uploaded MP4 (ISO BMFF) evidence video. It reads the file with positional reads: the
// top-level box headers one by one, then the whole moov (and each moof of a fragmented file),
// never the mdat. It returns what the relay needs to know and refuses, with a typed error an
// integrator can act on, what the national platform does not take: anything not MP4, a recording
// that was never finalised, no video, video that is not H.264, a damaged structure.
//
// Everything is bounded: the boxes visited (maxBoxes), the nesting depth, the size of the moov
// (maxMoovBytes) and the bytes read in all (maxReadBytes). Each box must lie inside its parent
// and move the walk forward, so no input loops.

import { EsealError } from '../errors.ts';
import { type ByteSource, openFileSource } from './byteSource.ts';
import { MediaNoMoov, MediaNotH264, MediaNotMp4, MediaNoVideo, MediaUnreadable } from './errors.ts';
import {
  type AvcConfig,
  type BoxHeader,
  type BoxWalk,
  type MediaTime,
  MAX_HEADER_BYTES,
  bodyStart,
  boxBody,
  childBoxes,
  corrupt,
  FieldReader,
  parseAvcC,
  parseBoxHeader,
  parseFtyp,
  parseHdlr,
  parseMehd,
  parseMvhdOrMdhd,
  parseTfhd,
  parseTkhd,
  parseTrex,
  parseTrun,
  parseVisualSampleEntry,
} from './mp4Boxes.ts';
import { notMp4Message, printable4cc, SNIFF_BYTES, sniffContainer } from './sniff.ts';

export { sniffContainer, type ContainerKind, type ContainerSniff } from './sniff.ts';
export type { AvcConfig } from './mp4Boxes.ts';
export type { ByteSource } from './byteSource.ts';

export interface ProbeMp4Options {
  /** largest moov (and largest moof) read into memory; default 8 MiB */
  maxMoovBytes?: number;
  /** most boxes visited in the whole file; default 100 000 */
  maxBoxes?: number;
  /** most bytes read from the file in all; default twice maxMoovBytes plus 1 MiB for box headers */
  maxReadBytes?: number;
  /** the request field that errors name (e.g. the multipart part holding the video) */
  field?: string;
}

export interface Mp4Track {
  trackId: number;
  /** hdlr handler type: 'vide', 'soun', 'hint', 'meta', … */
  handler: string;
  /** first sample entry's four-character code: 'avc1', 'mp4a', … */
  codec: string;
  durationMs: number;
}

export interface Mp4Video {
  trackId: number;
  /** sample entry four-character code: 'avc1' or 'avc3' once the probe has accepted the file */
  codec: string;
  codecName: string;
  width: number;
  height: number;
  /** mdhd timescale (units per second) */
  timescale: number;
  durationMs: number;
  avc: AvcConfig;
}

export interface Mp4Info {
  fileSize: number;
  majorBrand: string;
  minorVersion: number;
  compatibleBrands: string[];
  /** mvhd duration; for a fragmented file mehd, or else the longest track over all fragments */
  durationMs: number;
  /** the moov comes before the (first) mdat, so a player can start before the whole file is in */
  fastStart: boolean;
  /** the file uses movie fragments (mvex in moov, moof boxes) */
  fragmented: boolean;
  /** the first video track */
  video: Mp4Video;
  tracks: Mp4Track[];
}

export const DEFAULT_MAX_MOOV_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_BOXES = 100_000;
/** Room in the default read budget for the first bytes and top-level box headers. */
const HEADER_READ_ALLOWANCE = 1024 * 1024;

/** ftyp bodies are read up to this many bytes: the brands plus 64 compatible brands. */
const MAX_FTYP_BODY = 8 + 4 * 64;

const H264_ENTRIES = new Set(['avc1', 'avc3']);

const VIDEO_CODEC_NAMES: Record<string, string> = {
  avc1: 'H.264',
  avc3: 'H.264',
  hvc1: 'H.265/HEVC',
  hev1: 'H.265/HEVC',
  dvh1: 'Dolby Vision over H.265',
  dvhe: 'Dolby Vision over H.265',
  dva1: 'Dolby Vision over H.264',
  dvav: 'Dolby Vision over H.264',
  vvc1: 'H.266/VVC',
  vvi1: 'H.266/VVC',
  mp4v: 'MPEG-4 Part 2',
  s263: 'H.263',
  h263: 'H.263',
  vp08: 'VP8',
  vp09: 'VP9',
  av01: 'AV1',
  jpeg: 'Motion JPEG',
  mjpa: 'Motion JPEG',
  mjpb: 'Motion JPEG',
  mjp2: 'Motion JPEG 2000',
  apch: 'Apple ProRes',
  apcn: 'Apple ProRes',
  apcs: 'Apple ProRes',
  apco: 'Apple ProRes',
  ap4h: 'Apple ProRes',
  encv: 'encrypted video',
};

/** Probes the MP4 file at `path`. Rejects with an EsealError of code ESEAL_ERR_MEDIA_*. */
export async function probeMp4File(path: string, options: ProbeMp4Options = {}): Promise<Mp4Info> {
  const unreadable = (cause: unknown): EsealError =>
    MediaUnreadable(
      `the relay could not read the staged file (${(cause as NodeJS.ErrnoException).code ?? 'I/O error'}); the upload was not checked, send it again later`,
      { field: options.field, cause },
    );
  let file;
  try {
    file = await openFileSource(path);
  } catch (err) {
    throw unreadable(err);
  }
  const source: ByteSource = {
    size: file.size,
    read: (offset, length) => file.read(offset, length).catch((err: unknown) => { throw unreadable(err); }),
  };
  try {
    return await probeMp4(source, options);
  } finally {
    await file.close().catch(() => undefined);
  }
}

/** Probes MP4 bytes behind any positional reader (a file, a buffer in tests). */
export async function probeMp4(source: ByteSource, options: ProbeMp4Options = {}): Promise<Mp4Info> {
  const maxMoovBytes = options.maxMoovBytes ?? DEFAULT_MAX_MOOV_BYTES;
  const maxBoxes = options.maxBoxes ?? DEFAULT_MAX_BOXES;
  const walk: BoxWalk = { fileSize: source.size, field: options.field, maxBoxes, boxesLeft: maxBoxes };
  const reader = new BudgetedReader(source, walk, options.maxReadBytes ?? 2 * maxMoovBytes + HEADER_READ_ALLOWANCE);

  const head = await reader.read(0, Math.min(SNIFF_BYTES, source.size), 'the first bytes');
  if (head.length < 8 || head.toString('latin1', 4, 8) !== 'ftyp') {
    const sniff = sniffContainer(head);
    throw MediaNotMp4(notMp4Message(sniff), {
      field: options.field,
      detail: { container: sniff.kind, what: sniff.detail },
    });
  }

  const top = await scanTopLevel(walk, reader, head, maxMoovBytes);
  if (!top.moov) throw MediaNoMoov(noMoovMessage(top), { field: options.field, detail: { topLevel: top.types } });

  const movie = parseMoov(walk, top.moov.data, top.moov.box);
  const fragmented = movie.hasMvex || top.fragments.length > 0;
  const tracks = movie.tracks.map((t) => ({
    ...t,
    durationMs: toMs(trackDuration(t, movie, top.fragments, fragmented), t.media.timescale),
  }));

  let durationMs: number;
  if (fragmented) {
    durationMs = movie.fragmentDuration > 0 ? toMs(movie.fragmentDuration, movie.mvhd.timescale) : longest(tracks);
  } else {
    durationMs = movie.mvhd.duration > 0 ? toMs(movie.mvhd.duration, movie.mvhd.timescale) : longest(tracks);
  }

  const video = checkVideo(walk, tracks);
  return {
    fileSize: source.size,
    majorBrand: top.ftyp.majorBrand,
    minorVersion: top.ftyp.minorVersion,
    compatibleBrands: top.ftyp.compatibleBrands,
    durationMs,
    fastStart: top.firstMdat === undefined || top.moov.box.start < top.firstMdat,
    fragmented,
    video,
    tracks: tracks.map((t) => ({ trackId: t.trackId, handler: t.handler, codec: t.codec, durationMs: t.durationMs })),
  };
}

/** Reads through `source`, counting bytes against the budget; a short read means the file shrank. */
class BudgetedReader {
  readonly #source: ByteSource;
  readonly #walk: BoxWalk;
  readonly #max: number;
  #left: number;

  constructor(source: ByteSource, walk: BoxWalk, maxReadBytes: number) {
    this.#source = source;
    this.#walk = walk;
    this.#max = maxReadBytes;
    this.#left = maxReadBytes;
  }

  async read(offset: number, length: number, what: string): Promise<Buffer> {
    if (length > this.#left) {
      throw corrupt(
        this.#walk,
        `reading ${what} at offset ${offset} would take the relay past the ${this.#max} bytes of metadata it reads from one file; an evidence video needs far less: the MP4 structure is damaged`,
        { offset },
      );
    }
    this.#left -= length;
    const bytes = await this.#source.read(offset, length);
    if (bytes.length < length && offset + length <= this.#walk.fileSize) {
      throw corrupt(this.#walk, `file became shorter while it was being read (at offset ${offset}); upload it again`, { offset });
    }
    return bytes;
  }
}

interface FragmentRun {
  trackId: number;
  explicitDuration: number;
  samplesWithoutDuration: number;
  tfhdDefaultDuration: number | undefined;
}

interface TopLevel {
  ftyp: { majorBrand: string; minorVersion: number; compatibleBrands: string[] };
  moov: { box: BoxHeader; data: Buffer } | undefined;
  firstMdat: number | undefined;
  /** an mdat with size 0, running to the end of the file */
  openMdat: boolean;
  fragments: FragmentRun[];
  /** the first few top-level box types, for messages */
  types: string[];
}

async function scanTopLevel(walk: BoxWalk, reader: BudgetedReader, head: Buffer, maxMoovBytes: number): Promise<TopLevel> {
  const top: TopLevel = {
    ftyp: { majorBrand: '', minorVersion: 0, compatibleBrands: [] },
    moov: undefined,
    firstMdat: undefined,
    openMdat: false,
    fragments: [],
    types: [],
  };
  for (let at = 0; at < walk.fileSize; ) {
    const bytes =
      at + MAX_HEADER_BYTES <= head.length
        ? head.subarray(at)
        : await reader.read(at, Math.min(MAX_HEADER_BYTES, walk.fileSize - at), 'a box header');
    const box = parseBoxHeader(walk, bytes, at, walk.fileSize, 'at the top level');
    if (top.types.length < 12) top.types.push(printable4cc(box.type));
    switch (box.type) {
      case 'ftyp':
        if (at === 0) {
          const length = Math.min(box.end - bodyStart(box), MAX_FTYP_BODY);
          top.ftyp = parseFtyp(walk, box, await reader.read(bodyStart(box), length, 'the ftyp box'));
        }
        break;
      case 'moov':
        if (top.moov) {
          throw corrupt(
            walk,
            `file has a second moov box at offset ${at} (the first is at offset ${top.moov.box.start}); an MP4 file has exactly one: the MP4 structure is damaged`,
            { offset: at },
          );
        }
        checkMetadataSize(walk, box, maxMoovBytes);
        top.moov = { box, data: await reader.read(box.start, box.end - box.start, 'the moov box') };
        break;
      case 'moof': {
        checkMetadataSize(walk, box, maxMoovBytes);
        const data = await reader.read(box.start, box.end - box.start, 'a moof box');
        top.fragments.push(...parseMoof(walk, data, box));
        break;
      }
      case 'mdat':
        top.firstMdat ??= at;
        if (bytes.readUInt32BE(0) === 0) top.openMdat = true;
        break;
      default:
        break;
    }
    at = box.end;
  }
  return top;
}

function checkMetadataSize(walk: BoxWalk, box: BoxHeader, maxBytes: number): void {
  const size = box.end - box.start;
  if (size > maxBytes) {
    throw corrupt(
      walk,
      `${box.type} box at offset ${box.start} is ${size} bytes, more than the ${maxBytes} bytes the relay accepts for a video's metadata: the MP4 structure is damaged, or the file is far longer than an evidence video`,
      { offset: box.start, box: box.type, size, maxBytes },
    );
  }
}

function noMoovMessage(top: TopLevel): string {
  const layout = `top-level boxes: ${top.types.join(', ')}`;
  const fix = 'the recorder must finish (finalise) the file before it is uploaded, or write fragmented MP4';
  if (top.openMdat) {
    return `file has no moov box: its mdat runs to the end of the file with no size written (${layout}), which is a recording cut off before it was finalised; ${fix}`;
  }
  return `file has no moov box (${layout}), so its video cannot be played; a recording cut off before it was finalised looks like this: ${fix}`;
}

interface TrackFacts {
  trackId: number;
  handler: string;
  codec: string;
  media: MediaTime;
  /** sum of the stts sample durations (the samples described in moov) */
  moovSampleDuration: number;
  /** visual sample entry size, else tkhd presentation size; 0 for non-video tracks */
  width: number;
  height: number;
  avc: AvcConfig | undefined;
  /** for an encrypted entry (encv): the format inside, from sinf/frma */
  originalFormat: string | undefined;
}

interface Movie {
  mvhd: MediaTime;
  hasMvex: boolean;
  /** mehd fragment_duration in the mvhd timescale; 0 when absent */
  fragmentDuration: number;
  /** trex default_sample_duration by track ID */
  trexDurations: Map<number, number>;
  tracks: TrackFacts[];
}

function parseMoov(walk: BoxWalk, data: Buffer, moov: BoxHeader): Movie {
  const base = moov.start;
  const kids = childBoxes(walk, data, base, bodyStart(moov), moov.end, 'moov', 1);
  const mvhdBox = required(walk, kids, 'mvhd', 'moov');
  const movie: Movie = {
    mvhd: parseMvhdOrMdhd(walk, mvhdBox, boxBody(data, base, mvhdBox)),
    hasMvex: false,
    fragmentDuration: 0,
    trexDurations: new Map(),
    tracks: [],
  };
  let trakIndex = 0;
  for (const box of kids) {
    if (box.type === 'trak') {
      trakIndex += 1;
      movie.tracks.push(parseTrak(walk, data, base, box, `moov/trak[${trakIndex}]`));
    } else if (box.type === 'mvex') {
      movie.hasMvex = true;
      for (const child of childBoxes(walk, data, base, bodyStart(box), box.end, 'moov/mvex', 2)) {
        if (child.type === 'mehd') movie.fragmentDuration = parseMehd(walk, child, boxBody(data, base, child));
        if (child.type === 'trex') {
          const trex = parseTrex(walk, child, boxBody(data, base, child));
          movie.trexDurations.set(trex.trackId, trex.defaultSampleDuration);
        }
      }
    }
  }
  return movie;
}

function parseTrak(walk: BoxWalk, data: Buffer, base: number, trak: BoxHeader, path: string): TrackFacts {
  const kids = childBoxes(walk, data, base, bodyStart(trak), trak.end, path, 2);
  const tkhdBox = required(walk, kids, 'tkhd', path);
  const tkhd = parseTkhd(walk, tkhdBox, boxBody(data, base, tkhdBox));
  const mdia = required(walk, kids, 'mdia', path);
  const mdiaKids = childBoxes(walk, data, base, bodyStart(mdia), mdia.end, `${path}/mdia`, 3);
  const mdhdBox = required(walk, mdiaKids, 'mdhd', `${path}/mdia`);
  const hdlrBox = required(walk, mdiaKids, 'hdlr', `${path}/mdia`);
  const minf = required(walk, mdiaKids, 'minf', `${path}/mdia`);
  const minfKids = childBoxes(walk, data, base, bodyStart(minf), minf.end, `${path}/mdia/minf`, 4);
  const stblPath = `${path}/mdia/minf/stbl`;
  const stbl = required(walk, minfKids, 'stbl', `${path}/mdia/minf`);
  const stblKids = childBoxes(walk, data, base, bodyStart(stbl), stbl.end, stblPath, 5);
  const stsd = required(walk, stblKids, 'stsd', stblPath);
  const stts = stblKids.find((b) => b.type === 'stts');

  const entry = firstSampleEntry(walk, data, base, stsd, `${stblPath}/stsd`);
  const facts: TrackFacts = {
    trackId: tkhd.trackId,
    handler: parseHdlr(walk, hdlrBox, boxBody(data, base, hdlrBox)),
    codec: entry.type,
    media: parseMvhdOrMdhd(walk, mdhdBox, boxBody(data, base, mdhdBox)),
    moovSampleDuration: stts ? sumStts(walk, stts, boxBody(data, base, stts)) : 0,
    width: 0,
    height: 0,
    avc: undefined,
    originalFormat: undefined,
  };
  if (facts.handler !== 'vide') return facts;

  const entryPath = `${stblPath}/stsd/${printable4cc(entry.type)}`;
  const visual = parseVisualSampleEntry(walk, entry, boxBody(data, base, entry));
  facts.width = visual.width || tkhd.width;
  facts.height = visual.height || tkhd.height;
  // Only H.264 and encrypted entries have children the relay needs; other codecs are refused as
  // they are, whatever their entries hold.
  if (!H264_ENTRIES.has(entry.type) && entry.type !== 'encv') return facts;
  const entryKids = childBoxes(walk, data, base, bodyStart(entry) + visual.childrenAt, entry.end, entryPath, 7, true);
  const avcC = entryKids.find((b) => b.type === 'avcC');
  if (avcC && H264_ENTRIES.has(entry.type)) facts.avc = parseAvcC(walk, avcC, boxBody(data, base, avcC));
  const sinf = entryKids.find((b) => b.type === 'sinf');
  if (sinf) {
    const frma = childBoxes(walk, data, base, bodyStart(sinf), sinf.end, `${entryPath}/sinf`, 8).find((b) => b.type === 'frma');
    if (frma) facts.originalFormat = new FieldReader(walk, frma, boxBody(data, base, frma)).fourcc('original format');
  }
  return facts;
}

function firstSampleEntry(walk: BoxWalk, data: Buffer, base: number, stsd: BoxHeader, path: string): BoxHeader {
  const r = new FieldReader(walk, stsd, boxBody(data, base, stsd));
  r.fullBox(0);
  r.u32('entry count');
  const entries = childBoxes(walk, data, base, bodyStart(stsd) + 8, stsd.end, path, 6);
  const first = entries[0];
  if (!first) {
    throw corrupt(
      walk,
      `${path} at offset ${stsd.start} holds no sample entry, so the track's codec is unknown: the MP4 structure is damaged`,
      { offset: stsd.start, path },
    );
  }
  return first;
}

function sumStts(walk: BoxWalk, box: BoxHeader, body: Buffer): number {
  const r = new FieldReader(walk, box, body);
  r.fullBox(0);
  const entries = r.u32('entry count');
  r.need(entries * 8, `${entries} entries`);
  let total = 0;
  for (let i = 0; i < entries; i += 1) total += r.u32() * r.u32();
  return total;
}

function parseMoof(walk: BoxWalk, data: Buffer, moof: BoxHeader): FragmentRun[] {
  const base = moof.start;
  const path = `moof at offset ${moof.start}`;
  const runs: FragmentRun[] = [];
  for (const traf of childBoxes(walk, data, base, bodyStart(moof), moof.end, path, 1)) {
    if (traf.type !== 'traf') continue;
    const kids = childBoxes(walk, data, base, bodyStart(traf), traf.end, `${path}/traf`, 2);
    const tfhdBox = required(walk, kids, 'tfhd', `${path}/traf`);
    const tfhd = parseTfhd(walk, tfhdBox, boxBody(data, base, tfhdBox));
    for (const trunBox of kids) {
      if (trunBox.type !== 'trun') continue;
      const trun = parseTrun(walk, trunBox, boxBody(data, base, trunBox));
      runs.push({
        trackId: tfhd.trackId,
        explicitDuration: trun.explicitDuration,
        samplesWithoutDuration: trun.samplesWithoutDuration,
        tfhdDefaultDuration: tfhd.defaultSampleDuration,
      });
    }
  }
  return runs;
}

function required(walk: BoxWalk, boxes: BoxHeader[], type: string, path: string): BoxHeader {
  const box = boxes.find((b) => b.type === type);
  if (!box) throw corrupt(
    walk,
    `${path} has no ${type} box, which ISO/IEC 14496-12 requires there: the MP4 structure is damaged`,
    { path, box: type },
  );
  return box;
}

/** A track's duration in its own timescale; fragments add to the samples described in moov. */
function trackDuration(track: TrackFacts, movie: Movie, fragments: FragmentRun[], fragmented: boolean): number {
  if (!fragmented) return track.media.duration || track.moovSampleDuration;
  let total = track.moovSampleDuration;
  for (const run of fragments) {
    if (run.trackId !== track.trackId) continue;
    const fallback = run.tfhdDefaultDuration ?? movie.trexDurations.get(track.trackId) ?? 0;
    total += run.explicitDuration + run.samplesWithoutDuration * fallback;
  }
  return total;
}

function toMs(duration: number, timescale: number): number {
  return Math.round((duration * 1000) / timescale);
}

function longest(tracks: { durationMs: number }[]): number {
  return tracks.reduce((max, t) => Math.max(max, t.durationMs), 0);
}

function checkVideo(walk: BoxWalk, tracks: (TrackFacts & { durationMs: number })[]): Mp4Video {
  const track = tracks.find((t) => t.handler === 'vide');
  if (!track) {
    const listed = tracks.map((t) => `${printable4cc(t.handler)} (${printable4cc(t.codec)})`).join(', ');
    const found = tracks.length === 0 ? 'no tracks at all' : `only ${listed}`;
    throw MediaNoVideo(
      `file has no video track (it has ${found}); the national platform requires an H.264 video track`,
      { field: walk.field, detail: { tracks: tracks.map((t) => ({ handler: t.handler, codec: t.codec })) } },
    );
  }
  const codec = printable4cc(track.codec);
  if (!H264_ENTRIES.has(track.codec)) {
    const required = 'the national platform requires H.264 (avc1/avc3)';
    const reencode = 're-encode it, e.g. `ffmpeg -i input -c:v libx264 -pix_fmt yuv420p output.mp4`';
    const name = VIDEO_CODEC_NAMES[track.codec];
    let message: string;
    if (track.codec === 'encv') {
      const inner = track.originalFormat ? `, original format ${printable4cc(track.originalFormat)}` : '';
      message = `video track is encrypted (encv${inner}); ${required}, unencrypted: upload the recording without DRM`;
    } else if (name) {
      message = `video track is ${name} (${codec}); ${required}: ${reencode}`;
    } else {
      message = `video track uses sample entry '${codec}', which is not H.264; ${required}: ${reencode}`;
    }
    throw MediaNotH264(message, { field: walk.field, detail: { codec: track.codec, trackId: track.trackId } });
  }
  if (!track.avc) {
    throw corrupt(
      walk,
      `video track ${track.trackId} (${codec}) has no avcC box, so its H.264 decoder configuration (SPS/PPS) is missing: re-mux the recording, e.g. \`ffmpeg -i input -c copy output.mp4\``,
      { trackId: track.trackId },
    );
  }
  return {
    trackId: track.trackId,
    codec: track.codec,
    codecName: 'H.264',
    width: track.width,
    height: track.height,
    timescale: track.media.timescale,
    durationMs: track.durationMs,
    avc: track.avc,
  };
}
