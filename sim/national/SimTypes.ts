// Types of the national-platform simulator: its options, its fault knobs, what it records.
import type { Flag } from '../../src/contract/index.ts';

/** The subset of a pino logger the simulator writes to. */
export interface SimLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface SimAccount {
  username: string;
  password: string;
  /** answered as dept_name and org_name at login (default: the username) */
  org?: string;
  /** the mines the account may send data for; absent or empty: any mine */
  mines?: string[];
}

/** A definite rejection: matching Bearer calls get this status and `{"code":code,"msg":msg,"data":null}`. */
export interface RejectRule {
  /** contract endpoint id (`infoReport/person`) or full path; absent: every endpoint */
  endpoint?: string;
  /** absent: every mine */
  mineId?: string;
  status: number;
  code: number;
  msg: string;
}

/** Fault knobs, applied to the data port only. */
export interface SimFaults {
  /** the data listener is closed: connection refused (reopened on the same port when false again) */
  down: boolean;
  /** added before every answer of the data port */
  latencyMs: number;
  /** share (0..1) of data-port requests answered 500/502/503 with an HTML or JSON body instead of being processed */
  error5xxRate: number;
  /** share (0..1) of Bearer calls answered HTTP 200 {"code":1,"msg":"token expire",…} and not recorded */
  code1Rate: number;
  /** share (0..1) of evidence uploads whose socket is reset half-way through the body */
  resetMidUploadRate: number;
  /** cap on the bytes read from all request bodies together, per second; 0 = unlimited */
  bandwidthBytesPerSec: number;
  /** a definite rejection rule, or null */
  reject: RejectRule | null;
}

export interface SimOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** data port; 0 (default) = any free port */
  port?: number;
  /** host of the control listener; default: `host` when that is a loopback address, else 127.0.0.1 */
  controlHost?: string;
  /** control port (a separate listener, up while the data port is down); 0 (default) = any */
  controlPort?: number;
  /** serve HTTPS on the data port with this certificate and key (PEM) */
  tls?: { cert: string | Buffer; key: string | Buffer };
  accounts?: SimAccount[];
  /** default 43200 (12 h), as the national platform */
  tokenTtlSeconds?: number;
  /** mineId → what camera/mineStatus answers, e.g. '生产矿井' */
  mineStatuses?: Record<string, string>;
  /** what GET /sm2 answers: hex 04‖x‖y (default) or base64 SubjectPublicKeyInfo */
  publicKeyFormat?: 'hex' | 'spki';
  /** the Basic client of the token endpoint; default pcfront:pcfront */
  client?: { id: string; secret: string };
  faults?: Partial<SimFaults>;
  /** seed of the random source behind the fault rates (default: a random seed) */
  seed?: number;
  /** keep received videos in this directory (as `<seq>-<file name>`); by default only SM3, size and probe are kept */
  keepFiles?: string;
  log?: SimLogger;
  /** the clock, ms since epoch (for tests of token lifetimes); default Date.now */
  now?: () => number;
}

export interface ReceivedFile {
  partName: string;
  fileName: string;
  contentType: string;
  size: number;
  /** SM3 of the file, hex */
  sm3: string;
  /** what the MP4 probe found */
  probe: { durationMs: number; codec: string; width: number; height: number };
  /** where the file was kept (keepFiles only) */
  path?: string;
}

export interface ReceivedItem {
  /** 1, 2, … in arrival order (restarts after reset()) */
  seq: number;
  /** ms since epoch */
  at: number;
  /** contract endpoint id, e.g. 'infoReport/person', 'fileOperator/personVideo' */
  endpoint: string;
  /** username behind the Bearer token */
  account: string;
  mineId: string;
  cameraId: string;
  /** the JSON body as received (records) */
  record?: Record<string, unknown>;
  /** the video (evidence uploads) */
  file?: ReceivedFile;
  /** an identical call (same endpoint and record, or same file name and bytes) came before */
  duplicate: boolean;
  /** soft findings of the contract's rules (unusual codes, clock skew, …), as the relay flags them */
  flags: Flag[];
}

export interface ReceivedFilter {
  /** contract endpoint id or full path */
  endpoint?: string;
  mineId?: string;
  account?: string;
  /** only items with a seq greater than this */
  since?: number;
}

export interface SimStats {
  /** items recorded (duplicates included) */
  received: number;
  duplicates: number;
  /** items recorded per endpoint id */
  byEndpoint: Record<string, number>;
  /** successful logins (a re-login that got the same token included) */
  logins: number;
  /** logins refused: 401 client, 426 credentials, 400 grant_type or scope */
  loginFailures: number;
  /** data calls refused with 424 token expire */
  tokenRejected: number;
  /** data calls refused with 400 (a rule broken) or 403 (not the account's mine) */
  invalid: number;
  /** answers caused by a fault knob (5xx, code 1, reset, reject rule) */
  rejectedByFault: number;
  byFault: { error5xx: number; code1: number; resetMidUpload: number; reject: number };
  /** camera/mineStatus queries answered */
  mineStatusQueries: number;
  /** request-body bytes read on the data port */
  bodyBytes: number;
  /** seq of the last item (0 when none) */
  lastSeq: number;
}
