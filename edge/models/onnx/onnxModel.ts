// ONNX messages (onnx.proto3 field numbers) written with our own protobuf writer: ModelProto,
// GraphProto, NodeProto, AttributeProto, TensorProto and ValueInfoProto. Enough for a converted
// inference graph: dense tensors in raw_data, static or named dimensions, one default-domain opset.
import { ProtoWriter } from './protobuf.ts';

/** TensorProto.DataType values we write */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export interface Tensor {
  name: string;
  dims: readonly number[];
  dataType: DataTypeCode;
  /** little-endian element bytes */
  raw: Uint8Array;
}

export function floatTensor(name: string, dims: readonly number[], data: Float32Array | readonly number[]): Tensor {
  const f = data instanceof Float32Array ? data : Float32Array.from(data);
  checkCount(name, dims, f.length);
  return { name, dims, dataType: DataType.FLOAT, raw: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
}

export function int64Tensor(name: string, dims: readonly number[], data: readonly number[]): Tensor {
  checkCount(name, dims, data.length);
  const b = BigInt64Array.from(data, (v) => BigInt(v));
  return { name, dims, dataType: DataType.INT64, raw: new Uint8Array(b.buffer) };
}

function checkCount(name: string, dims: readonly number[], n: number): void {
  const want = dims.reduce((a, b) => a * b, 1);
  if (want !== n) throw new RangeError(`tensor ${name}: dims ${JSON.stringify(dims)} hold ${want} values, got ${n}`);
}

/** One attribute value, its ONNX type said explicitly (an integer-valued float is still a float). */
export type Attr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { t: Tensor };

export interface Node {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attrs?: Record<string, Attr>;
}

/** A dimension: a size, or a name for a free one (e.g. 'batch'). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: DataTypeCode;
  shape: readonly Dim[];
}

export interface ModelOptions {
  irVersion?: number;
  opset?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly #names = new Set<string>();
  #counter = 0;

  constructor(readonly name: string) {}

  /** a value name not used yet, derived from `hint` */
  fresh(hint: string): string {
    let n = hint;
    while (this.#names.has(n)) n = `${hint}__${++this.#counter}`;
    this.#names.add(n);
    return n;
  }

  /** marks a name as taken (graph inputs, names carried over from the source graph) */
  claim(name: string): string {
    this.#names.add(name);
    return name;
  }

  node(op: string, inputs: readonly string[], outputs: readonly string[], attrs?: Record<string, Attr>, name?: string): void {
    for (const o of outputs) this.#names.add(o);
    this.nodes.push({ op, inputs, outputs, attrs, name: name ?? outputs[0] });
  }

  /** one-output node whose output gets a fresh name; returns it */
  op(op: string, inputs: readonly string[], hint: string, attrs?: Record<string, Attr>): string {
    const out = this.fresh(hint);
    this.node(op, inputs, [out], attrs);
    return out;
  }

  initializer(t: Tensor): string {
    this.#names.add(t.name);
    this.initializers.push(t);
    return t.name;
  }

  /** a constant as an initializer with a fresh name */
  constant(hint: string, make: (name: string) => Tensor): string {
    return this.initializer(make(this.fresh(hint)));
  }

  input(v: ValueInfo): void {
    this.claim(v.name);
    this.inputs.push(v);
  }

  output(v: ValueInfo): void {
    this.outputs.push(v);
  }

  /** the serialized ModelProto */
  toModel(opts: ModelOptions = {}): Uint8Array {
    const model = new ProtoWriter()
      .varint(1, opts.irVersion ?? 8)
      .string(2, opts.producerName ?? 'eseal-edge')
      .string(3, opts.producerVersion ?? '1');
    if (opts.docString) model.string(6, opts.docString);
    model.message(7, encodeGraph(this));
    model.message(8, new ProtoWriter().string(1, '').varint(2, opts.opset ?? 13));
    for (const [k, v] of Object.entries(opts.metadata ?? {})) model.message(14, new ProtoWriter().string(1, k).string(2, v));
    return model.finish();
  }
}

function encodeGraph(g: GraphBuilder): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  for (const v of g.inputs) w.message(11, encodeValueInfo(v));
  for (const v of g.outputs) w.message(12, encodeValueInfo(v));
  return w;
}

function encodeNode(n: Node): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const [name, a] of Object.entries(n.attrs ?? {})) w.message(5, encodeAttr(name, a));
  return w;
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_TENSOR = 4;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

function encodeAttr(name: string, a: Attr): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ('i' in a) w.varint(3, a.i).varint(20, ATTR_INT);
  else if ('f' in a) w.float(2, a.f).varint(20, ATTR_FLOAT);
  else if ('s' in a) w.string(4, a.s).varint(20, ATTR_STRING);
  else if ('ints' in a) w.packedVarints(8, a.ints).varint(20, ATTR_INTS);
  else if ('floats' in a) w.packedFloats(7, a.floats).varint(20, ATTR_FLOATS);
  else w.message(5, encodeTensor(a.t)).varint(20, ATTR_TENSOR);
  return w;
}

function encodeTensor(t: Tensor): ProtoWriter {
  return new ProtoWriter().packedVarints(1, t.dims).varint(2, t.dataType).string(8, t.name).bytes(9, t.raw);
}

function encodeValueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().varint(1, v.elemType).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}
