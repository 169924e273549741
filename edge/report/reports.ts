// What an analysis event becomes on the wire, by the mine's state (guide 5.1): a producing mine
// sends a JSON record (infoReport/*, 30 s budget); a shut-down mine sends an evidence video
// (fileOperator/*, 300 s budget) named by table 5-25. The endpoint table and the name format come
// from src/contract; nothing here writes a path or a field name of its own.
import {
  EVIDENCE_ENDPOINTS,
  RECORD_ENDPOINTS,
  formatCount,
  formatEvidenceFileName,
  formatJsonTime,
  type EvidenceEndpoint,
  type RecordEndpoint,
} from '../../src/contract/index.ts';
import { AI_TYPE_OF, type AnalysisEvent, type AnalysisKind } from '../types.ts';

export interface RecordReport {
  endpoint: RecordEndpoint;
  body: Record<string, string | number>;
}

export interface EvidenceReport {
  endpoint: EvidenceEndpoint;
  fileName: string;
}

const RECORD_OF: Record<AnalysisKind, RecordEndpoint> = {
  person: RECORD_ENDPOINTS.person,
  truck: RECORD_ENDPOINTS.truck,
  belt: RECORD_ENDPOINTS.belt,
  dispatchRoom: RECORD_ENDPOINTS.dispatchingRoom,
  occlusion: RECORD_ENDPOINTS.occlusion,
  moved: RECORD_ENDPOINTS.occlusion,
};

const EVIDENCE_OF: Record<AnalysisKind, EvidenceEndpoint> = {
  person: EVIDENCE_ENDPOINTS.personVideo,
  truck: EVIDENCE_ENDPOINTS.truckVideo,
  belt: EVIDENCE_ENDPOINTS.beltVideo,
  dispatchRoom: EVIDENCE_ENDPOINTS.dispatchingRoomVideo,
  occlusion: EVIDENCE_ENDPOINTS.cameraCoverVideo,
  moved: EVIDENCE_ENDPOINTS.cameraCoverVideo,
};

/** The infoReport record a producing mine sends for the event. */
export function recordReport(event: AnalysisEvent, mineId: string, cameraId: string): RecordReport {
  const endpoint = RECORD_OF[event.kind];
  const body: Record<string, string | number> = { mineId, cameraId, aiTypeCode: AI_TYPE_OF[event.kind] };
  if (event.kind === 'person') body['inWellNumber'] = formatCount(event.count ?? 1);
  if (event.kind === 'truck') body['outMineNumber'] = formatCount(event.count ?? 1);
  if (event.kind === 'belt') body['beltStatus'] = event.beltStatus ?? '0001';
  body['time'] = formatJsonTime(event.at);
  return { endpoint, body };
}

/** The evidence upload a shut-down mine sends for the event: endpoint and the guide's file name. */
export function evidenceReport(event: AnalysisEvent, mineId: string, cameraId: string): EvidenceReport {
  const endpoint = EVIDENCE_OF[event.kind];
  const parts = { mineId, cameraId, aiTypeCode: AI_TYPE_OF[event.kind], time: event.at };
  const fileName = formatEvidenceFileName(endpoint.fileForm, {
    ...parts,
    ...(endpoint.fileForm === 'count' ? { count: formatCount(event.count ?? 1) } : {}),
    ...(endpoint.fileForm === 'belt' ? { beltStatus: event.beltStatus ?? '0001' } : {}),
  });
  return { endpoint, fileName };
}

/** camera/online-offine: alarm 1 online (alarm cleared), 0 offline. */
export function onlineReport(mineId: string, cameraId: string, online: boolean, at: number): RecordReport {
  return { endpoint: RECORD_ENDPOINTS.cameraOnline, body: { mineId, cameraId, alarm: online ? 1 : 0, time: formatJsonTime(at) } };
}

/** camera/live: the marked MJPEG stream's address, sent whenever it changes. */
export function liveReport(mineId: string, cameraId: string, liveUrl: string, at: number): RecordReport {
  return { endpoint: RECORD_ENDPOINTS.cameraLive, body: { mineId, cameraId, liveUrl, time: formatJsonTime(at) } };
}
