// Every event the analyses can raise becomes a record or a file name the contract accepts with no
// flag (the relay and the national platform read them with the same checks).
import t from 'tap';
import { checkEvidenceFileName, checkRecord } from '../../../src/contract/index.ts';
import { evidenceReport, liveReport, onlineReport, recordReport } from '../../../edge/report/reports.ts';
import type { AnalysisEvent } from '../../../edge/types.ts';

const MINE_ID = '140421007866';
const AT = Date.UTC(2026, 10, 24, 2, 3, 4); // 10:03:04 Beijing time
const ctx = { now: AT, maxSkewMs: 300_000 };

const events: [AnalysisEvent, string][] = [
  [{ kind: 'person', camera: 'aux', at: AT, count: 3, detail: '' }, '20'],
  [{ kind: 'truck', camera: 'gate', at: AT, count: 1, detail: '' }, '30'],
  [{ kind: 'belt', camera: 'main', at: AT, beltStatus: '0002', detail: '' }, '10'],
  [{ kind: 'dispatchRoom', camera: 'room', at: AT, detail: '' }, '40'],
  [{ kind: 'occlusion', camera: 'room', at: AT, detail: '' }, '40'],
  [{ kind: 'moved', camera: 'gate', at: AT, detail: '' }, '30'],
];

t.test('records pass the contract without flags', async (t) => {
  for (const [event, cameraId] of events) {
    const { endpoint, body } = recordReport(event, MINE_ID, cameraId);
    const checked = checkRecord(endpoint, body, ctx);
    t.same(checked.flags, [], `${event.kind}: no flags`);
    t.equal(body['time'], '2026-11-24 10:03:04', `${event.kind}: Beijing time`);
  }
  t.equal(recordReport(events[0]![0], MINE_ID, '20').body['inWellNumber'], '0003');
  t.equal(recordReport({ ...events[0]![0], count: 12_000 }, MINE_ID, '20').body['inWellNumber'], '9999', 'capped at 4 digits');
  t.equal(recordReport(events[1]![0], MINE_ID, '30').endpoint.id, 'infoReport/truck');
  t.equal(recordReport(events[2]![0], MINE_ID, '10').body['beltStatus'], '0002');
  t.equal(recordReport(events[4]![0], MINE_ID, '40').body['aiTypeCode'], '04');
  t.equal(recordReport(events[5]![0], MINE_ID, '30').body['aiTypeCode'], '05');
});

t.test('evidence file names pass the contract without flags', async (t) => {
  for (const [event, cameraId] of events) {
    const { endpoint, fileName } = evidenceReport(event, MINE_ID, cameraId);
    const checked = checkEvidenceFileName(endpoint, fileName, ctx);
    t.same(checked.flags, [], `${event.kind}: ${fileName}`);
  }
  t.equal(evidenceReport(events[0]![0], MINE_ID, '20').fileName, '14042100786620010003' + '20261124100304.MP4');
  t.equal(evidenceReport(events[2]![0], MINE_ID, '10').fileName, '14042100786610030002' + '20261124100304.MP4');
  t.equal(evidenceReport(events[3]![0], MINE_ID, '40').fileName, '1404210078664006' + '20261124100304.MP4');
  t.equal(evidenceReport(events[5]![0], MINE_ID, '30').endpoint.partName, 'cameraCoverVideo');
});

t.test('camera status records', async (t) => {
  const on = onlineReport(MINE_ID, '20', true, AT);
  t.same(checkRecord(on.endpoint, on.body, ctx).flags, []);
  t.equal(on.body['alarm'], 1);
  t.equal(onlineReport(MINE_ID, '20', false, AT).body['alarm'], 0);
  const live = liveReport(MINE_ID, '20', 'http://10.0.0.5:8090/?action=stream', AT);
  t.same(checkRecord(live.endpoint, live.body, ctx).flags, []);
  t.equal(live.endpoint.id, 'camera/live');
});
