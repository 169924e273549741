// The national-platform simulator: import from here.
export { NationalSimulator } from './NationalSimulator.ts';
export { DEFAULT_FAULTS, checkFaults, seededRandom } from './faults.ts';
export { VIDEO_MAX_BYTES } from './dataPort.ts';
export type { ReceivedFile, ReceivedFilter, ReceivedItem, RejectRule, SimAccount, SimFaults, SimLogger, SimOptions, SimStats } from './SimTypes.ts';
