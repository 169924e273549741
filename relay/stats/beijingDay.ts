// The Beijing calendar of the aggregates is the kernel's (src/contract/beijingDay.ts), shared with the console.
export { BEIJING_OFFSET_MS, DAY_MS, HOUR_MS, beijingDay, beijingDayStart, hourStart, nextDay } from '../../src/contract/beijingDay.ts';
