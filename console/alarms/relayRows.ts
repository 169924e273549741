// The relay's aggregates as the console reads them (src/contract/admin.ts, the one definition the relay
// writes too) and the Beijing calendar (src/contract/beijingDay.ts), with the console's day parameter.
import { beijingDayStart } from '../../src/contract/beijingDay.ts';

export type { CameraRow, DailyRow, HourlyRow, MineRow } from '../../src/contract/admin.ts';
export { DAY_MS, HOUR_MS, addDays, beijingDay, beijingDayStart as dayStart, daysFrom } from '../../src/contract/beijingDay.ts';

/** A day parameter: absent is `fallback`; a bad one names the field. */
export function readDay(value: unknown, field: string, fallback: string, invalid: (msg: string, field: string) => Error): string {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || beijingDayStart(value) === undefined) {
    throw invalid(`${field}: a day YYYY-MM-DD (Beijing time), got ${JSON.stringify(String(value).slice(0, 40))}`, field);
  }
  return value;
}
