// The protobuf wire format, as much of it as writing an ONNX file needs (and reading one back in
// tests): varints, length-delimited fields, fixed32/fixed64 and packed repeated scalars. A message is
// built bottom-up: a nested message is finished first, then written as a length-delimited field.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** Accumulates the encoded fields of one message. */
export class ProtoWriter {
  readonly #chunks: Uint8Array[] = [];
  #scratch: number[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  #flushScratch(): void {
    if (this.#scratch.length === 0) return;
    this.#chunks.push(Uint8Array.from(this.#scratch));
    this.#scratch = [];
  }

  #byte(b: number): void {
    this.#scratch.push(b);
    this.#length++;
  }

  #raw(bytes: Uint8Array): void {
    this.#flushScratch();
    this.#chunks.push(bytes);
    this.#length += bytes.byteLength;
  }

  #tag(field: number, wire: number): void {
    this.#rawVarint(BigInt(field) << 3n | BigInt(wire));
  }

  /** int64/uint64 varint; negative numbers take ten bytes (two's complement), as protobuf says */
  #rawVarint(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.#byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#byte(Number(v));
  }

  /** int32, int64, uint64, enum and bool fields */
  varint(field: number, value: number | bigint | boolean): this {
    this.#tag(field, WIRE_VARINT);
    this.#rawVarint(typeof value === 'bigint' ? value : BigInt(typeof value === 'boolean' ? Number(value) : checkInt(value)));
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, WIRE_LEN);
    this.#rawVarint(BigInt(value.byteLength));
    this.#raw(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    this.#tag(field, WIRE_LEN);
    this.#rawVarint(BigInt(value.length));
    for (const c of value.finishChunks()) this.#raw(c);
    return this;
  }

  float(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#raw(b);
    return this;
  }

  double(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.#raw(b);
    return this;
  }

  fixed32(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    this.#raw(b);
    return this;
  }

  fixed64(field: number, value: bigint): this {
    this.#tag(field, WIRE_FIXED64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    this.#raw(b);
    return this;
  }

  /** packed repeated int32/int64 (an empty list writes nothing, as protobuf does) */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) inner.#rawVarint(typeof v === 'bigint' ? v : BigInt(checkInt(v)));
    return this.#packed(field, inner);
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    this.#tag(field, WIRE_LEN);
    this.#rawVarint(BigInt(b.byteLength));
    this.#raw(b);
    return this;
  }

  #packed(field: number, inner: ProtoWriter): this {
    this.#tag(field, WIRE_LEN);
    this.#rawVarint(BigInt(inner.length));
    for (const c of inner.finishChunks()) this.#raw(c);
    return this;
  }

  /** the encoded pieces, in order (large byte fields are not copied) */
  finishChunks(): Uint8Array[] {
    this.#flushScratch();
    return this.#chunks;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const c of this.finishChunks()) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

function checkInt(v: number): number {
  if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf varint: ${v} is not a safe integer`);
  return v;
}

/** One field as read back: varints and fixed values as bigint, length-delimited as bytes. */
export interface ProtoField {
  field: number;
  wire: number;
  value: bigint | Uint8Array;
}

/** Splits one message into its fields (the reverse of ProtoWriter, for checks and tests). */
export function readFields(buf: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= buf.byteLength) throw new RangeError('protobuf: truncated varint');
      const b = buf[at++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new RangeError('protobuf: varint too long');
    }
  };
  while (at < buf.byteLength) {
    const tag = varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let value: bigint | Uint8Array;
    if (wire === WIRE_VARINT) value = varint();
    else if (wire === WIRE_FIXED64) {
      value = view.getBigUint64(at, true);
      at += 8;
    } else if (wire === WIRE_FIXED32) {
      value = BigInt(view.getUint32(at, true));
      at += 4;
    } else if (wire === WIRE_LEN) {
      const n = Number(varint());
      if (at + n > buf.byteLength) throw new RangeError('protobuf: truncated field');
      value = buf.subarray(at, at + n);
      at += n;
    } else throw new RangeError(`protobuf: unsupported wire type ${wire}`);
    out.push({ field, wire, value });
  }
  return out;
}

/** Reads a packed run of varints (as signed 64-bit). */
export function readPackedVarints(buf: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let at = 0;
  while (at < buf.byteLength) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[at++];
      if (b === undefined) throw new RangeError('protobuf: truncated packed varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    out.push(BigInt.asIntN(64, result));
  }
  return out;
}
