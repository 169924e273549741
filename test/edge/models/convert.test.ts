import t from 'tap';
import fc from 'fast-check';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { ProtoWriter, readFields, readPackedVarints } from '../../../edge/models/onnx/protobuf.ts';
import { CENTERNET_IO, convertCenternet, defaultCenternetJson } from '../../../edge/models/convert.ts';
import { ModelInputSizeInvalid } from '../../../edge/models/errors.ts';
import { halfToFloat, readTfjsArtifacts, TfjsGraph } from '../../../edge/models/tfjsGraph.ts';
import { ensureDefaultModel } from '../../../edge/models/buildDefault.ts';
import { readModelSpec } from '../../../edge/detect/modelSpec.ts';
import { letterbox } from '../../../edge/detect/letterbox.ts';
import { photo } from './fixtures.ts';

t.test('protobuf writer: fields read back as written', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5000 }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.string(),
      fc.array(fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
      fc.float({ noNaN: true }),
      (field, big, s, ints, f) => {
        const w = new ProtoWriter().varint(field, big).string(field + 1, s).packedVarints(field + 2, ints).float(field + 3, f).double(field + 4, f);
        const got = readFields(w.finish());
        const want = [field, field + 1, ...(ints.length ? [field + 2] : []), field + 3, field + 4];
        if (got.map((g) => g.field).join() !== want.join()) return false;
        if (BigInt.asIntN(64, got[0]!.value as bigint) !== big) return false;
        if (new TextDecoder().decode(got[1]!.value as Uint8Array) !== s) return false;
        if (ints.length && readPackedVarints(got[2]!.value as Uint8Array).join() !== ints.join()) return false;
        const f32 = new DataView(new ArrayBuffer(4));
        f32.setUint32(0, Number(got[ints.length ? 3 : 2]!.value), true);
        return Object.is(f32.getFloat32(0, true), Math.fround(f));
      },
    ),
  );
  const nested = new ProtoWriter().message(7, new ProtoWriter().varint(1, 300));
  t.same([...nested.finish()], [0x3a, 3, 0x08, 0xac, 0x02], 'a nested message is length-delimited');
});

t.test('float16 dequantisation', async (t) => {
  t.equal(halfToFloat(0x3c00), 1);
  t.equal(halfToFloat(0xc000), -2);
  t.equal(halfToFloat(0x3555), 0.333251953125);
  t.equal(halfToFloat(0x0001), 2 ** -24, 'subnormal');
  t.equal(halfToFloat(0x7c00), Infinity);
  const g = await TfjsGraph.load(defaultCenternetJson());
  t.equal(g.weight('tower_0/mul/y').data[0], 16, 'the box head scale of the real model');
  t.same(Array.from(g.weight('tower_0/CenternetHead/c5_upsample/up_sampling2d/mul').data), [32, 32]);
});

t.test('input sizes the graph cannot take are refused', async (t) => {
  await t.rejects(convertCenternet({ inputSize: 500 }), { code: ModelInputSizeInvalid.code });
  await t.rejects(convertCenternet({ inputSize: 96 }), { code: ModelInputSizeInvalid.code });
});

t.test('the ONNX model matches TF.js on a real photo', async (t) => {
  const size = 512;
  const img = await photo('person.jpg');
  const input = new Float32Array(size * size * 3);
  letterbox(img.rgb, img.width, img.height, { size, layout: 'nhwc', mean: [0, 0, 0], std: [1, 1, 1], channelOrder: 'rgb', padValue: 0 }, input);

  const { onnx } = await convertCenternet({ inputSize: size, heatmapOutput: true });
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
  t.teardown(() => session.release());
  const out = await session.run({ [CENTERNET_IO.input]: new ort.Tensor('float32', input, [1, size, size, 3]) });
  const heat = out[CENTERNET_IO.heatmap]!.data as Float32Array; // [1, 80, 128, 128]
  const edges = out[CENTERNET_IO.edges]!.data as Float32Array; // [1, 4, 128, 128]
  const peaks = out[CENTERNET_IO.peaks]!.data as Float32Array;

  await tf.setBackend('cpu');
  const art = await readTfjsArtifacts(defaultCenternetJson());
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({ modelTopology: art.modelJson.modelTopology, weightSpecs: art.weightSpecs as tf.io.WeightsManifestEntry[], weightData: art.weightData, format: 'graph-model' }),
  );
  const x = tf.tensor4d(input, [1, size, size, 3]);
  const [kp, wh] = model.execute(x, ['tower_0/keypoints', 'tower_0/wh']) as tf.Tensor[];
  const tfHeat = (await kp!.data()) as Float32Array; // [1, 128, 128, 80]
  const tfWh = (await wh!.data()) as Float32Array; // [1, 128, 128, 4]
  tf.dispose([x, kp!, wh!]);
  model.dispose();

  const grid = size / 4;
  const cells = grid * grid;
  let heatDiff = 0;
  let edgeDiff = 0;
  let maxHeat = 0;
  for (let p = 0; p < cells; p++) {
    for (let c = 0; c < 80; c++) {
      heatDiff = Math.max(heatDiff, Math.abs(heat[c * cells + p]! - tfHeat[p * 80 + c]!));
      maxHeat = Math.max(maxHeat, tfHeat[p * 80 + c]!);
    }
    for (let k = 0; k < 4; k++) edgeDiff = Math.max(edgeDiff, Math.abs(edges[k * cells + p]! - tfWh[p * 4 + k]!));
  }
  t.comment(`max |Δ| heatmap ${heatDiff.toExponential(2)}, edges ${edgeDiff.toExponential(2)} px; best score ${maxHeat.toFixed(3)}`);
  t.ok(maxHeat > 0.5, 'the photo gives a confident peak (the comparison is not of two empty maps)');
  t.ok(heatDiff < 1e-3, `sigmoid heatmap within 1e-3 of TF.js (${heatDiff})`);
  t.ok(edgeDiff < 0.05, `box edges within 0.05 px of TF.js (${edgeDiff})`);

  // the peak mask keeps exactly the 3×3 local maxima
  let wrong = 0;
  for (let c = 0; c < 80; c++) {
    for (let y = 0; y < grid; y++) {
      for (let x = 0; x < grid; x++) {
        const v = heat[c * cells + y * grid + x]!;
        let isMax = true;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy >= 0 && yy < grid && xx >= 0 && xx < grid && heat[c * cells + yy * grid + xx]! > v) isMax = false;
          }
        if (peaks[c * cells + y * grid + x] !== (isMax ? v : 0)) wrong++;
      }
    }
  }
  t.equal(wrong, 0, 'peaks = heatmap at 3×3 maxima, 0 elsewhere');
});

t.test('ensureDefaultModel converts once, atomically, with a sidecar', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eseal-models-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const [a, b] = await Promise.all([ensureDefaultModel(dir, 320), ensureDefaultModel(dir, 320)]);
  t.same(a, b);
  t.ok(existsSync(join(dir, 'centernet-mbv3-320.onnx')));
  t.same(readdirSync(dir).sort(), ['centernet-mbv3-320.json', 'centernet-mbv3-320.onnx'], 'no temporary files left');
  const spec = await readModelSpec(join(dir, 'centernet-mbv3-320.json'));
  t.same(spec, a, 'the sidecar describes the same model');
  t.match(spec, { inputSize: 320, layout: 'nhwc', decoder: 'centernet', classes: { 0: 'person', 2: 'vehicle', 5: 'vehicle', 7: 'vehicle' } });
  const session = await ort.InferenceSession.create(spec.path);
  t.same(session.inputNames, ['images']);
  t.same([...session.outputNames].sort(), ['edges', 'peaks']);
  await session.release();
});
