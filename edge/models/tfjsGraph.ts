// Reads a TF.js graph model (model.json + binary weight shards): the nodes of its GraphDef, their
// attributes decoded, and its weights as float32/int32 arrays (float16 and uint8/uint16 affine
// quantization undone). Only what a converter needs; nothing is executed here.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ModelFormatInvalid } from './errors.ts';

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

/** The files of a model, as TF.js's own loaders see them (tf.io.fromMemory takes these). */
export interface TfjsArtifacts {
  modelJson: {
    format?: string;
    generatedBy?: string;
    convertedBy?: string;
    signature?: unknown;
    modelTopology: { node: RawNode[]; [k: string]: unknown };
    weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[];
    [k: string]: unknown;
  };
  weightSpecs: TfjsWeightSpec[];
  /** every shard, concatenated in manifest order */
  weightData: ArrayBuffer;
}

interface RawNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, RawAttr>;
}

interface RawAttr {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: unknown;
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[]; type?: string[] };
}

export type WeightData = Float32Array | Int32Array | Uint8Array;

export interface TfjsWeight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: WeightData;
}

export interface TfjsNode {
  name: string;
  op: string;
  /** data inputs as `name` or `name:k` (control inputs `^x` left out) */
  inputs: string[];
  attr: Record<string, RawAttr>;
}

export async function readTfjsArtifacts(modelJsonPath: string): Promise<TfjsArtifacts> {
  let modelJson: TfjsArtifacts['modelJson'];
  try {
    modelJson = JSON.parse(await readFile(modelJsonPath, 'utf8'));
  } catch (err) {
    throw ModelFormatInvalid(`${modelJsonPath}: ${(err as Error).message}`, { cause: err, field: 'model.json' });
  }
  if (!Array.isArray(modelJson?.modelTopology?.node) || !Array.isArray(modelJson.weightsManifest)) {
    throw ModelFormatInvalid(`${modelJsonPath}: not a TF.js graph model (no modelTopology.node or weightsManifest)`);
  }
  const dir = dirname(modelJsonPath);
  const shards: Buffer[] = [];
  const weightSpecs: TfjsWeightSpec[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const p of group.paths) {
      try {
        shards.push(await readFile(join(dir, p)));
      } catch (err) {
        throw ModelFormatInvalid(`weight shard ${p} of ${modelJsonPath}: ${(err as Error).message}`, { cause: err });
      }
    }
    weightSpecs.push(...group.weights);
  }
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return { modelJson, weightSpecs, weightData };
}

export class TfjsGraph {
  readonly nodes: TfjsNode[];
  readonly byName: ReadonlyMap<string, TfjsNode>;
  readonly weights: ReadonlyMap<string, TfjsWeight>;

  constructor(artifacts: TfjsArtifacts) {
    this.nodes = artifacts.modelJson.modelTopology.node.map((n) => ({
      name: n.name,
      op: n.op,
      inputs: (n.input ?? []).filter((i) => !i.startsWith('^')),
      attr: n.attr ?? {},
    }));
    this.byName = new Map(this.nodes.map((n) => [n.name, n]));
    this.weights = decodeWeights(artifacts.weightSpecs, artifacts.weightData);
  }

  static async load(modelJsonPath: string): Promise<TfjsGraph> {
    return new TfjsGraph(await readTfjsArtifacts(modelJsonPath));
  }

  node(name: string): TfjsNode {
    const n = this.byName.get(stripPort(name));
    if (!n) throw ModelFormatInvalid(`the graph has no node ${name}`);
    return n;
  }

  /** the weight a Const node holds (weights are keyed by the Const node's name) */
  weight(name: string): TfjsWeight {
    const w = this.weights.get(stripPort(name));
    if (!w) throw ModelFormatInvalid(`no weight for ${name} (is it a Const node?)`);
    return w;
  }

  isConst(name: string): boolean {
    return this.weights.has(stripPort(name));
  }
}

/** `node:1` → `node` */
export function stripPort(input: string): string {
  const i = input.lastIndexOf(':');
  return i > 0 && /^\d+$/.test(input.slice(i + 1)) ? input.slice(0, i) : input;
}

function decodeWeights(specs: TfjsWeightSpec[], data: ArrayBuffer): Map<string, TfjsWeight> {
  const out = new Map<string, TfjsWeight>();
  const view = new DataView(data);
  let at = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const q = s.quantization;
    const bytesPer = q ? ({ float16: 2, uint16: 2, uint8: 1 } as Record<string, number>)[q.dtype] : ({ float32: 4, int32: 4, bool: 1 } as Record<string, number>)[s.dtype];
    if (bytesPer === undefined) throw ModelFormatInvalid(`weight ${s.name}: unsupported dtype ${q?.dtype ?? s.dtype}`);
    if (at + n * bytesPer > data.byteLength) throw ModelFormatInvalid(`weight ${s.name} runs past the end of the weight data`);
    let values: WeightData;
    if (q) {
      if (s.dtype !== 'float32' && s.dtype !== 'int32') throw ModelFormatInvalid(`weight ${s.name}: quantized ${s.dtype}`);
      const f = new Float32Array(n);
      if (q.dtype === 'float16') for (let i = 0; i < n; i++) f[i] = halfToFloat(view.getUint16(at + i * 2, true));
      else {
        const scale = q.scale ?? 1;
        const min = q.min ?? 0;
        for (let i = 0; i < n; i++) f[i] = (q.dtype === 'uint8' ? view.getUint8(at + i) : view.getUint16(at + i * 2, true)) * scale + min;
      }
      values = s.dtype === 'int32' ? Int32Array.from(f, Math.round) : f;
    } else if (s.dtype === 'float32') values = new Float32Array(data.slice(at, at + n * 4));
    else if (s.dtype === 'int32') values = new Int32Array(data.slice(at, at + n * 4));
    else values = new Uint8Array(data.slice(at, at + n));
    at += n * bytesPer;
    out.set(s.name, { name: s.name, shape: s.shape, dtype: s.dtype as TfjsWeight['dtype'], data: values });
  }
  return out;
}

/** IEEE 754 binary16 → number */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// Attribute accessors: TF.js keeps GraphDef attrs as JSON, strings base64, int64 as decimal strings.

export function attrString(n: TfjsNode, key: string): string | undefined {
  const s = n.attr[key]?.s;
  return s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');
}

export function attrStrings(n: TfjsNode, key: string): string[] {
  return (n.attr[key]?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
}

export function attrInt(n: TfjsNode, key: string): number | undefined {
  const i = n.attr[key]?.i;
  return i === undefined ? undefined : Number(i);
}

export function attrInts(n: TfjsNode, key: string): number[] {
  return (n.attr[key]?.list?.i ?? []).map(Number);
}

export function attrBool(n: TfjsNode, key: string): boolean {
  return n.attr[key]?.b === true;
}
