import t from 'tap';
import { refused } from '../../helpers/refusal.ts';
import { EVIDENCE_ENDPOINTS, checkEvidenceFileName, formatEvidenceFileName, parseFileTime } from '../../../src/contract/index.ts';

const at = parseFileTime('20210104224515')!;
const ctx = { now: at, maxSkewMs: 300_000 };

t.test('the guide’s example names parse', async (t) => {
  const p = checkEvidenceFileName(EVIDENCE_ENDPOINTS.personVideo, '1404210078662001000520210104224515.MP4', ctx);
  t.same(p.value, { mineId: '140421007866', cameraId: '20', aiTypeCode: '01', count: '0005', time: '20210104224515', at });
  t.same(p.flags, []);
  const b = checkEvidenceFileName(EVIDENCE_ENDPOINTS.beltVideo, '1404210078661003000120210104121546.MP4', { now: parseFileTime('20210104121546')!, maxSkewMs: 300_000 });
  t.equal(b.value.beltStatus, '0001');
  const d = checkEvidenceFileName(EVIDENCE_ENDPOINTS.dispatchingRoomVideo, '140421007866400620210104094515.MP4', { now: parseFileTime('20210104094515')!, maxSkewMs: 300_000 });
  t.equal(d.value.aiTypeCode, '06');
  t.same(d.flags, []);
  // the guide's dispatching-room request example reuses the occlusion name: accepted, flagged
  const odd = checkEvidenceFileName(EVIDENCE_ENDPOINTS.dispatchingRoomVideo, '140421007866200420210104094515.MP4', { now: parseFileTime('20210104094515')!, maxSkewMs: 300_000 });
  t.same(odd.flags.sort(), ['aiTypeCode.unusual:04', 'cameraId.unusual:20']);
});

t.test('format is the inverse of parse for every form', async (t) => {
  for (const e of Object.values(EVIDENCE_ENDPOINTS)) {
    const name = formatEvidenceFileName(e.fileForm, { mineId: '140421007866', cameraId: '10', aiTypeCode: e.aiTypes[0]!, count: '0003', beltStatus: '0002', time: at });
    t.equal(name.length, (e.fileForm === 'plain' ? 30 : 34) + 4, e.id);
    const back = checkEvidenceFileName(e, name, ctx).value;
    t.equal(back.mineId, '140421007866');
    t.equal(back.at, at);
  }
});

t.test('broken names are refused naming the part and the segment', async (t) => {
  const e = EVIDENCE_ENDPOINTS.personVideo;
  const cases: [string, RegExp][] = [
    ['1404210078662001000520210104224515.avi', /^personVideo filename: must end in .MP4/],
    ['140421007866200100052021010422451.MP4', /^personVideo filename: must be 34 digits \+ .MP4 \(mineId\(12\) cameraId\(2\) aiTypeCode\(2\) count\(4\) time\(14\)\), e\.g\. /],
    ['1404210078662009000520210104224515.MP4', /^personVideo filename aiTypeCode: must be one of/],
    ['1404210078662001000520211304224515.MP4', /^personVideo filename time: must be a real yyyyMMddHHmmss/],
    ['x'.repeat(100), /too long/],
  ];
  for (const [name, re] of cases) {
    const err = refused(() => checkEvidenceFileName(e, name, ctx));
    t.equal(err.code, 'ESEAL_ERR_INPUT_FILE_NAME');
    t.match(err.message, re, name.slice(0, 40));
  }
  const belt = refused(() => checkEvidenceFileName(EVIDENCE_ENDPOINTS.beltVideo, '1404210078661003000920210104121546.MP4', ctx));
  t.match(belt.message, /^beltVideo filename beltStatus: must be one of/);
  const lower = checkEvidenceFileName(e, '1404210078662001000520210104224515.mp4', ctx);
  t.same(lower.flags, ['fileName.extensionCase']);
});
