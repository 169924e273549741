// Converts the NHWC ops of a TF.js graph (the MobileNet/CenterNet family: fused convolutions,
// depthwise convolutions, element-wise arithmetic, Mean, ResizeBilinear, ConcatV2, MaxPool) into
// ONNX. The input is transposed to NCHW once; every 4-D value after that is NCHW and convolution
// weights are rearranged (HWIO → OIHW) at conversion time, so no Transpose runs per layer. Shapes
// are tracked as we go: padding is written out explicitly (TF's SAME puts the odd pixel at the
// end) and a size the graph cannot take fails here rather than in the runtime.
import { ModelInputSizeInvalid, ModelOpUnsupported } from './errors.ts';
import { DataType, GraphBuilder, floatTensor, int64Tensor, type Attr } from './onnx/onnxModel.ts';
import { attrBool, attrInt, attrInts, attrString, attrStrings, stripPort, type TfjsGraph, type TfjsNode, type TfjsWeight } from './tfjsGraph.ts';

export interface GraphInput {
  /** the name the ONNX input gets */
  onnxName: string;
  /** NHWC, batch included */
  shape: readonly [number, number, number, number];
}

export interface TfToOnnxOptions {
  /** the TF Placeholder nodes to feed, by node name */
  inputs: Record<string, GraphInput>;
  /** new input size over the graph's own: constant ResizeBilinear sizes are scaled by it */
  resizeScale?: number;
}

/** A converted value: its ONNX name and (NCHW for 4-D) shape. */
export interface OnnxValue {
  name: string;
  shape: number[];
}

/** NHWC axis → NCHW axis */
const NCHW_AXIS = [0, 2, 3, 1];

export class TfToOnnx {
  readonly builder: GraphBuilder;
  readonly #graph: TfjsGraph;
  readonly #opts: TfToOnnxOptions;
  readonly #done = new Map<string, OnnxValue>();

  constructor(graph: TfjsGraph, name: string, opts: TfToOnnxOptions) {
    this.#graph = graph;
    this.#opts = opts;
    this.builder = new GraphBuilder(name);
    for (const [tfName, input] of Object.entries(opts.inputs)) {
      const [n, h, w, c] = input.shape;
      this.builder.input({ name: input.onnxName, elemType: DataType.FLOAT, shape: [...input.shape] });
      const nchw = this.builder.op('Transpose', [input.onnxName], `${input.onnxName}_nchw`, { perm: { ints: [0, 3, 1, 2] } });
      this.#done.set(tfName, { name: nchw, shape: [n, c, h, w] });
    }
  }

  /** converts `tfName` and everything it depends on (once); returns its ONNX value */
  value(tfName: string): OnnxValue {
    const key = stripPort(tfName);
    if (key !== tfName && !tfName.endsWith(':0')) throw ModelOpUnsupported(`output ${tfName} of a multi-output op`);
    const done = this.#done.get(key);
    if (done) return done;
    const node = this.#graph.node(key);
    const v = this.#convert(node);
    this.#done.set(key, v);
    return v;
  }

  #convert(n: TfjsNode): OnnxValue {
    switch (n.op) {
      case 'Identity':
        return this.value(input(n, 0));
      case 'Placeholder':
        throw ModelOpUnsupported(`graph input ${n.name} was not given a shape`);
      case 'Const':
        return this.#constant(n.name);
      case 'Conv2D':
      case '_FusedConv2D':
        return this.#conv(n, false);
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative':
        return this.#conv(n, true);
      case 'Add':
      case 'AddV2':
        return this.#binary(n, 'Add');
      case 'Sub':
        return this.#binary(n, 'Sub');
      case 'Mul':
        return this.#binary(n, 'Mul');
      case 'RealDiv':
        return this.#binary(n, 'Div');
      case 'Relu':
        return this.#unary(n, 'Relu');
      case 'Sigmoid':
        return this.#unary(n, 'Sigmoid');
      case 'Relu6': {
        const x = this.value(input(n, 0));
        return { name: this.#relu6(x.name, n.name), shape: x.shape };
      }
      case 'Mean':
        return this.#mean(n);
      case 'ResizeBilinear':
        return this.#resize(n);
      case 'ConcatV2':
        return this.#concat(n);
      case 'MaxPool':
        return this.#maxPool(n);
      default:
        throw ModelOpUnsupported(`op ${n.op} (node ${n.name}) is not supported by the converter`, { field: n.name });
    }
  }

  #constant(name: string): OnnxValue {
    const w = this.#graph.weight(name);
    if (w.dtype !== 'float32') throw ModelOpUnsupported(`constant ${name} of type ${w.dtype} used as a value`);
    // a per-channel vector broadcasts over NHWC's last axis; in NCHW it has to stand on axis 1
    const shape = w.shape.length === 1 && w.shape[0]! > 1 ? [w.shape[0]!, 1, 1] : w.shape;
    const onnx = this.builder.constant(name, (nm) => floatTensor(nm, shape, w.data as Float32Array));
    return { name: onnx, shape };
  }

  #unary(n: TfjsNode, op: string): OnnxValue {
    const x = this.value(input(n, 0));
    return { name: this.builder.op(op, [x.name], n.name), shape: x.shape };
  }

  #relu6(x: string, hint: string): string {
    const lo = this.builder.constant(`${hint}/min`, (nm) => floatTensor(nm, [], [0]));
    const hi = this.builder.constant(`${hint}/max`, (nm) => floatTensor(nm, [], [6]));
    return this.builder.op('Clip', [x, lo, hi], hint);
  }

  #binary(n: TfjsNode, op: string): OnnxValue {
    const a = this.value(input(n, 0));
    const b = this.value(input(n, 1));
    return { name: this.builder.op(op, [a.name, b.name], n.name), shape: broadcast(a.shape, b.shape, n) };
  }

  #conv(n: TfjsNode, depthwise: boolean): OnnxValue {
    requireNhwc(n);
    const x = this.value(input(n, 0));
    const w = this.#graph.weight(input(n, 1));
    const [kh, kw, cin, cout] = w.shape as [number, number, number, number];
    const [, c, h, wd] = x.shape as [number, number, number, number];
    if (c !== cin && !depthwise) throw ModelOpUnsupported(`${n.name}: input has ${c} channels, the filter wants ${cin}`);
    if (depthwise && c !== cin) throw ModelOpUnsupported(`${n.name}: depthwise input has ${c} channels, the filter wants ${cin}`);
    const strides = spatial(attrInts(n, 'strides'), n);
    const dilations = spatial(attrInts(n, 'dilations'), n, [1, 1]);
    const { pads, out } = padding(n, [h, wd], [kh, kw], strides, dilations);
    const outC = depthwise ? cin * cout : cout;
    const weight = this.builder.constant(`${n.name}/W`, (nm) => floatTensor(nm, [outC, depthwise ? 1 : cin, kh, kw], depthwise ? depthwiseToOihw(w) : hwioToOihw(w)));
    const inputs = [x.name, weight];

    const fused = n.op.startsWith('Fused') || n.op.startsWith('_Fused') ? attrStrings(n, 'fused_ops') : [];
    let activation: string | undefined;
    for (const f of fused) {
      if (f === 'BiasAdd') {
        const b = this.#graph.weight(input(n, 2));
        inputs.push(this.builder.constant(`${n.name}/B`, (nm) => floatTensor(nm, [outC], b.data as Float32Array)));
      } else if (f === 'Relu' || f === 'Relu6') activation = f;
      else throw ModelOpUnsupported(`${n.name}: fused op ${f} is not supported`);
    }
    const attrs: Record<string, Attr> = { kernel_shape: { ints: [kh, kw] }, strides: { ints: strides }, dilations: { ints: dilations }, pads: { ints: pads } };
    if (depthwise) attrs['group'] = { i: cin };
    const shape = [x.shape[0]!, outC, out[0], out[1]];
    if (!activation) return { name: this.builder.op('Conv', inputs, n.name, attrs), shape };
    const conv = this.builder.op('Conv', inputs, `${n.name}/conv`, attrs);
    return { name: activation === 'Relu' ? this.builder.op('Relu', [conv], n.name) : this.#relu6(conv, n.name), shape };
  }

  #mean(n: TfjsNode): OnnxValue {
    const x = this.value(input(n, 0));
    const axes = Array.from(this.#graph.weight(input(n, 1)).data, (a) => (a < 0 ? a + 4 : a));
    if (x.shape.length !== 4) throw ModelOpUnsupported(`${n.name}: Mean of a ${x.shape.length}-D value`);
    const keep = attrBool(n, 'keep_dims');
    const onnxAxes = axes.map((a) => NCHW_AXIS[a]!);
    // mean over height and width with dims kept is exactly a global average pool, which runs faster
    if (keep && onnxAxes.length === 2 && onnxAxes.includes(2) && onnxAxes.includes(3)) {
      return { name: this.builder.op('GlobalAveragePool', [x.name], n.name), shape: [x.shape[0]!, x.shape[1]!, 1, 1] };
    }
    throw ModelOpUnsupported(`${n.name}: Mean over axes ${axes} (keep_dims ${keep}) is not supported`);
  }

  #resize(n: TfjsNode): OnnxValue {
    const x = this.value(input(n, 0));
    const size = Array.from(this.#graph.weight(input(n, 1)).data);
    const scale = this.#opts.resizeScale ?? 1;
    const target = size.map((s) => s * scale);
    if (!target.every(Number.isInteger)) throw ModelInputSizeInvalid(`${n.name}: resize to ${size} does not scale to whole pixels at ×${scale}`);
    const mode = attrBool(n, 'align_corners') ? 'align_corners' : attrBool(n, 'half_pixel_centers') ? 'half_pixel' : 'asymmetric';
    const shape = [x.shape[0]!, x.shape[1]!, target[0]!, target[1]!];
    const sizes = this.builder.constant(`${n.name}/sizes`, (nm) => int64Tensor(nm, [4], shape));
    const name = this.builder.op('Resize', [x.name, '', '', sizes], n.name, {
      mode: { s: 'linear' },
      coordinate_transformation_mode: { s: mode },
    });
    return { name, shape };
  }

  #concat(n: TfjsNode): OnnxValue {
    const count = attrInt(n, 'N') ?? n.inputs.length - 1;
    const parts = n.inputs.slice(0, count).map((i) => this.value(i));
    const axisRaw = this.#graph.weight(input(n, count)).data[0]!;
    const rank = parts[0]!.shape.length;
    if (rank !== 4) throw ModelOpUnsupported(`${n.name}: concat of ${rank}-D values`);
    const axis = NCHW_AXIS[axisRaw < 0 ? axisRaw + 4 : axisRaw]!;
    const shape = [...parts[0]!.shape];
    shape[axis] = 0;
    for (const p of parts) {
      for (let d = 0; d < 4; d++) {
        if (d !== axis && p.shape[d] !== parts[0]!.shape[d]) {
          throw ModelInputSizeInvalid(`${n.name}: concatenated values differ in shape (${parts.map((q) => q.shape.join('×')).join(', ')}); the input size does not suit this graph`);
        }
      }
      shape[axis]! += p.shape[axis]!;
    }
    return { name: this.builder.op('Concat', parts.map((p) => p.name), n.name, { axis: { i: axis } }), shape };
  }

  #maxPool(n: TfjsNode): OnnxValue {
    requireNhwc(n);
    const x = this.value(input(n, 0));
    const k = spatial(attrInts(n, 'ksize'), n);
    const s = spatial(attrInts(n, 'strides'), n);
    const { pads, out } = padding(n, [x.shape[2]!, x.shape[3]!], k, s, [1, 1]);
    const name = this.builder.op('MaxPool', [x.name], n.name, { kernel_shape: { ints: k }, strides: { ints: s }, pads: { ints: pads } });
    return { name, shape: [x.shape[0]!, x.shape[1]!, out[0], out[1]] };
  }
}

function input(n: TfjsNode, i: number): string {
  const v = n.inputs[i];
  if (v === undefined) throw ModelOpUnsupported(`${n.name} (${n.op}) has no input ${i}`);
  return v;
}

function requireNhwc(n: TfjsNode): void {
  const f = attrString(n, 'data_format') ?? 'NHWC';
  if (f !== 'NHWC') throw ModelOpUnsupported(`${n.name}: data_format ${f}`);
}

/** [1, h, w, 1] → [h, w] */
function spatial(v: number[], n: TfjsNode, fallback?: [number, number]): [number, number] {
  if (v.length === 0 && fallback) return fallback;
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw ModelOpUnsupported(`${n.name}: strides/ksize/dilations ${JSON.stringify(v)}`);
  return [v[1]!, v[2]!];
}

/** TF padding → ONNX pads [top, left, bottom, right] and the output size */
function padding(n: TfjsNode, size: [number, number], k: [number, number], s: [number, number], d: [number, number]): { pads: number[]; out: [number, number] } {
  const mode = attrString(n, 'padding') ?? 'VALID';
  const begin = [0, 0];
  const end = [0, 0];
  const out: [number, number] = [0, 0];
  for (let i = 0; i < 2; i++) {
    const eff = (k[i]! - 1) * d[i]! + 1;
    if (mode === 'SAME') {
      const o = Math.ceil(size[i]! / s[i]!);
      out[i] = o;
      const total = Math.max((o - 1) * s[i]! + eff - size[i]!, 0);
      begin[i] = Math.floor(total / 2);
      end[i] = total - begin[i]!;
    } else if (mode === 'VALID') {
      out[i] = Math.floor((size[i]! - eff) / s[i]!) + 1;
    } else if (mode === 'EXPLICIT') {
      const p = attrInts(n, 'explicit_paddings');
      begin[i] = p[2 + i * 2] ?? 0;
      end[i] = p[3 + i * 2] ?? 0;
      out[i] = Math.floor((size[i]! + begin[i]! + end[i]! - eff) / s[i]!) + 1;
    } else throw ModelOpUnsupported(`${n.name}: padding ${mode}`);
    if (out[i]! <= 0) throw ModelInputSizeInvalid(`${n.name}: the input is too small for this graph`);
  }
  return { pads: [begin[0]!, begin[1]!, end[0]!, end[1]!], out };
}

function broadcast(a: number[], b: number[], n: TfjsNode): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw ModelInputSizeInvalid(`${n.name}: shapes ${a.join('×')} and ${b.join('×')} do not broadcast`);
    out.push(Math.max(x, y));
  }
  return out;
}

/** TF conv filter [kh, kw, in, out] → ONNX [out, in, kh, kw] */
function hwioToOihw(w: TfjsWeight): Float32Array {
  const [kh, kw, ci, co] = w.shape as [number, number, number, number];
  const src = w.data as Float32Array;
  const dst = new Float32Array(src.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) dst[((o * ci + i) * kh + y) * kw + x] = src[((y * kw + x) * ci + i) * co + o]!;
  return dst;
}

/** TF depthwise filter [kh, kw, in, mult] → ONNX grouped [in·mult, 1, kh, kw] (output i·mult + m) */
function depthwiseToOihw(w: TfjsWeight): Float32Array {
  const [kh, kw, ci, mult] = w.shape as [number, number, number, number];
  const src = w.data as Float32Array;
  const dst = new Float32Array(src.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let m = 0; m < mult; m++) dst[((i * mult + m) * kh + y) * kw + x] = src[((y * kw + x) * ci + i) * mult + m]!;
  return dst;
}
