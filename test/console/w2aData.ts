// A day of two mines sent through the real national API (relay in passthrough, national simulator
// behind it), for the tests of the mines, alarms and acceptance pages: a producing mine with every
// kind of record and a shut-down mine whose camera saw two persons go down the shaft.
import type { Test } from 'tap';
import { EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, formatJsonTime } from '../../src/contract/index.ts';
import { forwardingSetup, waitFor } from '../helpers/forwarding.ts';
import { makeMp4Fixture } from '../helpers/media.ts';
import { evidenceName } from '../helpers/evidence.ts';
import { MINE, tempDir } from '../helpers/relay.ts';
import type { GuideMine } from '../helpers/mineClient.ts';
import type { NationalSimulator } from '../../sim/national/index.ts';
import type { TestRelay } from '../helpers/relay.ts';

export const PRODUCING = MINE;
export const SHUT = '140421005555';
export const R = RECORD_ENDPOINTS;

/** What the two mines sent today; the numbers the pages must show. */
export const SENT = {
  producing: {
    persons: 5 + 3,
    trucks: 2,
    beltRunning: 1,
    dispatchEmpty: 1,
    occlusionMoved: 1,
    calls: { 'infoReport/person': 2, 'infoReport/truck': 1, 'infoReport/belt': 2, 'infoReport/dispatchingRoomVideo': 1, 'infoReport/occlusion-movAngle': 1, 'camera/live': 1, 'camera/online-offine': 2 },
  },
  shut: { persons: 2, calls: { 'fileOperator/personVideo': 1, 'camera/online-offine': 1 } },
};

export async function sendDay(t: Test): Promise<{ sim: NationalSimulator; relay: TestRelay; mine: GuideMine }> {
  const setup = await forwardingSetup(t, { sim: { mineStatuses: { [PRODUCING]: '生产矿井', [SHUT]: '停产矿井' } } });
  const { sim, relay, mine } = setup;
  // the statuses reach the relay the way they do in life: a mine asks, the relay asks the nation and keeps the answer
  for (const m of [PRODUCING, SHUT]) t.equal((await mine.mineStatus(m)).status, 200);
  const time = formatJsonTime();
  const base = { mineId: PRODUCING, time };
  const calls: [typeof R[keyof typeof R], Record<string, unknown>][] = [
    [R.person, { ...base, cameraId: '10', aiTypeCode: '01', inWellNumber: '0005' }],
    [R.person, { ...base, cameraId: '20', aiTypeCode: '01', inWellNumber: '0003' }],
    [R.truck, { ...base, cameraId: '30', aiTypeCode: '02', outMineNumber: '0002' }],
    [R.belt, { ...base, cameraId: '10', aiTypeCode: '03', beltStatus: '0001' }],
    [R.belt, { ...base, cameraId: '10', aiTypeCode: '03', beltStatus: '0003' }],
    [R.dispatchingRoom, { ...base, cameraId: '40', aiTypeCode: '06' }],
    [R.occlusion, { ...base, cameraId: '30', aiTypeCode: '04' }],
    [R.cameraLive, { ...base, cameraId: '10', liveUrl: 'http://10.1.2.3/live/10' }],
    [R.cameraOnline, { ...base, cameraId: '10', alarm: 1 }],
    [R.cameraOnline, { ...base, cameraId: '20', alarm: 0 }],
    [R.cameraOnline, { mineId: SHUT, time, cameraId: '10', alarm: 1 }],
  ];
  for (const [e, body] of calls) t.equal((await mine.record(e, body)).status, 200, e.id);
  const video = await makeMp4Fixture(await tempDir(t), 'h264', 1);
  const a = await mine.upload(EVIDENCE_ENDPOINTS.personVideo, video, { fileName: evidenceName(EVIDENCE_ENDPOINTS.personVideo, SHUT) });
  t.equal(a.status, 200, 'personVideo of the shut-down mine');
  await waitFor(() => sim.received({}).length >= calls.length + 1, 30_000, 'everything delivered upstream');
  await waitFor(() => relay.ctx.queue.stats().byState.ready + relay.ctx.queue.stats().byState.leased === 0, 10_000, 'nothing pending');
  return setup;
}
