// The options of the analyses (edge.cameras[].analyses, and a truth file's camera): the shapes they
// share, and how one analysis's options are read. Each analysis declares one TypeBox schema of its
// options, defaults included, beside its code, and a `finish` step for what a schema cannot say (a
// line's two points must differ; one threshold below another) that also turns the YAML shapes
// into the analysis's own ([x, y] into {x, y}, a rectangle into four corners, 'down' into 90°).
// Every problem is reported at once, each as `<config path>: <rule>`.
//
// One meaning for `true`: `analyses: { moved: true }` (like null or nothing) is the analysis on,
// with its defaults.
import { OneOf, Type, check, type Static, type TSchema } from '../../src/config/rules.ts';
import type { Point } from '../types.ts';
import { invalidOptions } from './errors.ts';
import { polygonArea } from './geometry.ts';

const unit = Type.Number({ minimum: 0, maximum: 1 });

/** A point of the picture, [x, y] (or {x, y}): fractions 0…1 of its width and height, origin top left. */
export const NormPoint = Type.Union([Type.Tuple([unit, unit]), Type.Object({ x: unit, y: unit })], { hint: 'a point [x, y] with 0 ≤ x, y ≤ 1' });

export const NormLine = Type.Tuple([NormPoint, NormPoint], { hint: 'two points [[x, y], [x, y]]' });

export const NormPolygon = Type.Array(NormPoint, { minItems: 3, hint: 'a polygon of at least 3 points [[x, y], …]' });

const NormRect = Type.Object({ x1: unit, y1: unit, x2: unit, y2: unit });

/** A part of the picture: a polygon, or a rectangle {x1, y1, x2, y2}. */
export function Region(options: { default?: Static<typeof NormPolygon> } = {}) {
  return Type.Union([NormPolygon, NormRect], { hint: 'a polygon [[x, y], …] of at least 3 points, or a rectangle {x1, y1, x2, y2}', ...options });
}

export const NormRegion = Region();

/** The whole picture, as a region. */
export const WHOLE_FRAME: Static<typeof NormPolygon> = [
  [0, 0],
  [1, 0],
  [1, 1],
  [0, 1],
];

const DIRECTION_DEGREES = { right: 0, down: 90, left: 180, up: 270 } as const;

/**
 * Where something moves on screen: right, down, left or up (as the README documents), or for a
 * slanting belt an angle in degrees from "right" towards "down" (image coordinates: y grows down
 * the picture, so 90 is down and 270 up).
 */
export function Direction(options: { default?: keyof typeof DIRECTION_DEGREES | number } = {}) {
  return Type.Union([OneOf(['right', 'down', 'left', 'up']), Type.Number({ minimum: -360, maximum: 360 })], {
    hint: 'right, down, left, up, or an angle in degrees from right towards down (90 = down), −360…360',
    ...options,
  });
}

/** A direction as degrees 0…360 (0 = right, 90 = down). */
export function directionDegrees(d: Static<ReturnType<typeof Direction>>): number {
  return typeof d === 'number' ? ((d % 360) + 360) % 360 : DIRECTION_DEGREES[d];
}

export function toPoint(p: Static<typeof NormPoint>): Point {
  return Array.isArray(p) ? { x: p[0], y: p[1] } : { x: p.x, y: p.y };
}

/** A number from `minimum` to `maximum`, `value` when absent. */
export const Num = (minimum: number, maximum: number, value: number) => Type.Number({ minimum, maximum, default: value });
export const Int = (minimum: number, maximum: number, value: number) => Type.Integer({ minimum, maximum, default: value });

/** Reports a problem of a rule between keys; `at` is relative to the options' path ('' = the options themselves). */
export type Problem = (at: string, rule: string) => void;

/** Polygons smaller than this share of the picture (1 % × 1 %) enclose no usable area. */
const MIN_AREA = 1e-4;

/** A line's two points, which must differ. */
export function linePoints(line: Static<typeof NormLine>, at: string, problem: Problem): [Point, Point] {
  const a = toPoint(line[0]);
  const b = toPoint(line[1]);
  if (a.x === b.x && a.y === b.y) problem(at, 'the two points must differ');
  return [a, b];
}

/** A region's corners; a rectangle needs x1 < x2 and y1 < y2, a polygon must enclose an area. */
export function regionPoints(region: Static<typeof NormRegion>, at: string, problem: Problem): Point[] {
  if (!Array.isArray(region)) {
    const { x1, y1, x2, y2 } = region;
    if (x2 <= x1 || y2 <= y1) problem(at, `a rectangle needs x1 < x2 and y1 < y2, got ${JSON.stringify(region)}`);
    return [
      { x: x1, y: y1 },
      { x: x2, y: y1 },
      { x: x2, y: y2 },
      { x: x1, y: y2 },
    ];
  }
  const points = region.map(toPoint);
  if (Math.abs(polygonArea(points)) < MIN_AREA) problem(at, 'the polygon encloses (almost) no area');
  return points;
}

/**
 * Regions left out of an analysis (`ignore`). No default: left out, it stays undefined so that
 * linkAnalyses can tell "not said" (leave a belt's ROI out) from "said: nothing" (`ignore: []`).
 */
export const IgnoreRegions = Type.Optional(Type.Array(NormRegion));

export function regionsPoints(regions: readonly Static<typeof NormRegion>[], at: string, problem: Problem): Point[][] {
  return regions.map((r, i) => regionPoints(r, `${at}[${i}]`, problem));
}

/** One analysis's options: the schema (with the defaults) and the step after it. */
export interface AnalysisOptions<S extends TSchema = TSchema, T = unknown> {
  schema: S;
  /** the value the schema passed (defaults filled in) → the options the analysis takes */
  finish(value: Static<S>, problem: Problem): T;
}

export function defineOptions<S extends TSchema, T>(schema: S, finish: (value: Static<S>, problem: Problem) => T): AnalysisOptions<S, T> {
  return { schema, finish };
}

export interface ReadOptions<T> {
  /** undefined when there are problems */
  value: T | undefined;
  problems: string[];
}

/** Reads one analysis's options from the YAML (absent, null or true: all defaults); `path` names them in the problems. */
export function readOptions<S extends TSchema, T>(spec: AnalysisOptions<S, T>, raw: unknown, path: string): ReadOptions<T> {
  const checked = check(spec.schema, raw === undefined || raw === null || raw === true ? {} : raw, path);
  if (checked.problems.length) return { value: undefined, problems: checked.problems };
  return finishOptions(spec, checked.value, path);
}

/** The step after the schema, for a value that passed it (a truth file checks its whole schema at once). */
export function finishOptions<S extends TSchema, T>(spec: AnalysisOptions<S, T>, value: Static<S>, path: string): ReadOptions<T> {
  const problems: string[] = [];
  const out = spec.finish(value, (at, rule) => problems.push(`${at ? `${path}.${at}` : path}: ${rule}`));
  return problems.length ? { value: undefined, problems } : { value: out, problems };
}

/** readOptions, or ESEAL_ERR_EDGE_ANALYSIS_OPTION listing every problem. */
export function validateOptions<S extends TSchema, T>(spec: AnalysisOptions<S, T>, raw: unknown, path: string): T {
  const read = readOptions(spec, raw, path);
  if (read.problems.length) throw invalidOptions(read.problems);
  return read.value as T;
}
