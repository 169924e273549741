// A minimal DER (X.690) encoder and decoder: enough for SM2 ciphertext (GM/T 0009), SPKI and
// PKCS#8 keys, and an X.509 certificate. The decoder checks every length against the bytes that are
// really there, limits nesting, and rejects what DER forbids (indefinite lengths, constructed
// strings, non-minimal lengths and integers) unless `lenient` is asked for: some SM2 libraries emit
// non-minimal INTEGERs and long-form lengths in their ciphertext, and the C3 hash vouches for those
// bytes anyway.

import { ESEAL_ERR_CRYPTO_ASN1 } from './errors.ts';

export type TagClass = 'universal' | 'application' | 'context' | 'private';

export const TAG = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  UTF8_STRING: 12,
  SEQUENCE: 16,
  SET: 17,
  PRINTABLE_STRING: 19,
  IA5_STRING: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
} as const;

const CLASS_BITS: Record<TagClass, number> = { universal: 0x00, application: 0x40, context: 0x80, private: 0xc0 };
const CLASS_OF_BITS: TagClass[] = ['universal', 'application', 'context', 'private'];

const TAG_NAMES = new Map<number, string>(Object.entries(TAG).map(([name, tag]) => [tag, name]));
const ALWAYS_CONSTRUCTED = new Set<number>([TAG.SEQUENCE, TAG.SET]);
const ALWAYS_PRIMITIVE = new Set<number>([
  TAG.BOOLEAN, TAG.INTEGER, TAG.BIT_STRING, TAG.OCTET_STRING, TAG.NULL, TAG.OID, TAG.UTF8_STRING,
  TAG.PRINTABLE_STRING, TAG.IA5_STRING, TAG.UTC_TIME, TAG.GENERALIZED_TIME,
]);

export interface Asn1Node {
  readonly tagClass: TagClass;
  readonly constructed: boolean;
  readonly tag: number;
  /** the contents octets */
  readonly content: Buffer;
  /** the whole encoding, identifier and length included */
  readonly der: Buffer;
  /** the elements of a constructed node, empty for a primitive one */
  readonly children: readonly Asn1Node[];
}

export interface DecodeOptions {
  /** accept long-form lengths that could be shorter, and INTEGERs with redundant leading bytes */
  lenient?: boolean;
  /** deepest nesting accepted (default 32) */
  maxDepth?: number;
}

export interface ReadOptions {
  lenient?: boolean;
}

function fail(message: string, offset?: number): never {
  throw ESEAL_ERR_CRYPTO_ASN1(offset === undefined ? message : `${message} (at byte ${offset})`, {
    detail: offset === undefined ? undefined : { offset },
  });
}

function describe(tagClass: TagClass, tag: number): string {
  if (tagClass === 'universal') return TAG_NAMES.get(tag) ?? `universal ${tag}`;
  return tagClass === 'context' ? `[${tag}]` : `${tagClass} ${tag}`;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function encodeIdentifier(tagClass: TagClass, constructed: boolean, tag: number): Buffer {
  if (!Number.isSafeInteger(tag) || tag < 0) throw new RangeError(`bad ASN.1 tag number ${tag}`);
  const first = CLASS_BITS[tagClass] | (constructed ? 0x20 : 0);
  if (tag < 31) return Buffer.from([first | tag]);
  const groups: number[] = [];
  for (let rest = tag; rest > 0; rest = Math.floor(rest / 128)) groups.unshift(rest % 128);
  return Buffer.from([first | 0x1f, ...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g))]);
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encodeTlv(tagClass: TagClass, constructed: boolean, tag: number, content: Buffer): Buffer {
  return Buffer.concat([encodeIdentifier(tagClass, constructed, tag), encodeLength(content.length), content]);
}

export function derSequence(...items: Buffer[]): Buffer {
  return encodeTlv('universal', true, TAG.SEQUENCE, Buffer.concat(items));
}

/** SET OF: DER orders the elements by their encodings. */
export function derSetOf(...items: Buffer[]): Buffer {
  return encodeTlv('universal', true, TAG.SET, Buffer.concat([...items].sort(Buffer.compare)));
}

/** Minimal two's-complement bytes of an integer. */
export function bigintToSignedBytes(value: bigint): Buffer {
  if (value >= 0n) {
    const magnitude = unsignedBytes(value);
    return (magnitude[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude;
  }
  let width = 1;
  while (value < -(1n << BigInt(8 * width - 1))) width += 1;
  return Buffer.from(((1n << BigInt(8 * width)) + value).toString(16).padStart(2 * width, '0'), 'hex');
}

function unsignedBytes(value: bigint): Buffer {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
}

export function derInteger(value: bigint | number): Buffer {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`not an integer: ${value}`);
  return encodeTlv('universal', false, TAG.INTEGER, bigintToSignedBytes(BigInt(value)));
}

/** An INTEGER from big-endian unsigned bytes (leading zeros dropped, a sign byte added if needed). */
export function derUnsignedInteger(bytes: Buffer): Buffer {
  return derInteger(bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`));
}

export function derBoolean(value: boolean): Buffer {
  return encodeTlv('universal', false, TAG.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
}

export function derNull(): Buffer {
  return encodeTlv('universal', false, TAG.NULL, Buffer.alloc(0));
}

export function derOctetString(bytes: Buffer): Buffer {
  return encodeTlv('universal', false, TAG.OCTET_STRING, bytes);
}

export function derBitString(bytes: Buffer, unusedBits = 0): Buffer {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new RangeError(`bad BIT STRING unused-bit count ${unusedBits}`);
  }
  if (bytes.length > 0 && (bytes[bytes.length - 1]! & ((1 << unusedBits) - 1)) !== 0) {
    throw new RangeError('BIT STRING unused bits must be zero in DER');
  }
  return encodeTlv('universal', false, TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

const OID_TEXT = /^[0-2](\.(0|[1-9][0-9]*))+$/;

export function derOid(oid: string): Buffer {
  if (!OID_TEXT.test(oid)) throw new RangeError(`bad object identifier ${oid}`);
  const arcs = oid.split('.').map((arc) => BigInt(arc));
  const [first, second, ...rest] = arcs as [bigint, bigint, ...bigint[]];
  if (first < 2n && second >= 40n) throw new RangeError(`bad object identifier ${oid}`);
  const bytes: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const groups: number[] = [];
    let value = arc;
    do {
      groups.unshift(Number(value & 0x7fn));
      value >>= 7n;
    } while (value > 0n);
    bytes.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return encodeTlv('universal', false, TAG.OID, Buffer.from(bytes));
}

export function derUtf8String(text: string): Buffer {
  return encodeTlv('universal', false, TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const IA5 = /^[\x00-\x7f]*$/;

export function derPrintableString(text: string): Buffer {
  if (!PRINTABLE.test(text)) throw new RangeError('text has characters a PrintableString cannot hold');
  return encodeTlv('universal', false, TAG.PRINTABLE_STRING, Buffer.from(text, 'ascii'));
}

export function derIa5String(text: string): Buffer {
  if (!IA5.test(text)) throw new RangeError('text has characters an IA5String cannot hold');
  return encodeTlv('universal', false, TAG.IA5_STRING, Buffer.from(text, 'ascii'));
}

function twoDigits(n: number): string {
  return String(n).padStart(2, '0');
}

function timeDigits(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  return (
    twoDigits(date.getUTCMonth() + 1) + twoDigits(date.getUTCDate()) + twoDigits(date.getUTCHours()) +
    twoDigits(date.getUTCMinutes()) + twoDigits(date.getUTCSeconds())
  );
}

/** UTCTime, whole seconds, for years 1950–2049. */
export function derUtcTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (!(year >= 1950 && year <= 2049)) throw new RangeError(`UTCTime cannot hold the year ${year}`);
  return encodeTlv('universal', false, TAG.UTC_TIME, Buffer.from(`${twoDigits(year % 100)}${timeDigits(date)}Z`, 'ascii'));
}

/** GeneralizedTime, whole seconds. */
export function derGeneralizedTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new RangeError(`GeneralizedTime cannot hold the year ${year}`);
  return encodeTlv(
    'universal', false, TAG.GENERALIZED_TIME,
    Buffer.from(`${String(year).padStart(4, '0')}${timeDigits(date)}Z`, 'ascii'),
  );
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function derTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049 ? derUtcTime(date) : derGeneralizedTime(date);
}

/** [tag] EXPLICIT: a constructed context tag wrapping one whole encoding. */
export function derExplicit(tag: number, inner: Buffer): Buffer {
  return encodeTlv('context', true, tag, inner);
}

/** [tag] IMPLICIT: a context tag replacing the identifier of the contents given. */
export function derImplicit(tag: number, content: Buffer, constructed = false): Buffer {
  return encodeTlv('context', constructed, tag, content);
}

// ---------------------------------------------------------------------------------------------
// Decoding

interface Cursor {
  readonly buf: Buffer;
  readonly base: number;
  readonly lenient: boolean;
  readonly maxDepth: number;
}

function parseNode(c: Cursor, start: number, end: number, depth: number): { node: Asn1Node; next: number } {
  const at = (i: number) => c.base + i;
  if (depth > c.maxDepth) fail(`nesting deeper than ${c.maxDepth}`, at(start));
  if (start >= end) fail('unexpected end of data: identifier missing', at(start));
  let pos = start;
  const first = c.buf[pos++]!;
  const tagClass = CLASS_OF_BITS[first >> 6]!;
  const constructed = (first & 0x20) !== 0;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    let groups = 0;
    for (;;) {
      if (pos >= end) fail('unexpected end of data inside a tag number', at(pos));
      const b = c.buf[pos++]!;
      if (groups === 0 && b === 0x80) fail('tag number has a redundant leading group', at(pos - 1));
      tag = tag * 128 + (b & 0x7f);
      groups += 1;
      if (!Number.isSafeInteger(tag) || groups > 4) fail('tag number too large', at(start));
      if ((b & 0x80) === 0) break;
    }
    if (tag < 31) fail('low tag number in high-tag-number form', at(start));
  }

  if (pos >= end) fail('unexpected end of data: length missing', at(pos));
  const lengthByte = c.buf[pos++]!;
  let length: number;
  if (lengthByte < 0x80) {
    length = lengthByte;
  } else if (lengthByte === 0x80) {
    fail('indefinite length is not DER', at(pos - 1));
  } else {
    const count = lengthByte & 0x7f;
    if (count > 4) fail(`length of ${count} bytes is too large`, at(pos - 1));
    if (pos + count > end) fail('unexpected end of data inside a length', at(pos));
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + c.buf[pos + i]!;
    if (!c.lenient && (c.buf[pos] === 0 || length < 0x80)) fail('length is not in its shortest form', at(pos - 1));
    pos += count;
  }
  if (length > end - pos) {
    fail(`${describe(tagClass, tag)} claims ${length} bytes but only ${end - pos} remain`, at(start));
  }

  if (tagClass === 'universal') {
    if (ALWAYS_CONSTRUCTED.has(tag) && !constructed) fail(`${describe(tagClass, tag)} must be constructed`, at(start));
    if (ALWAYS_PRIMITIVE.has(tag) && constructed) fail(`${describe(tagClass, tag)} must be primitive`, at(start));
    if (tag === 0) fail('tag 0 is reserved (end-of-contents is not DER)', at(start));
  }

  const contentEnd = pos + length;
  const children: Asn1Node[] = [];
  if (constructed) {
    let child = pos;
    while (child < contentEnd) {
      const parsed = parseNode(c, child, contentEnd, depth + 1);
      children.push(parsed.node);
      child = parsed.next;
    }
  }
  return {
    node: {
      tagClass,
      constructed,
      tag,
      content: c.buf.subarray(pos, contentEnd),
      der: c.buf.subarray(start, contentEnd),
      children,
    },
    next: contentEnd,
  };
}

/** Decodes exactly one DER element that fills `der` to the last byte. */
export function decodeDer(der: Buffer, options: DecodeOptions = {}): Asn1Node {
  if (!Buffer.isBuffer(der)) fail('DER input must be a Buffer');
  const cursor: Cursor = { buf: der, base: 0, lenient: options.lenient === true, maxDepth: options.maxDepth ?? 32 };
  const { node, next } = parseNode(cursor, 0, der.length, 0);
  if (next !== der.length) fail(`${der.length - next} bytes follow the DER element`, next);
  return node;
}

/** Throws unless `node` has the class, tag and form given. */
export function expectTag(node: Asn1Node, tagClass: TagClass, tag: number, constructed?: boolean): Asn1Node {
  if (node.tagClass !== tagClass || node.tag !== tag) {
    fail(`expected ${describe(tagClass, tag)}, found ${describe(node.tagClass, node.tag)}`);
  }
  if (constructed !== undefined && node.constructed !== constructed) {
    fail(`${describe(tagClass, tag)} must be ${constructed ? 'constructed' : 'primitive'}`);
  }
  return node;
}

export function isTag(node: Asn1Node | undefined, tagClass: TagClass, tag: number): node is Asn1Node {
  return node !== undefined && node.tagClass === tagClass && node.tag === tag;
}

/** The elements of a SEQUENCE, checked to number between `min` and `max`. */
export function readSequence(node: Asn1Node, min = 0, max = Number.POSITIVE_INFINITY): readonly Asn1Node[] {
  expectTag(node, 'universal', TAG.SEQUENCE, true);
  if (node.children.length < min || node.children.length > max) {
    fail(`SEQUENCE has ${node.children.length} elements, expected ${min === max ? min : `${min} to ${max}`}`);
  }
  return node.children;
}

export function readSet(node: Asn1Node): readonly Asn1Node[] {
  return expectTag(node, 'universal', TAG.SET, true).children;
}

export function readInteger(node: Asn1Node, options: ReadOptions = {}): bigint {
  const { content } = expectTag(node, 'universal', TAG.INTEGER, false);
  if (content.length === 0) fail('INTEGER has no contents');
  if (!options.lenient && content.length > 1) {
    const [b0, b1] = [content[0]!, content[1]!];
    if ((b0 === 0x00 && b1 < 0x80) || (b0 === 0xff && b1 >= 0x80)) fail('INTEGER is not in its shortest form');
  }
  const unsigned = BigInt(`0x${content.toString('hex')}`);
  return (content[0]! & 0x80) === 0 ? unsigned : unsigned - (1n << BigInt(8 * content.length));
}

export function readBoolean(node: Asn1Node): boolean {
  const { content } = expectTag(node, 'universal', TAG.BOOLEAN, false);
  if (content.length !== 1 || (content[0] !== 0x00 && content[0] !== 0xff)) fail('BOOLEAN must be one byte 00 or FF');
  return content[0] === 0xff;
}

export function readNull(node: Asn1Node): null {
  if (expectTag(node, 'universal', TAG.NULL, false).content.length !== 0) fail('NULL must be empty');
  return null;
}

export function readOctetString(node: Asn1Node): Buffer {
  return expectTag(node, 'universal', TAG.OCTET_STRING, false).content;
}

export function readBitString(node: Asn1Node, options: ReadOptions = {}): { bytes: Buffer; unusedBits: number } {
  const { content } = expectTag(node, 'universal', TAG.BIT_STRING, false);
  if (content.length === 0) fail('BIT STRING has no unused-bits byte');
  const unusedBits = content[0]!;
  const bytes = content.subarray(1);
  if (unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) fail(`BIT STRING has a bad unused-bit count ${unusedBits}`);
  if (!options.lenient && bytes.length > 0 && (bytes[bytes.length - 1]! & ((1 << unusedBits) - 1)) !== 0) {
    fail('BIT STRING unused bits are not zero');
  }
  return { bytes, unusedBits };
}

export function readOid(node: Asn1Node): string {
  const { content } = expectTag(node, 'universal', TAG.OID, false);
  if (content.length === 0) fail('OBJECT IDENTIFIER has no contents');
  if ((content[content.length - 1]! & 0x80) !== 0) fail('OBJECT IDENTIFIER ends inside a sub-identifier');
  const values: bigint[] = [];
  let value = 0n;
  let startOfGroup = true;
  for (const b of content) {
    if (startOfGroup && b === 0x80) fail('OBJECT IDENTIFIER sub-identifier has a redundant leading group');
    value = (value << 7n) | BigInt(b & 0x7f);
    startOfGroup = (b & 0x80) === 0;
    if (startOfGroup) {
      values.push(value);
      value = 0n;
    }
  }
  const head = values[0]!;
  const [a, b] = head < 40n ? [0n, head] : head < 80n ? [1n, head - 40n] : [2n, head - 80n];
  return [a, b, ...values.slice(1)].join('.');
}

export function readString(node: Asn1Node): string {
  if (node.tagClass !== 'universal') fail(`expected a string, found ${describe(node.tagClass, node.tag)}`);
  const { content } = node;
  switch (node.tag) {
    case TAG.UTF8_STRING: {
      const text = content.toString('utf8');
      if (!Buffer.from(text, 'utf8').equals(content)) fail('UTF8String is not valid UTF-8');
      return text;
    }
    case TAG.PRINTABLE_STRING: {
      const text = content.toString('latin1');
      if (!PRINTABLE.test(text)) fail('PrintableString has characters outside its set');
      return text;
    }
    case TAG.IA5_STRING: {
      const text = content.toString('latin1');
      if (!IA5.test(text)) fail('IA5String has characters outside ASCII');
      return text;
    }
    default:
      return fail(`expected a string, found ${describe(node.tagClass, node.tag)}`);
  }
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/;

export function readTime(node: Asn1Node): Date {
  if (node.tagClass !== 'universal' || (node.tag !== TAG.UTC_TIME && node.tag !== TAG.GENERALIZED_TIME)) {
    fail(`expected a time, found ${describe(node.tagClass, node.tag)}`);
  }
  const text = node.content.toString('latin1');
  const match = (node.tag === TAG.UTC_TIME ? UTC_TIME : GENERALIZED_TIME).exec(text);
  if (match === null) fail(`${describe(node.tagClass, node.tag)} "${text}" is not in DER form`);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fullYear = node.tag === TAG.UTC_TIME ? (year < 50 ? 2000 + year : 1900 + year) : year;
  const millis = match[7] === undefined ? 0 : Math.floor(Number(`0.${match[7]}`) * 1000);
  const date = new Date(Date.UTC(fullYear, month - 1, day, hour, minute, second, millis));
  if (fullYear < 100) date.setUTCFullYear(fullYear);
  if (
    date.getUTCFullYear() !== fullYear || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day ||
    date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second
  ) {
    fail(`${describe(node.tagClass, node.tag)} "${text}" is not a real date`);
  }
  return date;
}

/** DER bytes from PEM text with the given label (e.g. "PUBLIC KEY"); null when no such block. */
export function pemToDer(text: string, label: string): Buffer | null {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`-----BEGIN ${escaped}-----([\\s\\S]*?)-----END ${escaped}-----`).exec(text);
  if (match === null) return null;
  const body = match[1]!.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) fail(`PEM ${label} body is not base64`);
  return Buffer.from(body, 'base64');
}

export function derToPem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
