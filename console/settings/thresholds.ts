// 默认参数设置: the thresholds the province sets for the alarms page, a default for every mine and
// overrides per mine. A day's count above its threshold is an alarm (for a shut-down mine, any
// persons in or trucks out above it is suspected illegal production). Kept in the console's store;
// every change audited by the caller.
import type { Database } from 'lmdb';
import { Type, check, type Static } from '../../src/config/rules.ts';
import { ConsoleInvalid } from '../errors.ts';

const count = (description: string) => Type.Integer({ minimum: 0, maximum: 100_000, description });

export const ThresholdsSchema = Type.Object(
  {
    /** persons going down the shaft in a day (inWellNumber summed) */
    personsInPerDay: count('persons in per day (inWellNumber summed)'),
    /** trucks leaving in a day (outMineNumber summed) */
    trucksOutPerDay: count('trucks out per day (outMineNumber summed)'),
    /** belt reports of a running belt in a day */
    beltRunningPerDay: count('belt-running reports per day'),
    /** empty dispatch room reports in a day */
    dispatchRoomEmptyPerDay: count('empty dispatch room reports per day'),
    /** camera occluded or moved reports in a day */
    occlusionMovedPerDay: count('camera occluded or moved reports per day'),
  },
  { additionalProperties: false },
);
export type Thresholds = Static<typeof ThresholdsSchema>;
export const THRESHOLD_KINDS = Object.keys(ThresholdsSchema.properties) as (keyof Thresholds)[];

export const MineOverrideSchema = Type.Partial(ThresholdsSchema, { additionalProperties: false });
export type MineOverride = Partial<Thresholds>;

export interface ThresholdSettings {
  default: Thresholds;
  /** mine id → the kinds it sets apart from the default */
  mines: Record<string, MineOverride>;
  updatedAt?: number;
  updatedBy?: string;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  personsInPerDay: 0,
  trucksOutPerDay: 0,
  beltRunningPerDay: 0,
  dispatchRoomEmptyPerDay: 3,
  occlusionMovedPerDay: 3,
};

export const MINE_ID = /^[0-9A-Za-z]{12}$/;
const MAX_MINES = 5000;
const KEY = 'thresholds';

/** Reads `value` against `schema`; every problem named by its path, all at once (form fields come as strings). */
function checked<T>(schema: Parameters<typeof check>[0], value: unknown, path: string): T {
  const { value: v, problems } = check(schema, value, path, { coerce: true });
  if (problems.length) throw ConsoleInvalid(problems.join('; '), { field: problems[0]!.split(':')[0]! });
  return v as T;
}

export function checkMine(mine: unknown): string {
  if (typeof mine !== 'string' || !MINE_ID.test(mine)) throw ConsoleInvalid(`mine: 12 characters (the national basic-data code), got ${JSON.stringify(String(mine).slice(0, 40))}`, { field: 'mine' });
  return mine;
}

export class ThresholdStore {
  readonly #db: Database<unknown, string>;

  constructor(db: Database<unknown, string>) {
    this.#db = db;
  }

  get(): ThresholdSettings {
    const s = this.#db.get(KEY) as ThresholdSettings | undefined;
    return s ?? { default: { ...DEFAULT_THRESHOLDS }, mines: {} };
  }

  /** What applies to one mine: its overrides over the default. */
  forMine(mine: string): Thresholds {
    const s = this.get();
    return { ...s.default, ...(s.mines[mine] ?? {}) };
  }

  async setDefault(input: unknown, by: string): Promise<ThresholdSettings> {
    const d = checked<Thresholds>(ThresholdsSchema, input, 'default');
    const s = this.get();
    const next = { ...s, default: d, updatedAt: Date.now(), updatedBy: by };
    await this.#db.put(KEY, next);
    return next;
  }

  /** Sets a mine's overrides; an empty set removes the mine's entry. */
  async setMine(mine: string, input: unknown, by: string): Promise<ThresholdSettings> {
    checkMine(mine);
    const o = checked<MineOverride>(MineOverrideSchema, input, `mines.${mine}`);
    const s = this.get();
    const mines = { ...s.mines };
    if (Object.keys(o).length) mines[mine] = o;
    else delete mines[mine];
    if (Object.keys(mines).length > MAX_MINES) throw ConsoleInvalid(`mine: at most ${MAX_MINES} mines may have their own thresholds`, { field: 'mine' });
    const next = { ...s, mines, updatedAt: Date.now(), updatedBy: by };
    await this.#db.put(KEY, next);
    return next;
  }
}
