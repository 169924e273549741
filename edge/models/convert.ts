// The default detector: the CenterNet (MobileNetV3) TF.js graph that ships with
// @vladmandic/human, converted to ONNX. The network is kept as it is up to its two heads — the
// class heatmap after its sigmoid (80 COCO classes) and the box-edge head (left, top, right, bottom
// distances in input pixels) at a quarter of the input resolution. The graph's own tail (TopK over
// every class and cell, gathers, fixed 100 boxes) is replaced: the ONNX model adds only a 3×3
// max-pool peak mask, and picking and decoding happen in JS (centernet.ts), where per-class limits
// and the class map are cheap to apply.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelInputSizeInvalid } from './errors.ts';
import { DataType } from './onnx/onnxModel.ts';
import { TfToOnnx } from './tfToOnnx.ts';
import { TfjsGraph } from './tfjsGraph.ts';

/** Where the TF graph's parts are, by node name (this graph's, as exported by mobilenetv3_centernet). */
const TF = {
  input: 'tower_0/images',
  heatmap: 'tower_0/keypoints',
  /** the box head, already multiplied by its scale (16) */
  edges: 'tower_0/wh',
} as const;

/** the graph's own input size */
export const CENTERNET_NATIVE_SIZE = 512;
/** heatmap cells per input pixel: one cell every 4 pixels */
export const CENTERNET_STRIDE = 4;
export const CENTERNET_CLASSES = 80;

/** Names in the ONNX model. */
export const CENTERNET_IO = {
  input: 'images',
  /** [1, 80, S/4, S/4]: the heatmap where a cell is its 3×3 neighbourhood's maximum, else 0 */
  peaks: 'peaks',
  /** [1, 4, S/4, S/4]: distances from the cell centre to the box's left, top, right, bottom edge, input pixels */
  edges: 'edges',
  /** [1, 80, S/4, S/4]: the sigmoid heatmap itself (only with `heatmapOutput`, for checks) */
  heatmap: 'heatmap',
} as const;

export interface ConvertCenternetOptions {
  /** model.json of the TF.js graph; default: the one in @vladmandic/human */
  modelJson?: string;
  /** square input side in pixels, a multiple of 32 (default 512) */
  inputSize?: number;
  /** also output the raw heatmap (for comparing with TF.js) */
  heatmapOutput?: boolean;
}

export interface ConvertedCenternet {
  onnx: Uint8Array;
  inputSize: number;
  /** heatmap side, inputSize / 4 */
  gridSize: number;
}

/** model.json of the CenterNet that @vladmandic/human ships */
export function defaultCenternetJson(): string {
  const entry = fileURLToPath(import.meta.resolve('@vladmandic/human'));
  return join(dirname(dirname(entry)), 'models', 'centernet.json');
}

export function checkInputSize(size: number): void {
  if (!Number.isInteger(size) || size % 32 !== 0 || size < 128 || size > 1024) {
    throw ModelInputSizeInvalid(`input size ${size}: use a multiple of 32 from 128 to 1024 (e.g. 320, 384, 416, 512)`, { field: 'inputSize' });
  }
}

export async function convertCenternet(opts: ConvertCenternetOptions = {}): Promise<ConvertedCenternet> {
  const graph = await TfjsGraph.load(opts.modelJson ?? defaultCenternetJson());
  return convertCenternetGraph(graph, opts);
}

export function convertCenternetGraph(graph: TfjsGraph, opts: ConvertCenternetOptions = {}): ConvertedCenternet {
  const size = opts.inputSize ?? CENTERNET_NATIVE_SIZE;
  checkInputSize(size);
  const conv = new TfToOnnx(graph, 'centernet_mobilenetv3', {
    inputs: { [TF.input]: { onnxName: CENTERNET_IO.input, shape: [1, size, size, 3] } },
    resizeScale: size / CENTERNET_NATIVE_SIZE,
  });
  const g = conv.builder;
  const heat = conv.value(TF.heatmap);
  const edges = conv.value(TF.edges);
  const grid = size / CENTERNET_STRIDE;
  const want = [1, CENTERNET_CLASSES, grid, grid];
  if (heat.shape.join() !== want.join()) throw ModelInputSizeInvalid(`heatmap came out ${heat.shape.join('×')}, expected ${want.join('×')}`);

  // the peak mask: a cell survives where it equals the maximum of its 3×3 neighbourhood
  const pooled = g.op('MaxPool', [heat.name], 'peaks/max3x3', { kernel_shape: { ints: [3, 3] }, strides: { ints: [1, 1] }, pads: { ints: [1, 1, 1, 1] } });
  const isPeak = g.op('Equal', [heat.name, pooled], 'peaks/equal');
  const mask = g.op('Cast', [isPeak], 'peaks/mask', { to: { i: DataType.FLOAT } });
  g.node('Mul', [heat.name, mask], [CENTERNET_IO.peaks]);
  g.node('Identity', [edges.name], [CENTERNET_IO.edges]);
  g.output({ name: CENTERNET_IO.peaks, elemType: DataType.FLOAT, shape: want });
  g.output({ name: CENTERNET_IO.edges, elemType: DataType.FLOAT, shape: [1, 4, grid, grid] });
  if (opts.heatmapOutput) {
    g.node('Identity', [heat.name], [CENTERNET_IO.heatmap]);
    g.output({ name: CENTERNET_IO.heatmap, elemType: DataType.FLOAT, shape: want });
  }
  const onnx = g.toModel({
    irVersion: 7,
    opset: 13,
    producerName: 'eseal-edge convert',
    docString: `CenterNet MobileNetV3 (COCO, 80 classes) from @vladmandic/human, input ${size}×${size} RGB 0…255 NHWC`,
    metadata: { decoder: 'centernet', inputSize: String(size), stride: String(CENTERNET_STRIDE) },
  });
  return { onnx, inputSize: size, gridSize: grid };
}
