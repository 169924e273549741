// Media fixtures, made at test time: real files from the real ffmpeg (lavfi test sources, small
// and fast), padding of an MP4 to an exact size, and hand-built ISO BMFF boxes for the cases no
// muxer writes (64-bit sizes, size 0, version 1 headers). Nothing binary is committed.
//
// Files are cached only inside the directory the caller passes, by a name derived from the
// options, so tests of one process can share them and nothing leaks between processes.

import { randomBytes } from 'node:crypto';
import { access, copyFile, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ffmpegPath, runFfmpeg } from '../../src/media/ffmpeg.ts';

export { refusal } from './refusal.ts';

export { ffmpegPath };

export type VideoCodec = 'h264' | 'h265' | 'mpeg4';
export type VideoContainer = 'mp4' | 'mpegts' | 'matroska' | 'avi';

export interface VideoOptions {
  seconds: number;
  codec?: VideoCodec;
  container?: VideoContainer;
  /** moov before mdat (-movflags +faststart) */
  fastStart?: boolean;
  /** fragmented MP4 (-movflags frag_keyframe+empty_moov), one fragment per second */
  fragmented?: boolean;
  width?: number;
  height?: number;
  fps?: number;
  /** add an AAC audio track */
  audio?: boolean;
  /** an AAC track and no video at all */
  audioOnly?: boolean;
  /** file name inside `dir`; by default one derived from the options */
  name?: string;
}

const EXTENSIONS: Record<VideoContainer, string> = { mp4: 'mp4', mpegts: 'ts', matroska: 'mkv', avi: 'avi' };

const inFlight = new Map<string, Promise<string>>();

/** Encodes a lavfi testsrc clip into `dir` and resolves to its path (reused if already there). */
export function makeVideo(dir: string, opts: VideoOptions): Promise<string> {
  const path = join(dir, opts.name ?? defaultName(opts));
  let made = inFlight.get(path);
  if (!made) {
    made = exists(path).then((there) => (there ? path : encode(path, opts)));
    inFlight.set(path, made);
    made.catch(() => inFlight.delete(path));
  }
  return made;
}

function defaultName(o: VideoOptions): string {
  const container = o.container ?? 'mp4';
  const parts = o.audioOnly
    ? ['aac-only', `${o.seconds}s`]
    : [o.codec ?? 'h264', `${o.seconds}s`, `${o.width ?? 320}x${o.height ?? 240}`, `${o.fps ?? 10}fps`];
  if (o.audio && !o.audioOnly) parts.push('aac');
  if (o.fastStart) parts.push('faststart');
  if (o.fragmented) parts.push('frag');
  return `${parts.join('-')}.${EXTENSIONS[container]}`;
}

async function encode(path: string, o: VideoOptions): Promise<string> {
  const fps = o.fps ?? 10;
  const container = o.container ?? 'mp4';
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'];
  if (!o.audioOnly) {
    args.push('-f', 'lavfi', '-i', `testsrc=size=${o.width ?? 320}x${o.height ?? 240}:rate=${fps}:duration=${o.seconds}`);
  }
  if (o.audio || o.audioOnly) {
    args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=16000:duration=${o.seconds}`);
  }
  if (!o.audioOnly) {
    // A keyframe every second, as cameras do; it also gives fragmented files several fragments.
    args.push(...videoCodecArgs(o.codec ?? 'h264'), '-g', String(fps));
  }
  if (o.audio || o.audioOnly) args.push('-c:a', 'aac', '-b:a', '32k');
  if (container === 'mp4') {
    const flags = [o.fastStart ? '+faststart' : '', o.fragmented ? '+frag_keyframe+empty_moov' : ''].join('');
    if (flags) args.push('-movflags', flags);
  }
  const temp = `${path}.${randomBytes(4).toString('hex')}.part`;
  args.push('-f', container, temp);
  try {
    await runFfmpeg(args, { stdout: 'ignore' });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return path;
}

function videoCodecArgs(codec: VideoCodec): string[] {
  switch (codec) {
    case 'h264':
      return ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
    case 'h265':
      return ['-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-x265-params', 'log-level=error'];
    case 'mpeg4':
      return ['-c:v', 'mpeg4', '-q:v', '5'];
  }
}

/** true when no process `pid` exists any more: the ffmpeg child was killed and reaped */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export type Mp4FixtureKind =
  | 'h264'
  | 'h264-faststart'
  | 'h264-fragmented'
  | 'h264-aac'
  | 'h265'
  | 'mpeg4'
  | 'aac-only'
  | 'mpegts'
  | 'matroska'
  | 'avi';

/** The stock fixtures, 2 s at 320x240 and 10 fps unless `seconds` says otherwise. */
export function makeMp4Fixture(dir: string, kind: Mp4FixtureKind, seconds = 2): Promise<string> {
  const base = { seconds };
  switch (kind) {
    case 'h264':
      return makeVideo(dir, base);
    case 'h264-faststart':
      return makeVideo(dir, { ...base, fastStart: true });
    case 'h264-fragmented':
      return makeVideo(dir, { ...base, fragmented: true });
    case 'h264-aac':
      return makeVideo(dir, { ...base, audio: true });
    case 'h265':
      return makeVideo(dir, { ...base, codec: 'h265' });
    case 'mpeg4':
      return makeVideo(dir, { ...base, codec: 'mpeg4' });
    case 'aac-only':
      return makeVideo(dir, { ...base, audioOnly: true });
    case 'mpegts':
      return makeVideo(dir, { ...base, container: 'mpegts' });
    case 'matroska':
      return makeVideo(dir, { ...base, container: 'matroska' });
    case 'avi':
      return makeVideo(dir, { ...base, container: 'avi' });
  }
}

/** One testsrc frame as a still image, for the "someone uploaded a snapshot" cases. */
export async function makeImage(dir: string, format: 'jpeg' | 'png'): Promise<string> {
  const path = join(dir, `testsrc.${format === 'jpeg' ? 'jpg' : 'png'}`);
  if (await exists(path)) return path;
  const temp = `${path}.${randomBytes(4).toString('hex')}.part`;
  const codec = format === 'jpeg' ? 'mjpeg' : 'png';
  const pixelFormat = format === 'jpeg' ? 'yuvj420p' : 'rgb24';
  await runFfmpeg(
    [
      ...['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'],
      ...['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=1', '-frames:v', '1'],
      ...['-c:v', codec, '-pix_fmt', pixelFormat, '-f', 'image2', temp],
    ],
    { stdout: 'ignore' },
  );
  await rename(temp, path);
  return path;
}

export interface PadOptions {
  /** write the free box with a 64-bit size header even when 32 bits would do */
  largeSize?: boolean;
}

/**
 * Copies the MP4 at `src` to `dest` and appends one top-level `free` box so that `dest` is
 * exactly `totalBytes` long (its zeros are written sparsely). The source must not end in a
 * size-0 box, which would then swallow the padding; ffmpeg never writes one.
 */
export async function padMp4ToSize(src: string, dest: string, totalBytes: number, options: PadOptions = {}): Promise<void> {
  const { size } = await stat(src);
  const pad = totalBytes - size;
  if (pad === 0) {
    await copyFile(src, dest);
    return;
  }
  const large = options.largeSize === true || pad > 0xffffffff;
  const header = large ? 16 : 8;
  if (pad < header) {
    throw new Error(`cannot pad ${src} (${size} bytes) to ${totalBytes} bytes: a free box needs at least ${header} bytes`);
  }
  await copyFile(src, dest);
  const handle = await open(dest, 'r+');
  try {
    const bytes = Buffer.alloc(header);
    bytes.writeUInt32BE(large ? 1 : pad, 0);
    bytes.write('free', 4, 'latin1');
    if (large) bytes.writeBigUInt64BE(BigInt(pad), 8);
    await handle.write(bytes, 0, header, size);
    await handle.truncate(totalBytes);
  } finally {
    await handle.close();
  }
}

// ---- hand-built ISO BMFF -------------------------------------------------------------------

export interface BoxOptions {
  /** write size 1 and a 64-bit largesize */
  size64?: boolean;
  /** write size 0: the box runs to the end of the file */
  size0?: boolean;
}

export function box(type: string, payload: Buffer[] = [], options: BoxOptions = {}): Buffer {
  if (Buffer.byteLength(type, 'latin1') !== 4) throw new Error(`box type must be 4 bytes: ${type}`);
  const body = Buffer.concat(payload);
  const headerSize = options.size64 ? 16 : 8;
  const header = Buffer.alloc(headerSize);
  header.write(type, 4, 'latin1');
  if (options.size64) {
    header.writeUInt32BE(1, 0);
    header.writeBigUInt64BE(BigInt(headerSize + body.length), 8);
  } else {
    header.writeUInt32BE(options.size0 ? 0 : headerSize + body.length, 0);
  }
  return Buffer.concat([header, body]);
}

export function fullBox(type: string, version: number, flags: number, payload: Buffer[] = [], options: BoxOptions = {}): Buffer {
  return box(type, [u32(((version & 0xff) << 24) | (flags & 0xffffff)), ...payload], options);
}

export function u8(v: number): Buffer {
  return Buffer.from([v & 0xff]);
}

export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

export function u64(v: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
}

export function zeros(n: number): Buffer {
  return Buffer.alloc(n);
}

export function fourcc(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

export interface HandTrack {
  handler?: string;
  /** sample entry type */
  codec?: string;
  width?: number;
  height?: number;
  timescale?: number;
  /** in the track timescale */
  duration?: number;
  /** leave the avcC box out of an avc1/avc3 entry */
  noAvcC?: boolean;
  /** bytes appended to the video sample entry after its child boxes */
  entryTrailer?: Buffer;
}

export interface HandMp4Options {
  /** version of mvhd, tkhd and mdhd */
  version?: 0 | 1;
  movieTimescale?: number;
  /** in the movie timescale */
  movieDuration?: number | bigint;
  tracks?: HandTrack[];
  /** moov after mdat */
  moovAtEnd?: boolean;
  /** box types written with a 64-bit size header: any of ftyp, moov, mdat, trak, … */
  size64?: string[];
  /** the last top-level box (mdat or moov, whichever is last) is written with size 0 */
  lastBoxSize0?: boolean;
  /** top-level boxes inserted after ftyp (free, skip, uuid, wide, …) */
  extraTopLevel?: Buffer[];
  mdatBytes?: number;
  /**
   * Makes the file fragmented: moov describes no samples and gets an mvex (trex for track 1, with
   * `trexDefaultDuration`, and an mehd when `mehdDuration` is set); one moof + mdat per fragment
   * follows, all for track 1.
   */
  fragments?: HandFragment[];
  trexDefaultDuration?: number;
  mehdDuration?: number;
}

export interface HandFragment {
  /** written per sample in trun */
  sampleDurations?: number[];
  /** samples without a written duration (the default applies) */
  samples?: number;
  /** tfhd default_sample_duration; without it the trex default applies */
  defaultDuration?: number;
}

/** A minimal but complete MP4 (ftyp, moov with one trak per track, mdat), built byte by byte. */
export function buildMp4(o: HandMp4Options = {}): Buffer {
  const large = new Set(o.size64 ?? []);
  const b: Builder = {
    version: o.version ?? 0,
    fragmented: o.fragments !== undefined,
    opt: (type) => ({ size64: large.has(type) }),
  };
  const tracks = o.tracks ?? [{}];
  const movieTimescale = o.movieTimescale ?? 1000;
  const mvhd = fullBox(
    'mvhd',
    b.version,
    0,
    [
      times(b),
      u32(movieTimescale),
      time(b, b.fragmented ? 0 : (o.movieDuration ?? 2000)),
      u32(0x00010000), // rate 1.0
      u16(0x0100), // volume 1.0
      zeros(10), // reserved
      zeros(36), // matrix
      zeros(24), // pre_defined
      u32(tracks.length + 1), // next_track_ID
    ],
    b.opt('mvhd'),
  );
  const traks = tracks.map((track, i) => trakBox(b, track, i + 1));
  const mvex = b.fragmented ? [mvexBox(b, o)] : [];
  const fragments = (o.fragments ?? []).flatMap((f, i) => fragmentBoxes(f, i + 1));

  const ftyp = box('ftyp', [fourcc('isom'), u32(512), fourcc('isom'), fourcc('avc1')], b.opt('ftyp'));
  const order = o.moovAtEnd ? ['mdat', 'moov'] : ['moov', 'mdat'];
  const top = order.map((type, i) => {
    const options = { ...b.opt(type), size0: o.lastBoxSize0 === true && i === order.length - 1 };
    return type === 'moov'
      ? box('moov', [mvhd, ...traks, ...mvex], options)
      : box('mdat', [zeros(o.mdatBytes ?? 64)], options);
  });
  return Buffer.concat([ftyp, ...(o.extraTopLevel ?? []), ...top, ...fragments]);
}

interface Builder {
  /** version of mvhd, tkhd, mdhd and mehd */
  version: 0 | 1;
  fragmented: boolean;
  opt(type: string): BoxOptions;
}

function time(b: Builder, v: number | bigint): Buffer {
  return b.version === 1 ? u64(v) : u32(Number(v));
}

/** creation_time and modification_time */
function times(b: Builder): Buffer {
  return zeros(b.version === 1 ? 16 : 8);
}

function trakBox(b: Builder, t: HandTrack, trackId: number): Buffer {
  const handler = t.handler ?? 'vide';
  const codec = t.codec ?? (handler === 'vide' ? 'avc1' : 'mp4a');
  const width = t.width ?? 320;
  const height = t.height ?? 240;
  const timescale = t.timescale ?? 10240;
  const duration = b.fragmented ? 0 : (t.duration ?? 2 * timescale);
  const tkhd = fullBox(
    'tkhd',
    b.version,
    3, // enabled, in movie
    [
      times(b),
      u32(trackId),
      zeros(4), // reserved
      time(b, duration),
      zeros(8), // reserved
      zeros(8), // layer, alternate_group, volume, reserved
      zeros(36), // matrix
      u32(width << 16), // 16.16 fixed point
      u32(height << 16),
    ],
    b.opt('tkhd'),
  );
  const mdhd = fullBox('mdhd', b.version, 0, [times(b), u32(timescale), time(b, duration), u16(0x55c4), u16(0)], b.opt('mdhd'));
  const hdlr = fullBox('hdlr', 0, 0, [zeros(4), fourcc(handler), zeros(12), Buffer.from('hand\0', 'latin1')], b.opt('hdlr'));
  const entry = handler === 'vide' ? visualSampleEntry(b, t, codec, width, height) : audioSampleEntry(b, codec, timescale);
  const stsd = fullBox('stsd', 0, 0, [u32(1), entry], b.opt('stsd'));
  // 20 samples in moov, none when the samples are all in fragments
  const sttsEntries = b.fragmented ? [u32(0)] : [u32(1), u32(20), u32(Math.floor(duration / 20))];
  const stts = fullBox('stts', 0, 0, sttsEntries, b.opt('stts'));
  const emptyTables = [fullBox('stsc', 0, 0, [u32(0)]), fullBox('stsz', 0, 0, [u32(0), u32(0)]), fullBox('stco', 0, 0, [u32(0)])];
  const stbl = box('stbl', [stsd, stts, ...emptyTables], b.opt('stbl'));
  const minf = box('minf', [stbl], b.opt('minf'));
  const mdia = box('mdia', [mdhd, hdlr, minf], b.opt('mdia'));
  return box('trak', [tkhd, mdia], b.opt('trak'));
}

function visualSampleEntry(b: Builder, t: HandTrack, codec: string, width: number, height: number): Buffer {
  const children: Buffer[] = [];
  if ((codec === 'avc1' || codec === 'avc3') && !t.noAvcC) {
    const sps = Buffer.from([0x67, 0x64, 0x00, 0x1f, 0xac]);
    const pps = Buffer.from([0x68, 0xee, 0x3c, 0x80]);
    const avcC = [
      u8(1), // configurationVersion
      u8(100), // High
      u8(0), // profile_compatibility
      u8(31), // level 3.1
      u8(0xff), // 4-byte NAL lengths
      u8(0xe1), // one SPS
      u16(sps.length),
      sps,
      u8(1), // one PPS
      u16(pps.length),
      pps,
    ];
    children.push(box('avcC', avcC, b.opt('avcC')));
  }
  const fields = [
    zeros(6), // reserved
    u16(1), // data_reference_index
    zeros(16), // pre_defined, reserved
    u16(width),
    u16(height),
    u32(0x00480000), // 72 dpi
    u32(0x00480000),
    zeros(4), // reserved
    u16(1), // frame_count
    zeros(32), // compressorname
    u16(0x18), // depth
    u16(0xffff), // pre_defined
  ];
  return box(codec, [...fields, ...children, ...(t.entryTrailer ? [t.entryTrailer] : [])], b.opt(codec));
}

function audioSampleEntry(b: Builder, codec: string, sampleRate: number): Buffer {
  // reserved, data_reference_index, reserved, channelcount, samplesize, pre_defined + reserved, samplerate
  const fields = [zeros(6), u16(1), zeros(8), u16(2), u16(16), zeros(4), u32(sampleRate << 16)];
  return box(codec, fields, b.opt(codec));
}

function mvexBox(b: Builder, o: HandMp4Options): Buffer {
  const mehd = o.mehdDuration === undefined ? [] : [fullBox('mehd', b.version, 0, [time(b, o.mehdDuration)])];
  // track 1, sample description 1, default duration, size and flags
  const trex = fullBox('trex', 0, 0, [u32(1), u32(1), u32(o.trexDefaultDuration ?? 0), u32(0), u32(0)]);
  return box('mvex', [...mehd, trex]);
}

const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
const TFHD_DEFAULT_DURATION = 0x000008;
const TRUN_DATA_OFFSET = 0x000001;
const TRUN_DURATION = 0x000100;
const TRUN_SIZE = 0x000200;

/** A moof for track 1 and its (dummy) mdat. */
function fragmentBoxes(f: HandFragment, sequence: number): Buffer[] {
  const tfhd =
    f.defaultDuration === undefined
      ? fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF, [u32(1)])
      : fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF | TFHD_DEFAULT_DURATION, [u32(1), u32(f.defaultDuration)]);
  const sampleSize = u32(100);
  let trun: Buffer;
  if (f.sampleDurations) {
    const samples = f.sampleDurations.flatMap((d) => [u32(d), sampleSize]);
    const flags = TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE;
    trun = fullBox('trun', 0, flags, [u32(f.sampleDurations.length), u32(0), ...samples]);
  } else {
    const count = f.samples ?? 0;
    const samples = Array.from({ length: count }, () => sampleSize);
    trun = fullBox('trun', 0, TRUN_DATA_OFFSET | TRUN_SIZE, [u32(count), u32(0), ...samples]);
  }
  const traf = box('traf', [tfhd, fullBox('tfdt', 0, 0, [u32(0)]), trun]);
  return [box('moof', [fullBox('mfhd', 0, 0, [u32(sequence)]), traf]), box('mdat', [zeros(16)])];
}
