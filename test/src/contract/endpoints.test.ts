import t from 'tap';
import { ALL_ENDPOINTS, DATA_ENDPOINTS, EVIDENCE_ENDPOINTS, RECORD_ENDPOINTS, endpointById } from '../../../src/contract/index.ts';

t.test('the twelve data calls of the guide, with its paths and part names', async (t) => {
  t.equal(DATA_ENDPOINTS.length, 12);
  t.same(
    Object.values(EVIDENCE_ENDPOINTS).map((e) => [e.path, e.partName]),
    [
      ['/jy-essa/electronicSeal/fileOperator/personVideo', 'personVideo'],
      ['/jy-essa/electronicSeal/fileOperator/truckVideo', 'truckVideo'],
      ['/jy-essa/electronicSeal/fileOperator/beltVideo', 'beltVideo'],
      ['/jy-essa/electronicSeal/fileOperator/dispatchingRoomVideo', 'dispatchingRoomVideo'],
      ['/jy-essa/electronicSeal/fileOperator/occlusion-movAngleVideo', 'cameraCoverVideo'],
    ],
  );
  t.same(Object.values(RECORD_ENDPOINTS).map((e) => e.path.replace('/jy-essa/electronicSeal/', '')), [
    'infoReport/person',
    'infoReport/truck',
    'infoReport/belt',
    'infoReport/dispatchingRoomVideo',
    'infoReport/occlusion-movAngle',
    'camera/live',
    'camera/online-offine',
  ]);
  t.equal(new Set(ALL_ENDPOINTS.map((e) => e.path)).size, ALL_ENDPOINTS.length, 'paths are unique');
  for (const e of ALL_ENDPOINTS) t.equal(endpointById(e.id), e);
});
