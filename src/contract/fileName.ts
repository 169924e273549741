// Evidence file names (table 5-25): mine(12) camera(2) aiType(2) [count(4) | beltStatus(4)]
// time(14) `.MP4`: 34 digits, or 30 for the forms without a count.
import { LENGTHS, type AiTypeCode } from './codes.ts';
import type { EvidenceEndpoint, FileNameForm } from './endpoints.ts';
import { InvalidFileName } from './errors.ts';
import {
  checkAiTypeCode,
  checkBeltStatus,
  checkCameraId,
  checkCount,
  checkMineId,
  checkSkew,
  flag,
  type CheckContext,
  type Checked,
  type Flag,
} from './fields.ts';
import { EsealError } from '../errors.ts';
import { formatFileTime, parseFileTime, TIME_FORMATS } from './time.ts';

export const EVIDENCE_EXTENSION = '.MP4';

export interface EvidenceFileName {
  mineId: string;
  cameraId: string;
  aiTypeCode: AiTypeCode;
  /** persons or trucks in the clip (form 'count') */
  count?: string;
  /** belt status (form 'belt') */
  beltStatus?: string;
  /** yyyyMMddHHmmss, Beijing time */
  time: string;
  /** the instant of `time`, ms since epoch */
  at: number;
}

const FORM_LAYOUT: Record<FileNameForm, { digits: number; parts: string }> = {
  count: { digits: 34, parts: 'mineId(12) cameraId(2) aiTypeCode(2) count(4) time(14)' },
  belt: { digits: 34, parts: 'mineId(12) cameraId(2) aiTypeCode(2) beltStatus(4) time(14)' },
  plain: { digits: 30, parts: 'mineId(12) cameraId(2) aiTypeCode(2) time(14)' },
};

export function fileNameLayout(form: FileNameForm): { digits: number; parts: string } {
  return FORM_LAYOUT[form];
}

function bad(field: string, rule: string, cause?: unknown): never {
  throw InvalidFileName(`${field}: ${rule}`, { field, cause });
}

/**
 * Parses and checks a file name for `endpoint`. Errors name the multipart part and say which
 * segment breaks which rule; soft findings come back as flags (as for JSON records).
 */
export function checkEvidenceFileName(endpoint: EvidenceEndpoint, fileName: string, ctx: CheckContext): Checked<EvidenceFileName> {
  const field = `${endpoint.partName} filename`;
  const layout = FORM_LAYOUT[endpoint.fileForm];
  const example = formatEvidenceFileName(endpoint.fileForm, {
    mineId: '140421007866',
    cameraId: endpoint.usualCameras === 'any' ? '10' : endpoint.usualCameras[0] === 'truckGate' ? '30' : endpoint.usualCameras[0] === 'dispatchRoom' ? '40' : '20',
    aiTypeCode: endpoint.aiTypes[0] ?? '01',
    count: '0001',
    beltStatus: '0001',
    time: '20210104224515',
  });
  const flags: Flag[] = [];
  if (fileName.length > 64) bad(field, `too long (${fileName.length} characters); expected ${layout.digits} digits + .MP4, e.g. ${example}`);
  const dot = fileName.lastIndexOf('.');
  const stem = dot < 0 ? fileName : fileName.slice(0, dot);
  const ext = dot < 0 ? '' : fileName.slice(dot);
  if (ext !== EVIDENCE_EXTENSION) {
    if (ext.toUpperCase() === EVIDENCE_EXTENSION) flags.push(flag('fileName.extensionCase'));
    else bad(field, `must end in .MP4, got ${JSON.stringify(fileName)}; expected ${layout.parts} .MP4, e.g. ${example}`);
  }
  if (!/^\d+$/.test(stem) || stem.length !== layout.digits) {
    bad(
      field,
      `must be ${layout.digits} digits + .MP4 (${layout.parts}), e.g. ${example}; got ${JSON.stringify(fileName)} (${stem.length} characters before the extension)`,
    );
  }
  // Reuse the JSON field rules so a segment breaks exactly the rule its JSON twin would.
  const seg = (start: number, len: number) => stem.slice(start, start + len);
  try {
    const mineId = checkMineId(seg(0, 12), flags, `${field} mineId`);
    const cameraId = checkCameraId(seg(12, 2), flags, endpoint.usualCameras, `${field} cameraId`);
    const aiTypeCode = checkAiTypeCode(seg(14, 2), flags, endpoint.aiTypes, `${field} aiTypeCode`);
    const out: EvidenceFileName = { mineId, cameraId, aiTypeCode, time: '', at: 0 };
    let p = 16;
    if (endpoint.fileForm === 'count') {
      out.count = checkCount(seg(p, LENGTHS.count), flags, `${field} count`);
      p += LENGTHS.count;
    } else if (endpoint.fileForm === 'belt') {
      out.beltStatus = checkBeltStatus(seg(p, LENGTHS.beltStatus), flags, `${field} beltStatus`);
      p += LENGTHS.beltStatus;
    }
    out.time = seg(p, LENGTHS.fileTime);
    const at = parseFileTime(out.time);
    if (at === undefined) bad(`${field} time`, `must be a real ${TIME_FORMATS.file} (Beijing time, 24-hour), got ${out.time}`);
    out.at = at;
    checkSkew(at, ctx, flags, `${field} time`);
    return { value: out, flags };
  } catch (err) {
    if (err instanceof EsealError && err.code !== InvalidFileName.code) throw InvalidFileName(err.message, { field: err.field ?? field, cause: err });
    throw err;
  }
}

export interface EvidenceNameParts {
  mineId: string;
  cameraId: string;
  aiTypeCode: string;
  count?: string;
  beltStatus?: string;
  /** yyyyMMddHHmmss, or an instant to format as Beijing time */
  time: string | number | Date;
}

/** Builds the file name a device would send (used by the edge module and the tests). */
export function formatEvidenceFileName(form: FileNameForm, parts: EvidenceNameParts): string {
  const time = typeof parts.time === 'string' ? parts.time : formatFileTime(parts.time);
  const middle = form === 'count' ? (parts.count ?? '') : form === 'belt' ? (parts.beltStatus ?? '') : '';
  const name = `${parts.mineId}${parts.cameraId}${parts.aiTypeCode}${middle}${time}${EVIDENCE_EXTENSION}`;
  if (name.length !== FORM_LAYOUT[form].digits + EVIDENCE_EXTENSION.length) {
    throw new EsealError('ESEAL_ERR_INPUT_FILE_NAME', `cannot build a ${form} file name from ${JSON.stringify(parts)}`, 400);
  }
  return name;
}
