// Errors of the analyses, and the readers that turn a YAML-parsed options object into typed values
// or raise them. Every message is `<config path>: <rule>` so that an operator can find the line in
// eseal.yaml. 500 like ESEAL_ERR_CONFIG_INVALID: a wrong configuration is the appliance's fault, not
// a client's.
import { defineError, fieldMessage, type EsealError } from '../../src/errors.ts';
import type { Point } from '../types.ts';

export const InvalidAnalysisOption = defineError(
  'ESEAL_ERR_EDGE_ANALYSIS_OPTION',
  500,
  'an option of an analysis (edge.cameras[].analyses) is missing, unknown or breaks its rule',
);

export function optionError(path: string, rule: string): EsealError {
  return InvalidAnalysisOption(fieldMessage(path, rule), { field: path });
}

/** The options mapping itself; null/undefined read as {} (all defaults); unknown keys are refused. */
export function readOptionsObject(raw: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw optionError(path, `must be a mapping of options (${allowed.join(', ')})`);
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw optionError(`${path}.${key}`, `unknown option (allowed: ${allowed.join(', ')})`);
  }
  return obj;
}

const POINT_RULE = 'must be a point [x,y] with 0 ≤ x,y ≤ 1';

function isUnit(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;
}

/** A normalised point, written [x, y] (or {x, y}). Undefined when the value is not one. */
function asPoint(raw: unknown): Point | undefined {
  if (Array.isArray(raw)) return raw.length === 2 && isUnit(raw[0]) && isUnit(raw[1]) ? { x: raw[0], y: raw[1] } : undefined;
  if (typeof raw === 'object' && raw !== null) {
    const { x, y } = raw as Record<string, unknown>;
    return isUnit(x) && isUnit(y) && Object.keys(raw).length === 2 ? { x, y } : undefined;
  }
  return undefined;
}

export function readPoint(raw: unknown, path: string): Point {
  const p = asPoint(raw);
  if (!p) throw optionError(path, POINT_RULE);
  return p;
}

/** Two distinct normalised points. */
export function readLine(raw: unknown, path: string): [Point, Point] {
  const rule = 'must be two points [[x,y],[x,y]] with 0 ≤ x,y ≤ 1';
  if (!Array.isArray(raw) || raw.length !== 2) throw optionError(path, rule);
  const a = asPoint(raw[0]);
  const b = asPoint(raw[1]);
  if (!a || !b) throw optionError(path, rule);
  if (a.x === b.x && a.y === b.y) throw optionError(path, 'the two points must differ');
  return [a, b];
}

/** At least three normalised points enclosing a non-empty area. */
export function readPolygon(raw: unknown, path: string): Point[] {
  const rule = 'must be a polygon of at least 3 points [[x,y],…] with 0 ≤ x,y ≤ 1';
  if (!Array.isArray(raw) || raw.length < 3) throw optionError(path, rule);
  const points = raw.map(asPoint);
  if (points.some((p) => p === undefined)) throw optionError(path, rule);
  const poly = points as Point[];
  let twiceArea = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!;
    const b = poly[(i + 1) % poly.length]!;
    twiceArea += a.x * b.y - b.x * a.y;
  }
  if (Math.abs(twiceArea) < 1e-9) throw optionError(path, 'the polygon encloses no area');
  return poly;
}

export interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
}

/** A number within [min, max], or the default when absent. */
export function readNumber(raw: unknown, path: string, rule: NumberRule, fallback: number): number {
  if (raw === undefined || raw === null) return fallback;
  const ok = typeof raw === 'number' && Number.isFinite(raw) && raw >= rule.min && raw <= rule.max && (!rule.integer || Number.isInteger(raw));
  if (!ok) throw optionError(path, `must be ${rule.integer ? 'an integer' : 'a number'} from ${rule.min} to ${rule.max}`);
  return raw;
}
