// Recognises a container from the first bytes of a file, so that an upload which is not MP4 can be
// refused early and, above all, refused with a message that names what was sent instead.

export type ContainerKind = 'mp4' | 'mpegts' | 'matroska' | 'avi' | 'jpeg' | 'png' | 'unknown';

export interface ContainerSniff {
  kind: ContainerKind;
  /** what the bytes look like, as a short phrase for messages ("MPEG-TS stream (188-byte packets)") */
  detail?: string;
}

/** How many leading bytes sniffContainer can make use of; more are ignored. */
export const SNIFF_BYTES = 1024;

const TS_PACKET = 188;
const M2TS_PACKET = 192;
const TS_SYNC = 0x47;

/** Top-level box types of ISO BMFF / QuickTime files that may come first when ftyp is missing. */
const BOX_TYPES_WITHOUT_FTYP = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot', 'moof', 'uuid']);

export function sniffContainer(firstBytes: Buffer): ContainerSniff {
  const b = firstBytes.subarray(0, SNIFF_BYTES);
  if (b.length === 0) return { kind: 'unknown', detail: 'empty (0 bytes)' };

  if (b.length >= 8 && ascii(b, 4, 8) === 'ftyp') {
    const size = b.readUInt32BE(0);
    if (size === 1 || size >= 8) {
      if (b.length < 12) return { kind: 'mp4', detail: 'ISO BMFF file (ftyp box)' };
      const brand = ascii(b, 8, 12);
      const what = brand === 'qt  ' ? 'QuickTime MOV' : 'ISO BMFF';
      return { kind: 'mp4', detail: `${what} file, major brand '${printable4cc(brand)}'` };
    }
  }
  if (b.length >= 8) {
    const type = ascii(b, 4, 8);
    if (type === 'styp') {
      return { kind: 'unknown', detail: "a fragmented MP4 media segment (styp) without its initialisation segment" };
    }
    if (BOX_TYPES_WITHOUT_FTYP.has(type)) {
      return { kind: 'unknown', detail: `QuickTime/ISO BMFF boxes without an ftyp box (the first box is '${type}')` };
    }
  }

  const ts = sniffTransportStream(b);
  if (ts) return ts;

  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) {
    const docType = matroskaDocType(b);
    if (docType === 'webm') return { kind: 'matroska', detail: 'WebM (Matroska/EBML) file' };
    return { kind: 'matroska', detail: 'Matroska (EBML) file' };
  }
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF') {
    const form = ascii(b, 8, 12);
    if (form === 'AVI ' || form === 'AVIX') return { kind: 'avi', detail: 'AVI (RIFF) file' };
    if (form === 'WAVE') return { kind: 'unknown', detail: 'WAV audio (RIFF WAVE) file' };
    return { kind: 'unknown', detail: `RIFF file of form '${printable4cc(form)}'` };
  }
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { kind: 'jpeg', detail: 'JPEG image' };
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'png', detail: 'PNG image' };

  const other = sniffOther(b);
  return { kind: 'unknown', detail: other };
}

/**
 * The sentence an integrator reads when a file that should be MP4 is something else: what it is,
 * what is required, and how to get there.
 */
export function notMp4Message(sniff: ContainerSniff): string {
  const what = sniff.detail ?? sniff.kind;
  const required = 'the national platform requires an MP4 (ISO BMFF) file that starts with an ftyp box';
  const remux = 'convert it without re-encoding, e.g. `ffmpeg -i input -c copy -movflags +faststart output.mp4`';
  switch (sniff.kind) {
    case 'mpegts':
    case 'matroska':
    case 'avi':
      return `file is ${withArticle(what)}, not MP4; ${required}: ${remux}`;
    case 'jpeg':
    case 'png':
      return `file is ${withArticle(what)}, not a video; ${required} holding the H.264 evidence video`;
    default:
      if (what.startsWith('QuickTime/ISO') || what.startsWith('a fragmented')) {
        return `file has ${what}; ${required}: ${remux}`;
      }
      return `file is ${withArticle(what)}, not MP4; ${required}`;
  }
}

function sniffTransportStream(b: Buffer): ContainerSniff | undefined {
  // One sync byte proves nothing ('G' starts plenty of text); ask for two packets in a row.
  if (syncEvery(b, 0, TS_PACKET)) {
    return { kind: 'mpegts', detail: 'MPEG-TS stream (sync byte 0x47 every 188 bytes)' };
  }
  if (syncEvery(b, 4, M2TS_PACKET)) {
    return { kind: 'mpegts', detail: 'M2TS stream (MPEG-TS in 192-byte packets)' };
  }
  return undefined;
}

function syncEvery(b: Buffer, first: number, step: number): boolean {
  let seen = 0;
  for (let at = first; at < b.length; at += step) {
    if (b[at] !== TS_SYNC) return false;
    seen += 1;
  }
  return seen >= 2;
}

function matroskaDocType(b: Buffer): string | undefined {
  // DocType is element 0x4282 inside the EBML header; its size is an EBML varint, almost always the
  // one-byte form (0x80 | length).
  const at = b.indexOf(Buffer.from([0x42, 0x82]));
  if (at < 0 || at + 3 > b.length) return undefined;
  const sizeByte = b[at + 2] ?? 0;
  if ((sizeByte & 0x80) === 0) return undefined;
  const length = sizeByte & 0x7f;
  return ascii(b, at + 3, Math.min(b.length, at + 3 + length)).replace(/\0+$/, '');
}

function sniffOther(b: Buffer): string {
  if (ascii(b, 0, 3) === 'FLV' && b[3] === 1) return 'Flash video (FLV) file';
  if (startsWith(b, [0x00, 0x00, 0x01, 0xba])) return 'MPEG program stream (PS, as in .mpg or GB28181 RTP payloads)';
  if (startsWith(b, [0x00, 0x00, 0x00, 0x01]) || startsWith(b, [0x00, 0x00, 0x01])) {
    return 'raw H.264/H.265 elementary stream (Annex B start codes) without a container';
  }
  if (ascii(b, 0, 3) === 'ID3') return 'MP3 audio file (ID3 tag)';
  if (ascii(b, 0, 4) === 'GIF8') return 'GIF image';
  if (ascii(b, 0, 5) === '%PDF-') return 'PDF document';
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04])) return 'ZIP archive';
  if (startsWith(b, [0x1f, 0x8b])) return 'gzip archive';
  const text = asText(b);
  if (text !== undefined) {
    const start = text.trimStart();
    if (/^<(!doctype html|html|head|body)\b/i.test(start)) return 'HTML page (perhaps an error page saved in place of the video)';
    if (start.startsWith('{') || start.startsWith('[')) return 'JSON text';
    if (start.startsWith('<')) return 'XML text';
    return `text file (it begins "${preview(start)}")`;
  }
  return `unrecognised binary data (first bytes ${hex(b.subarray(0, 8))})`;
}

function asText(b: Buffer): string | undefined {
  let body = b;
  if (startsWith(body, [0xef, 0xbb, 0xbf])) body = body.subarray(3);
  // The sample may end in the middle of a multi-byte character; drop an incomplete tail.
  for (let cut = 0; cut <= 3 && cut <= body.length; cut += 1) {
    const part = body.subarray(0, body.length - cut);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(part);
    } catch {
      continue;
    }
    if (/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text)) return undefined;
    return text;
  }
  return undefined;
}

function preview(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 40 ? `${line.slice(0, 40)}…` : line;
}

function withArticle(phrase: string): string {
  if (/^(unrecognised|empty|JSON|XML)\b/.test(phrase)) return phrase;
  return /^([aeiouAEIOU]|MPEG|M2TS|MP3|HTML)/.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}

function startsWith(b: Buffer, prefix: readonly number[]): boolean {
  if (b.length < prefix.length) return false;
  return prefix.every((byte, i) => b[i] === byte);
}

function ascii(b: Buffer, start: number, end: number): string {
  return b.toString('latin1', start, end);
}

/** A four-character code as it can be shown in a message (unprintable bytes escaped). */
export function printable4cc(code: string): string {
  return code.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function hex(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}
