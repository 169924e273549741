// Every call of the national API (guide chapter 5), as data. Routes, validators, the forwarder,
// the edge module and the tests all read this table; no path, part name or field list is written
// anywhere else.
import type { AiTypeCode, CameraPlace } from './codes.ts';

export const API_PREFIX = '/jy-essa/electronicSeal/';

export const AUTH_PATHS = {
  /** GET: the platform's SM2 public key as bare text (5.2.3) */
  publicKey: '/sm2',
  /** GET or POST: OAuth2 password grant (5.2.2) */
  token: '/auth/oauth/token',
} as const;

/** How an evidence file name is built (table 5-25); every form ends in `.MP4`. */
export type FileNameForm =
  /** mine(12) camera(2) aiType(2) count(4) time(14): 34 digits */
  | 'count'
  /** mine(12) camera(2) aiType(2) beltStatus(4) time(14): 34 digits */
  | 'belt'
  /** mine(12) camera(2) aiType(2) time(14): 30 digits */
  | 'plain';

/** Forwarding lanes, by the guide's latency budgets. */
export const LANES = {
  /** camera/live and camera/online-offine: 30 s */
  status: { budgetSeconds: 30, priority: 0 },
  /** infoReport/*: 30 s */
  record: { budgetSeconds: 30, priority: 1 },
  /** fileOperator/*: 300 s */
  evidence: { budgetSeconds: 300, priority: 2 },
} as const;
export type Lane = keyof typeof LANES;

/** The rule a JSON field follows (see fields.ts). */
export type FieldRule = 'mineId' | 'cameraId' | 'aiTypeCode' | 'count4' | 'beltStatus' | 'time' | 'liveUrl' | 'alarm';

export interface FieldSpec {
  name: string;
  rule: FieldRule;
  /** 中文名称 from the guide's table, for messages an integrator recognises */
  zh: string;
}

interface EndpointBase {
  /** stable id: the path below API_PREFIX; also the metrics label */
  id: string;
  /** full path */
  path: string;
  /** guide section */
  section: string;
  zh: string;
  /** camera places the guide expects for this call; others are accepted and flagged */
  usualCameras: readonly CameraPlace[] | 'any';
}

export interface EvidenceEndpoint extends EndpointBase {
  kind: 'evidence';
  method: 'POST';
  /** the multipart part that carries the video */
  partName: string;
  fileForm: FileNameForm;
  /** aiTypeCode values the file name may carry */
  aiTypes: readonly AiTypeCode[];
  lane: 'evidence';
}

export interface RecordEndpoint extends EndpointBase {
  kind: 'record';
  /** the guide shows GET with a JSON body for some; POST is canonical and what we forward */
  methods: readonly ('POST' | 'GET')[];
  fields: readonly FieldSpec[];
  /** aiTypeCode the record usually carries (only for infoReport/*) */
  aiTypes?: readonly AiTypeCode[];
  lane: 'record' | 'status';
}

export interface QueryEndpoint extends EndpointBase {
  kind: 'query';
  method: 'GET';
  query: readonly FieldSpec[];
}

export type Endpoint = EvidenceEndpoint | RecordEndpoint | QueryEndpoint;

const F = {
  mineId: { name: 'mineId', rule: 'mineId', zh: '煤矿编码' },
  cameraId: { name: 'cameraId', rule: 'cameraId', zh: '摄像头编码' },
  aiTypeCode: { name: 'aiTypeCode', rule: 'aiTypeCode', zh: '分析类型编码' },
  inWellNumber: { name: 'inWellNumber', rule: 'count4', zh: '入井人数' },
  outMineNumber: { name: 'outMineNumber', rule: 'count4', zh: '出矿车数' },
  beltStatus: { name: 'beltStatus', rule: 'beltStatus', zh: '运输设备运行状态编码' },
  time: { name: 'time', rule: 'time', zh: '当前时间' },
  liveUrl: { name: 'liveUrl', rule: 'liveUrl', zh: '实时视频地址' },
  alarm: { name: 'alarm', rule: 'alarm', zh: '摄像头离线报警、在线解除报警' },
} as const satisfies Record<string, FieldSpec>;

const SHAFTS = ['mainShaft', 'auxiliaryShaft'] as const;

function evidence(
  sub: string,
  partName: string,
  fileForm: FileNameForm,
  aiTypes: readonly AiTypeCode[],
  usualCameras: EvidenceEndpoint['usualCameras'],
  section: string,
  zh: string,
): EvidenceEndpoint {
  const id = `fileOperator/${sub}`;
  return { kind: 'evidence', id, path: API_PREFIX + id, method: 'POST', partName, fileForm, aiTypes, usualCameras, lane: 'evidence', section, zh };
}

function record(
  id: string,
  methods: RecordEndpoint['methods'],
  fields: readonly FieldSpec[],
  aiTypes: readonly AiTypeCode[] | undefined,
  usualCameras: RecordEndpoint['usualCameras'],
  lane: RecordEndpoint['lane'],
  section: string,
  zh: string,
): RecordEndpoint {
  const e: RecordEndpoint = { kind: 'record', id, path: API_PREFIX + id, methods, fields, usualCameras, lane, section, zh };
  if (aiTypes) e.aiTypes = aiTypes;
  return e;
}

const POST_OR_GET = ['POST', 'GET'] as const;

/** 停产停工矿井: evidence videos (5.1.1), 300 s budget. */
export const EVIDENCE_ENDPOINTS = {
  personVideo: evidence('personVideo', 'personVideo', 'count', ['01'], SHAFTS, '5.1.1 表5-2', '人员入井识别信息'),
  truckVideo: evidence('truckVideo', 'truckVideo', 'count', ['02'], ['truckGate'], '5.1.1 表5-3', '货运车辆出矿识别信息'),
  beltVideo: evidence('beltVideo', 'beltVideo', 'belt', ['03'], SHAFTS, '5.1.1 表5-4', '运输设备运行状态识别信息'),
  dispatchingRoomVideo: evidence(
    'dispatchingRoomVideo',
    'dispatchingRoomVideo',
    'plain',
    ['06'],
    ['dispatchRoom'],
    '5.1.1 表5-5',
    '调度室空岗识别信息',
  ),
  cameraCoverVideo: evidence(
    'occlusion-movAngleVideo',
    'cameraCoverVideo',
    'plain',
    ['04', '05'],
    'any',
    '5.1.1 表5-6',
    '摄像头遮挡、挪动角度识别信息',
  ),
} as const satisfies Record<string, EvidenceEndpoint>;

/** 正常生产建设矿井: records (5.1.2), 30 s budget; camera live/online for both kinds of mine. */
export const RECORD_ENDPOINTS = {
  person: record(
    'infoReport/person',
    POST_OR_GET,
    [F.mineId, F.cameraId, F.aiTypeCode, F.inWellNumber, F.time],
    ['01'],
    SHAFTS,
    'record',
    '5.1.2 表5-10',
    '人员入井识别信息',
  ),
  truck: record(
    'infoReport/truck',
    POST_OR_GET,
    [F.mineId, F.cameraId, F.aiTypeCode, F.outMineNumber, F.time],
    ['02'],
    ['truckGate'],
    'record',
    '5.1.2 表5-11',
    '货运车辆出矿识别信息',
  ),
  belt: record(
    'infoReport/belt',
    POST_OR_GET,
    [F.mineId, F.cameraId, F.aiTypeCode, F.beltStatus, F.time],
    ['03'],
    SHAFTS,
    'record',
    '5.1.2 表5-12',
    '运输设备运行状态识别信息',
  ),
  dispatchingRoom: record(
    'infoReport/dispatchingRoomVideo',
    POST_OR_GET,
    [F.mineId, F.cameraId, F.aiTypeCode, F.time],
    ['06'],
    ['dispatchRoom'],
    'record',
    '5.1.2 表5-13',
    '调度室空岗识别信息',
  ),
  occlusion: record(
    'infoReport/occlusion-movAngle',
    POST_OR_GET,
    [F.mineId, F.cameraId, F.aiTypeCode, F.time],
    ['04', '05'],
    'any',
    'record',
    '5.1.2 表5-14',
    '摄像头遮挡、挪动角度识别信息',
  ),
  cameraLive: record(
    'camera/live',
    POST_OR_GET,
    [F.mineId, F.cameraId, F.liveUrl, F.time],
    undefined,
    'any',
    'status',
    '5.1.1/5.1.2 表5-7/5-15',
    '带标记实时播放地址',
  ),
  cameraOnline: record(
    // "offine" is the real path of the national platform (a typo kept for compatibility)
    'camera/online-offine',
    POST_OR_GET,
    [F.mineId, F.cameraId, F.alarm, F.time],
    undefined,
    'any',
    'status',
    '5.1.1/5.1.2 表5-8/5-16',
    '摄像头在线、离线检测信息',
  ),
} as const satisfies Record<string, RecordEndpoint>;

export const QUERY_ENDPOINTS = {
  mineStatus: {
    kind: 'query',
    id: 'camera/mineStatus',
    path: API_PREFIX + 'camera/mineStatus',
    method: 'GET',
    query: [F.mineId],
    usualCameras: 'any',
    section: '5.2.4 表5-19',
    zh: '获取煤矿状态',
  },
} as const satisfies Record<string, QueryEndpoint>;

/** The twelve data calls a mine makes (5 evidence + 5 records + live + online). */
export const DATA_ENDPOINTS: readonly (EvidenceEndpoint | RecordEndpoint)[] = [
  ...Object.values(EVIDENCE_ENDPOINTS),
  ...Object.values(RECORD_ENDPOINTS),
];

export const ALL_ENDPOINTS: readonly Endpoint[] = [...DATA_ENDPOINTS, ...Object.values(QUERY_ENDPOINTS)];

const byId = new Map<string, Endpoint>(ALL_ENDPOINTS.map((e) => [e.id, e]));

export function endpointById(id: string): Endpoint | undefined {
  return byId.get(id);
}
