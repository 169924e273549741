// Readers for the YAML options of the image analyses: each turns one raw value into a typed one or
// throws ImageOptionInvalid naming the option's full config path and the rule it breaks.
import { fieldMessage } from '../../../src/errors.ts';
import type { Point } from '../../types.ts';
import { ImageOptionInvalid } from '../imageErrors.ts';

export type RawOptions = Record<string, unknown>;

function fail(field: string, rule: string): never {
  throw ImageOptionInvalid(fieldMessage(field, rule), { field });
}

/** The options mapping (absent, null or true: all defaults); unknown keys are refused. */
export function optionsObject(raw: unknown, path: string, allowed: readonly string[]): RawOptions {
  if (raw === undefined || raw === null || raw === true) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) fail(path, 'must be a mapping of options ({} for the defaults)');
  const o = raw as RawOptions;
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${path}.${k}`, `unknown option (one of ${allowed.join(', ')})`);
  return o;
}

export function numberOption(o: RawOptions, key: string, path: string, def: number, min: number, max: number, integer = false): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    fail(`${path}.${key}`, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function booleanOption(o: RawOptions, key: string, path: string, def: boolean): boolean {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') fail(`${path}.${key}`, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function choiceOption<T extends string>(o: RawOptions, key: string, path: string, def: T, choices: readonly T[]): T {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) fail(`${path}.${key}`, `must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

const ROI_RULE = 'must be a polygon of at least 3 points [x,y] with 0 ≤ x,y ≤ 1, or a rectangle {x1, y1, x2, y2} with 0 ≤ x1 < x2 ≤ 1 and 0 ≤ y1 < y2 ≤ 1';

function unit(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;
}

/** A region in normalised coordinates: a polygon [[x,y],…] or a rectangle {x1,y1,x2,y2}. */
export function roiOption(o: RawOptions, key: string, path: string, def: readonly Point[]): Point[] {
  const v = o[key];
  if (v === undefined) return def.map((p) => ({ ...p }));
  const field = `${path}.${key}`;
  if (Array.isArray(v)) {
    if (v.length < 3) fail(field, ROI_RULE);
    const points = v.map((p): Point => {
      if (!Array.isArray(p) || p.length !== 2 || !unit(p[0]) || !unit(p[1])) fail(field, `${ROI_RULE}; bad point ${JSON.stringify(p)}`);
      return { x: p[0] as number, y: p[1] as number };
    });
    if (Math.abs(polygonArea(points)) < 1e-4) fail(field, `${ROI_RULE}; this polygon has (almost) no area`);
    return points;
  }
  if (typeof v === 'object' && v !== null) {
    const r = v as RawOptions;
    const keys = Object.keys(r).sort().join(',');
    const { x1, y1, x2, y2 } = r;
    if (keys !== 'x1,x2,y1,y2' || !unit(x1) || !unit(y1) || !unit(x2) || !unit(y2) || x2 <= x1 || y2 <= y1) fail(field, ROI_RULE);
    return [
      { x: x1, y: y1 },
      { x: x2, y: y1 },
      { x: x2, y: y2 },
      { x: x1, y: y2 },
    ];
  }
  return fail(field, ROI_RULE);
}

const REGIONS_RULE = 'must be a list of polygons [[x,y],…] (at least 3 points each, 0 ≤ x,y ≤ 1) or rectangles {x1, y1, x2, y2}';

/** A list of regions in normalised coordinates (each as for roiOption); absent: none. */
export function regionsOption(o: RawOptions, key: string, path: string): Point[][] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(`${path}.${key}`, `${REGIONS_RULE}, got ${JSON.stringify(v)}`);
  // Already validated (a polygon of {x, y} points, as another analysis's roi is handed on): keep it.
  return v.map((r, i) => {
    if (Array.isArray(r) && r.length >= 3 && r.every((p) => typeof p === 'object' && p !== null && !Array.isArray(p) && unit((p as Point).x) && unit((p as Point).y))) {
      return (r as Point[]).map((p) => ({ x: p.x, y: p.y }));
    }
    return roiOption({ [i]: r }, String(i), `${path}.${key}`, []);
  });
}

/** Shoelace formula; the sign gives the winding. */
export function polygonArea(points: readonly Point[]): number {
  let a = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) a += points[j]!.x * points[i]!.y - points[i]!.x * points[j]!.y;
  return a / 2;
}

const DIRECTIONS: Record<string, number> = { right: 0, down: 90, left: 180, up: 270 };

/** A direction in image coordinates: degrees (0 = right, 90 = down) or 'up' | 'down' | 'left' | 'right'. */
export function directionOption(o: RawOptions, key: string, path: string, def: number): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v === 'string' && Object.hasOwn(DIRECTIONS, v)) return DIRECTIONS[v]!;
  if (typeof v === 'number' && Number.isFinite(v) && v >= -360 && v <= 360) return ((v % 360) + 360) % 360;
  return fail(`${path}.${key}`, `must be an angle in degrees in image coordinates (0 = right, 90 = down, −360…360) or one of up, down, left, right, got ${JSON.stringify(v)}`);
}

export function stringOption(o: RawOptions, key: string, path: string, rule: string, test: (s: string) => boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !test(v)) fail(`${path}.${key}`, `${rule}, got ${JSON.stringify(v)}`);
  return v;
}

/** Throws when a cross-option rule is broken (e.g. one threshold above another). */
export function requireOption(ok: boolean, field: string, rule: string): void {
  if (!ok) fail(field, rule);
}
