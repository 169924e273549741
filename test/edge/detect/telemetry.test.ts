// onnxruntime-node keeps a device id and a telemetry database under ~/.cache/Microsoft and tries to
// upload telemetry; the edge turns that off for its detector (an appliance on a closed network).
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createDetector } from '../../../edge/detect/detector.ts';
import { tempDir } from '../../helpers/tempDir.ts';
import { cachedModel, frameOf, photo } from '../models/fixtures.ts';

t.test('running the detector writes nothing of onnxruntime telemetry into HOME', async (t) => {
  const model = await cachedModel(320);
  const home = await tempDir(t, 'eseal-home-');
  const saved = { HOME: process.env['HOME'], ORT: process.env['ORT_DISABLE_TELEMETRY'] };
  process.env['HOME'] = home;
  delete process.env['ORT_DISABLE_TELEMETRY'];
  t.teardown(() => {
    process.env['HOME'] = saved.HOME;
    if (saved.ORT === undefined) delete process.env['ORT_DISABLE_TELEMETRY'];
    else process.env['ORT_DISABLE_TELEMETRY'] = saved.ORT;
  });
  const detector = await createDetector({ model });
  t.teardown(() => detector.close());
  t.ok(await detector.detect(frameOf(await photo('person.jpg'))), 'the detector ran');
  t.equal(process.env['ORT_DISABLE_TELEMETRY'], '1');
  t.notOk(existsSync(join(home, '.cache', 'Microsoft')), 'no ~/.cache/Microsoft (device id, telemetry db)');
});
