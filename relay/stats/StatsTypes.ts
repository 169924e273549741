// The aggregates' shapes are the admin API's contract (src/contract/admin.ts), shared with the console.
export type { CameraRow, DailyRow, HourlyRow, MineRow } from '../../src/contract/admin.ts';
