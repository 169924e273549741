// The default detector model on disk: `centernet-mbv3-<size>.onnx` converted from the CenterNet
// that @vladmandic/human ships, with a sidecar `centernet-mbv3-<size>.json` holding its
// DetectorModelSpec (path relative to the sidecar). `npm run models [-- <dir>] [--size 512,320]`
// builds them ahead of time; ensureDefaultModel() converts on first use when they are missing.
// Files are written to a temporary name and renamed, so a reader never sees half a model.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DetectorModelSpec } from '../detect/modelSpec.ts';
import { COCO_CLASS_MAP } from './coco.ts';
import { CENTERNET_IO, CENTERNET_NATIVE_SIZE, checkInputSize, convertCenternet } from './convert.ts';

/** `ESEAL_MODELS_DIR`, else `<cwd>/models` */
export function defaultModelsDir(): string {
  return resolve(process.env['ESEAL_MODELS_DIR'] ?? join(process.cwd(), 'models'));
}

export function defaultModelFile(inputSize: number): string {
  return `centernet-mbv3-${inputSize}.onnx`;
}

/** the spec of the converted CenterNet at `inputSize`, its file in `dir` */
export function defaultModelSpec(dir: string, inputSize = CENTERNET_NATIVE_SIZE): DetectorModelSpec {
  return {
    name: `centernet-mbv3-${inputSize}`,
    path: join(resolve(dir), defaultModelFile(inputSize)),
    inputSize,
    inputName: CENTERNET_IO.input,
    layout: 'nhwc',
    // the graph takes RGB as 0…255 floats
    normalization: { mean: [0, 0, 0], std: [1, 1, 1] },
    channelOrder: 'rgb',
    padValue: 0,
    decoder: 'centernet',
    classes: { ...COCO_CLASS_MAP },
  };
}

const building = new Map<string, Promise<DetectorModelSpec>>();

/** the default model's spec; converts it into `dir` first when the file is not there */
export function ensureDefaultModel(dir: string, inputSize = CENTERNET_NATIVE_SIZE): Promise<DetectorModelSpec> {
  checkInputSize(inputSize);
  const spec = defaultModelSpec(dir, inputSize);
  let p = building.get(spec.path);
  if (!p) {
    p = build(spec).finally(() => building.delete(spec.path));
    building.set(spec.path, p);
  }
  return p;
}

async function build(spec: DetectorModelSpec): Promise<DetectorModelSpec> {
  const dir = resolve(spec.path, '..');
  await mkdir(dir, { recursive: true });
  if (!existsSync(spec.path)) {
    const { onnx } = await convertCenternet({ inputSize: spec.inputSize });
    await writeAtomic(spec.path, onnx);
  }
  const sidecar = spec.path.replace(/\.onnx$/, '.json');
  if (!existsSync(sidecar)) {
    const { path, ...rest } = spec;
    await writeAtomic(sidecar, Buffer.from(`${JSON.stringify({ ...rest, path: defaultModelFile(spec.inputSize) }, null, 2)}\n`));
  }
  return spec;
}

async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function main(args: string[]): Promise<void> {
  let dir = defaultModelsDir();
  let sizes = [CENTERNET_NATIVE_SIZE];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--size') sizes = (args[++i] ?? '').split(',').map(Number);
    else if (a.startsWith('--size=')) sizes = a.slice(7).split(',').map(Number);
    else dir = resolve(a);
  }
  for (const size of sizes) {
    const t0 = performance.now();
    const spec = await ensureDefaultModel(dir, size);
    console.log(`${spec.path} (${Math.round(performance.now() - t0)} ms)`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error((err as Error).message ?? err);
    process.exitCode = 1;
  });
}
