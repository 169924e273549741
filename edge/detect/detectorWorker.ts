// The detector's worker thread: holds the ONNX session (onnxruntime's run occupies the thread it is
// called on), letterboxes each frame into the model input, runs it, decodes and maps the boxes back
// to frame pixels. One frame at a time: the main thread queues and drops, this thread only runs.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { decodeCenternet } from '../models/centernet.ts';
import type { Detection } from '../types.ts';
import { decodeBoxes } from './boxes.ts';
import { letterbox, letterboxGeometry, toFrame, type LetterboxParams } from './letterbox.ts';
import type { DetectorModelSpec } from './modelSpec.ts';
import type { FromWorker, ToWorker } from './workerProtocol.ts';

interface Loaded {
  spec: DetectorModelSpec;
  session: ort.InferenceSession;
  inputName: string;
  params: LetterboxParams;
  input: Float32Array;
  /** 'boxes': the output holding the rows */
  boxesOutput?: string;
}

const port = parentPort;
if (!port) throw new Error('detectorWorker.ts runs as a worker thread');

let current: Loaded | undefined;
/** the run under way, so a replaced session is released only after it */
let running: Promise<unknown> = Promise.resolve();

const send = (m: FromWorker) => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.op === 'crash') process.exit(70);
  if (m.op === 'load') {
    load(m.spec, m.intraOpThreads).then(
      ({ loaded, ms }) => {
        const old = current;
        current = loaded;
        send({ op: 'loaded', id: m.id, ms });
        if (old) void running.finally(() => old.session.release().catch(() => undefined));
      },
      (err: unknown) => send({ op: 'loadFailed', id: m.id, message: (err as Error).message ?? String(err) }),
    );
    return;
  }
  const model = current;
  if (!model) {
    send({ op: 'detectFailed', id: m.id, message: 'no model loaded' });
    return;
  }
  const run = detect(model, m).then(
    (r) => send({ op: 'detected', id: m.id, ...r }),
    (err: unknown) => send({ op: 'detectFailed', id: m.id, message: (err as Error).message ?? String(err) }),
  );
  running = run;
});

async function load(spec: DetectorModelSpec, threads: number): Promise<{ loaded: Loaded; ms: number }> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(spec.path, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  try {
    const inputName = spec.inputName ?? session.inputNames[0];
    if (!inputName || !session.inputNames.includes(inputName)) {
      throw new Error(`the model has no input ${inputName ?? '(none)'}; its inputs: ${session.inputNames.join(', ')}`);
    }
    const size = spec.inputSize;
    const params: LetterboxParams = {
      size,
      layout: spec.layout,
      mean: spec.normalization.mean,
      std: spec.normalization.std,
      channelOrder: spec.channelOrder ?? 'rgb',
      padValue: spec.padValue ?? 0,
    };
    const loaded: Loaded = { spec, session, inputName, params, input: new Float32Array(size * size * 3) };
    // one run on a blank frame: a model that does not fit the spec is refused here, not per frame
    const blank = new Uint8Array(size * size * 3).fill(params.padValue);
    const out = await infer(loaded, blank, size, size);
    if (spec.decoder === 'centernet') {
      const grid = size / 4;
      for (const name of ['peaks', 'edges']) {
        const t = out[name];
        if (!t) throw new Error(`a 'centernet' model needs outputs 'peaks' and 'edges'; it has ${session.outputNames.join(', ')}`);
        if (t.dims.length !== 4 || t.dims[2] !== grid || t.dims[3] !== grid) throw new Error(`output ${name} is [${t.dims.join(',')}], expected [1,C,${grid},${grid}] for input ${size}`);
      }
    } else {
      const name = session.outputNames.find((n) => {
        const d = out[n]?.dims ?? [];
        return d[d.length - 1] === 6 && (d.length === 2 || (d.length === 3 && d[0] === 1));
      });
      if (!name) throw new Error(`a 'boxes' model needs an output of [N,6] or [1,N,6]; it has ${session.outputNames.map((n) => `${n} [${out[n]?.dims.join(',')}]`).join(', ')}`);
      loaded.boxesOutput = name;
    }
    return { loaded, ms: performance.now() - t0 };
  } catch (err) {
    await session.release().catch(() => undefined);
    throw err;
  }
}

async function infer(model: Loaded, rgb: Uint8Array, width: number, height: number): Promise<ort.InferenceSession.OnnxValueMapType> {
  letterbox(rgb, width, height, model.params, model.input);
  const s = model.params.size;
  const dims = model.params.layout === 'nhwc' ? [1, s, s, 3] : [1, 3, s, s];
  return model.session.run({ [model.inputName]: new ort.Tensor('float32', model.input, dims) });
}

async function detect(model: Loaded, m: Extract<ToWorker, { op: 'detect' }>): Promise<{ detections: Detection[]; ms: number }> {
  const t0 = performance.now();
  const out = await infer(model, m.rgb, m.width, m.height);
  const { spec } = model;
  let found: Detection[];
  if (spec.decoder === 'centernet') {
    const peaks = out['peaks']!;
    found = decodeCenternet(
      { peaks: peaks.data as Float32Array, edges: out['edges']!.data as Float32Array, grid: peaks.dims[3]! },
      { classes: spec.classes, scoreThreshold: m.scoreThreshold },
    );
  } else {
    const t = out[model.boxesOutput!]!;
    found = decodeBoxes(t.data as Float32Array, t.dims, spec.classes, m.scoreThreshold);
  }
  for (const t of Object.values(out)) t.dispose();
  const geo = letterboxGeometry(m.width, m.height, model.params.size);
  const detections: Detection[] = [];
  for (const d of found) {
    const box = toFrame(d.box, geo, m.width, m.height);
    if (box) detections.push({ box, score: d.score, cls: d.cls });
  }
  return { detections, ms: performance.now() - t0 };
}
