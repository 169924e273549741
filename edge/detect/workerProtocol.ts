// Messages between the detector (main thread) and its worker thread.
import type { Detection } from '../types.ts';
import type { DetectorModelSpec } from './modelSpec.ts';

export type ToWorker =
  | { op: 'load'; id: number; spec: DetectorModelSpec; intraOpThreads: number }
  | { op: 'detect'; id: number; width: number; height: number; rgb: Uint8Array; scoreThreshold: number }
  /** ends the worker thread as a crash would (for the watchdog's test) */
  | { op: 'crash' };

export type FromWorker =
  | { op: 'loaded'; id: number; ms: number }
  | { op: 'loadFailed'; id: number; message: string }
  | { op: 'detected'; id: number; detections: Detection[]; ms: number }
  | { op: 'detectFailed'; id: number; message: string };
