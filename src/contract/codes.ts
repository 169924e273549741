// The national guide's code tables (table 5-25), once. Every other place looks codes up here.

/** 分析类型编码: what an analysis is about. */
export const AI_TYPES = {
  '01': { name: 'persons', zh: '数人' },
  '02': { name: 'trucks', zh: '数车辆' },
  '03': { name: 'belt', zh: '运输设备运行状态' },
  '04': { name: 'occlusion', zh: '遮挡' },
  '05': { name: 'moved', zh: '挪动角度' },
  '06': { name: 'emptyDispatchRoom', zh: '调度室空岗' },
} as const;
export type AiTypeCode = keyof typeof AI_TYPES;
export const AI_TYPE_CODES = Object.keys(AI_TYPES) as AiTypeCode[];

export function isAiTypeCode(value: string): value is AiTypeCode {
  return Object.hasOwn(AI_TYPES, value);
}

/** 运输设备运行状态编码 */
export const BELT_STATUSES = {
  '0001': { name: 'runningWithCoal', zh: '开机有煤' },
  '0002': { name: 'runningWithoutCoal', zh: '开机无煤' },
  '0003': { name: 'stoppedWithCoal', zh: '停机有煤' },
} as const;
export type BeltStatusCode = keyof typeof BELT_STATUSES;
export const BELT_STATUS_CODES = Object.keys(BELT_STATUSES) as BeltStatusCode[];

export function isBeltStatusCode(value: string): value is BeltStatusCode {
  return Object.hasOwn(BELT_STATUSES, value);
}

/**
 * 摄像头编码: two digits, the tens digit names the place; more cameras of one place count up
 * (30, 31, …). The guide names four places.
 */
export const CAMERA_PLACES = {
  1: { name: 'mainShaft', zh: '主井口' },
  2: { name: 'auxiliaryShaft', zh: '副井口' },
  3: { name: 'truckGate', zh: '货运车辆入口' },
  4: { name: 'dispatchRoom', zh: '调度室' },
} as const;
export type CameraPlace = (typeof CAMERA_PLACES)[keyof typeof CAMERA_PLACES]['name'];

export function cameraPlace(cameraId: string): CameraPlace | undefined {
  if (!/^\d{2}$/.test(cameraId)) return undefined;
  const tens = Number(cameraId[0]) as keyof typeof CAMERA_PLACES;
  return CAMERA_PLACES[tens]?.name;
}

/** camera/online-offine `alarm`: 0 offline (alarm raised), 1 online (alarm cleared). */
export const CAMERA_ALARM = { offline: 0, online: 1 } as const;

/** Response codes of the envelope (table 5-22). */
export const RESPONSE_CODES = {
  success: 0,
  /** token invalid, authentication failure, and (by the pig framework) any client error */
  failure: 1,
  serverError: 500,
} as const;

export const LENGTHS = {
  mineId: 12,
  cameraId: 2,
  aiTypeCode: 2,
  count: 4,
  beltStatus: 4,
  fileTime: 14,
  liveUrlMax: 200,
} as const;
