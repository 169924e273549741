// What the detector needs to know about an ONNX model, and the contract an operator-supplied model
// must follow.
//
// Contract for an ONNX detector:
// - one float32 image input of shape [1, S, S, 3] (layout 'nhwc') or [1, 3, S, S] ('nchw'), S =
//   `inputSize`; the frame is letterboxed into it (aspect kept, centred, padded with `padValue`)
//   and each channel fed as (pixel − mean) / std, pixel 0…255, in `channelOrder`;
// - decoder 'boxes': an output of [N, 6] or [1, N, 6] rows x1, y1, x2, y2, score (0…1), classId,
//   boxes in input pixels, after the model's own NMS (rows with a score below the threshold are
//   ignored, so padding rows with score 0 is fine);
// - decoder 'centernet': outputs 'peaks' [1, C, S/4, S/4] (class heatmap, non-zero only at 3×3
//   local maxima) and 'edges' [1, 4, S/4, S/4] (distances to left, top, right, bottom edge, input
//   pixels), as convert.ts writes them;
// - `classes` maps the model's class ids onto 'person' / 'vehicle'; any other id is dropped.
// A model is run once on a blank image when loaded: one that fails there is refused.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ObjectClass } from '../types.ts';
import { DetectorSpecInvalid } from './errors.ts';

export type DetectorDecoder = 'centernet' | 'boxes';

export interface DetectorModelSpec {
  /** the .onnx file */
  path: string;
  /** square input side, pixels */
  inputSize: number;
  /** input tensor name; default: the model's first input */
  inputName?: string;
  layout: 'nhwc' | 'nchw';
  normalization: { mean: [number, number, number]; std: [number, number, number] };
  /** default 'rgb' */
  channelOrder?: 'rgb' | 'bgr';
  /** letterbox padding, 0…255 before normalisation (default 0) */
  padValue?: number;
  decoder: DetectorDecoder;
  /** model class id → ObjectClass (keys are ids as strings) */
  classes: Record<string, ObjectClass>;
  /** a name for logs and stats (default: the file name) */
  name?: string;
}

const CLASSES: readonly string[] = ['person', 'vehicle'] satisfies ObjectClass[];

/** Checks a spec read from JSON or config; returns it typed. `field` prefixes field names in errors. */
export function checkModelSpec(raw: unknown, field = 'model'): DetectorModelSpec {
  const bad = (f: string, rule: string): never => {
    throw DetectorSpecInvalid(`${field}.${f}: ${rule}`, { field: `${field}.${f}` });
  };
  if (typeof raw !== 'object' || raw === null) return bad('', 'must be an object');
  const s = raw as Record<string, unknown>;
  if (typeof s['path'] !== 'string' || s['path'] === '') bad('path', 'must name the .onnx file');
  const size = s['inputSize'];
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 32 || size > 4096) bad('inputSize', 'must be an integer from 32 to 4096');
  if (s['inputName'] !== undefined && typeof s['inputName'] !== 'string') bad('inputName', 'must be a string');
  if (s['layout'] !== 'nhwc' && s['layout'] !== 'nchw') bad('layout', "must be 'nhwc' or 'nchw'");
  const norm = s['normalization'] as Record<string, unknown> | undefined;
  for (const k of ['mean', 'std'] as const) {
    const v = norm?.[k];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`normalization.${k}`, 'must be three numbers');
    if (k === 'std' && (v as number[]).some((x) => x === 0)) bad('normalization.std', 'must not be 0');
  }
  if (s['channelOrder'] !== undefined && s['channelOrder'] !== 'rgb' && s['channelOrder'] !== 'bgr') bad('channelOrder', "must be 'rgb' or 'bgr'");
  const pad = s['padValue'];
  if (pad !== undefined && (typeof pad !== 'number' || pad < 0 || pad > 255)) bad('padValue', 'must be 0…255');
  if (s['decoder'] !== 'centernet' && s['decoder'] !== 'boxes') bad('decoder', "must be 'centernet' or 'boxes'");
  const classes = s['classes'];
  if (typeof classes !== 'object' || classes === null || Object.keys(classes).length === 0) bad('classes', 'must map at least one class id');
  for (const [id, cls] of Object.entries(classes as object)) {
    if (!/^\d+$/.test(id)) bad(`classes.${id}`, 'class ids must be whole numbers');
    if (!CLASSES.includes(cls as string)) bad(`classes.${id}`, `must be one of ${CLASSES.join(', ')}`);
  }
  return s as unknown as DetectorModelSpec;
}

/** Reads a sidecar JSON (the spec, `path` relative to the sidecar's folder). */
export async function readModelSpec(sidecar: string): Promise<DetectorModelSpec> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(sidecar, 'utf8'));
  } catch (err) {
    throw DetectorSpecInvalid(`${sidecar}: ${(err as Error).message}`, { cause: err, field: sidecar });
  }
  const spec = checkModelSpec(raw, sidecar);
  return { ...spec, path: isAbsolute(spec.path) ? spec.path : resolve(dirname(sidecar), spec.path) };
}
