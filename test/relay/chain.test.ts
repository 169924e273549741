// Relays chain with no new code: a city relay forwards to the provincial relay, which forwards to
// the national platform. Between relays videos go by tus (resumable at the byte offset).
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatEvidenceFileName, formatJsonTime } from '../../src/contract/index.ts';
import { sm3Hex } from '../../src/crypto/sm3.ts';
import { FAST_FORWARD, NATIONAL_PW, NATIONAL_USER, startSim, waitFor } from '../helpers/forwarding.ts';
import { makeVideo } from '../helpers/media.ts';
import { GuideMine } from '../helpers/mineClient.ts';
import { MINE, startTestRelay, tempDir } from '../helpers/relay.ts';

t.test('mine → city relay → provincial relay → national platform', async (t) => {
  const dir = await tempDir(t);
  const video = await makeVideo(dir, { seconds: 2 });
  const bytes = await readFile(video);
  const sim = await startSim(t);
  const province = await startTestRelay(t, { 'upstream.url': sim.url, ...FAST_FORWARD });
  const city = await startTestRelay(t, { 'upstream.url': province.url, ...FAST_FORWARD });
  const mine = new GuideMine(city.url, NATIONAL_USER, NATIONAL_PW);
  const login = await mine.login();
  t.equal(login.status, 200, 'the national credentials are checked all the way up (passthrough at each relay)');
  t.equal(province.ctx.accounts.get(NATIONAL_USER)?.mode, 'passthrough');

  const record = { mineId: MINE, cameraId: '20', aiTypeCode: '01', inWellNumber: '0003', time: formatJsonTime() };
  t.equal((await mine.record(RECORD_ENDPOINTS.person, record)).status, 200);
  const name = formatEvidenceFileName('count', { mineId: MINE, cameraId: '20', aiTypeCode: '01', count: '0003', time: Date.now() });
  t.equal((await mine.upload(EVIDENCE_ENDPOINTS.personVideo, video, { fileName: name })).status, 200);

  await waitFor(() => sim.stats().received === 2, 20_000, 'both at the national platform');
  t.same(sim.received({ endpoint: 'infoReport/person' })[0]?.record, record);
  const got = sim.received({ endpoint: 'fileOperator/personVideo' })[0];
  t.equal(got?.file?.fileName, name);
  t.equal(got?.file?.sm3, sm3Hex(bytes));
  t.equal(got?.account, NATIONAL_USER);
  const tusUploads = [...province.ctx.root.openDB({ name: 'tus-uploads' }).getRange({})];
  t.ok(tusUploads.length >= 1, 'the city relay sent the video to the province by tus');
  await waitFor(() => city.ctx.queue.stats().byState.done === 2 && province.ctx.queue.stats().byState.done === 2, 5000, 'acknowledged at both relays');
});
