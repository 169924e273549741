// The appliance's configuration: one typed tree, its embedded defaults, and the rule for every
// key. A YAML file (`--config`) and ESEAL_* environment variables override the defaults; every
// mistake is reported with the key's full path.

export type TlsMode = 'auto' | 'off' | 'files';

export type RoleName = 'relay' | 'edge';
export const ROLE_NAMES: readonly RoleName[] = ['relay', 'edge'];

export interface EsealConfig {
  /** where LMDB, blobs, keys and certificates live */
  dataDir: string;
  /** the services `eseal start` runs in this process */
  roles: RoleName[];
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  relay: {
    /** host:port; IPv6 as [::]:8443 */
    listen: string;
    tls: { mode: TlsMode; cert: string; key: string };
    /** what GET /sm2 answers: uncompressed hex 04‖x‖y (sm-crypto) or base64 SubjectPublicKeyInfo (hutool) */
    publicKeyFormat: 'hex' | 'spki';
    /** the OAuth2 client every mine sends as Basic auth (the guide's pcfront:pcfront) */
    client: { id: string; secret: string };
    tokenTtlSeconds: number;
    login: {
      /** consecutive failures that lock an account */
      maxFailures: number;
      lockSeconds: number;
      /** login attempts per source address per minute */
      perAddressPerMinute: number;
    };
    /** what camera/mineStatus answers for a mine whose status the operator has not set ('' = unknown) */
    mineStatusDefault: string;
    /** records and file names whose time is further than this from the relay's clock are flagged */
    clockSkewSeconds: number;
    limits: {
      videoMaxBytes: number;
      jsonMaxBytes: number;
      jsonMaxDepth: number;
      /** time allowed to receive the request headers */
      headersTimeoutSeconds: number;
      /** time allowed to receive a whole request (a 10 MiB video on a slow mine link) */
      requestTimeoutSeconds: number;
      keepAliveSeconds: number;
      /** evidence uploads received at once; more get 503 with Retry-After */
      maxConcurrentUploads: number;
      /** connections at once */
      maxConnections: number;
    };
  };
  upstream: {
    /** the national platform (or the next relay); '' holds everything */
    url: string;
    /**
     * passthrough: mines log in with their national credentials, checked upstream and kept
     * (SM4-sealed) to forward their data; local: only accounts made with `eseal accounts add`
     */
    mode: 'passthrough' | 'local';
    /** national: the guide's API only; eseal: another eseal relay (resumable uploads); auto: ask it */
    kind: 'auto' | 'national' | 'eseal';
    /** the Basic client the relay sends upstream */
    client: { id: string; secret: string };
    /** how the relay logs in upstream: the guide's example is a GET with a query string */
    loginMethod: 'GET' | 'POST';
    /** SM2 ciphertext layout for the upstream password (the format of its key decides hex or base64) */
    cipherMode: 'C1C3C2' | 'C1C2C3' | 'DER';
    tls: {
      /** PEM file of the CA (or the self-signed certificate) to trust; '' = the system's */
      ca: string;
      /** skip certificate checks (test setups only) */
      insecure: 'no' | 'yes';
    };
    connectTimeoutSeconds: number;
    /** time allowed for one call (a 10 MiB video on the 200 Mbit/s provincial link takes under a second) */
    requestTimeoutSeconds: number;
    /** how long a camera/mineStatus answer from upstream is reused */
    mineStatusCacheSeconds: number;
  };
  forward: {
    /** calls in flight at once, per lane */
    concurrency: { status: number; record: number; evidence: number };
    /** cap on the video bytes sent upstream per second (0 = none) */
    bandwidthBytesPerSecond: number;
    retry: {
      /** first back-off; doubles per attempt, with jitter, up to maxSeconds */
      baseSeconds: number;
      maxSeconds: number;
      /** HTTP statuses worth a retry (others with a refusal are definite: dead letter) */
      statuses: number[];
      /** network error codes worth a retry */
      errors: string[];
    };
    breaker: {
      /** consecutive failures that open the circuit (stop sending, probe instead) */
      failures: number;
      /** seconds between health probes while open */
      probeSeconds: number;
    };
  };
  retention: {
    /** delivered items (and their videos) are kept this long, then purged oldest first */
    deliveredDays: number;
  };
  disk: {
    /** above this share of the data dir's file system in use, new videos are refused (507) */
    highWatermarkPercent: number;
    /** pressure purges of delivered videos stop below this */
    lowWatermarkPercent: number;
  };
  /** the edge analysis role: watches a mine's cameras and reports as a mine device would */
  edge: EdgeConfig;
}

export interface EdgeConfig {
  /** the mine the cameras belong to (12 characters) */
  mineId: string;
  /** where the edge reports: a relay (or the national platform) */
  report: {
    url: string;
    username: string;
    password: string;
    client: { id: string; secret: string };
    loginMethod: 'GET' | 'POST';
    cipherMode: 'C1C3C2' | 'C1C2C3' | 'DER';
    tls: { ca: string; insecure: 'no' | 'yes' };
  };
  /** what the mine's state is: auto asks camera/mineStatus; producing sends records, shutdown sends evidence videos */
  mineStatus: 'auto' | 'producing' | 'shutdown';
  /** the frames the analyses see */
  analysis: { width: number; height: number; fps: number };
  detector: {
    /** '' = the default CenterNet converted from @vladmandic/human; or a path to an .onnx with its .json contract beside it */
    model: string;
    /** input size of the default model (a multiple of 32) */
    inputSize: number;
    /** minimum score of a detection, in percent */
    minScorePercent: number;
    /** onnxruntime intra-op threads of the detector worker */
    threads: number;
  };
  /** the relay's model registry: the edge polls it and hot-swaps the model */
  models: { publicKey: string; name: string; pollSeconds: number };
  live: {
    /** address the MJPEG servers bind */
    host: string;
    /** the first camera's port; the next cameras count up unless they set livePort */
    basePort: number;
    /** host name or address put in the liveUrl sent to the platform ('' = the first non-internal IPv4) */
    publicHost: string;
  };
  evidence: { preSeconds: number; postSeconds: number; maxBytes: number };
  /** the edge's own store of reports not yet taken by the relay; past a bound the oldest clips go first, records never */
  outbox: { maxItems: number; maxMegabytes: number };
  /** camera/online-offine is sent this often */
  statusSeconds: number;
  /** each a mapping: name, cameraId, url, loop, livePort, analyses (see the README) */
  cameras: Record<string, unknown>[];
}

export const DEFAULT_CONFIG: EsealConfig = {
  dataDir: './var',
  roles: ['relay'],
  log: { level: 'info' },
  relay: {
    listen: '0.0.0.0:8443',
    tls: { mode: 'auto', cert: '', key: '' },
    publicKeyFormat: 'hex',
    client: { id: 'pcfront', secret: 'pcfront' },
    tokenTtlSeconds: 43200,
    login: { maxFailures: 5, lockSeconds: 900, perAddressPerMinute: 30 },
    mineStatusDefault: '',
    clockSkewSeconds: 300,
    limits: {
      videoMaxBytes: 10 * 1024 * 1024,
      jsonMaxBytes: 64 * 1024,
      jsonMaxDepth: 8,
      headersTimeoutSeconds: 30,
      requestTimeoutSeconds: 600,
      keepAliveSeconds: 75,
      maxConcurrentUploads: 64,
      maxConnections: 4096,
    },
  },
  upstream: {
    url: '',
    mode: 'passthrough',
    kind: 'auto',
    client: { id: 'pcfront', secret: 'pcfront' },
    loginMethod: 'GET',
    cipherMode: 'C1C3C2',
    tls: { ca: '', insecure: 'no' },
    connectTimeoutSeconds: 10,
    requestTimeoutSeconds: 120,
    mineStatusCacheSeconds: 600,
  },
  forward: {
    concurrency: { status: 8, record: 32, evidence: 4 },
    bandwidthBytesPerSecond: 0,
    retry: {
      baseSeconds: 1,
      maxSeconds: 300,
      statuses: [408, 425, 429, 500, 502, 503, 504],
      errors: [
        'ECONNREFUSED',
        'ECONNRESET',
        'ETIMEDOUT',
        'EPIPE',
        'EHOSTUNREACH',
        'ENETUNREACH',
        'EAI_AGAIN',
        'ENOTFOUND',
        'UND_ERR_CONNECT_TIMEOUT',
        'UND_ERR_HEADERS_TIMEOUT',
        'UND_ERR_BODY_TIMEOUT',
        'UND_ERR_SOCKET',
        'UND_ERR_CLOSED',
        'UND_ERR_ABORTED',
      ],
    },
    breaker: { failures: 5, probeSeconds: 5 },
  },
  retention: { deliveredDays: 30 },
  disk: { highWatermarkPercent: 90, lowWatermarkPercent: 80 },
  edge: {
    mineId: '',
    report: {
      url: 'https://127.0.0.1:8443',
      username: '',
      password: '',
      client: { id: 'pcfront', secret: 'pcfront' },
      loginMethod: 'GET',
      cipherMode: 'C1C3C2',
      tls: { ca: '', insecure: 'no' },
    },
    mineStatus: 'auto',
    analysis: { width: 704, height: 576, fps: 5 },
    detector: { model: '', inputSize: 512, minScorePercent: 15, threads: 1 },
    models: { publicKey: '', name: 'default', pollSeconds: 300 },
    live: { host: '0.0.0.0', basePort: 8090, publicHost: '' },
    evidence: { preSeconds: 5, postSeconds: 5, maxBytes: 10 * 1024 * 1024 - 64 * 1024 },
    outbox: { maxItems: 200_000, maxMegabytes: 8192 },
    statusSeconds: 300,
    cameras: [],
  },
};

type Rule =
  | { type: 'string'; oneOf?: readonly string[]; pattern?: RegExp; hint?: string; secret?: boolean }
  | { type: 'int'; min: number; max: number }
  /** a YAML list, or a comma-separated string in an environment variable */
  | { type: 'intList'; min: number; max: number }
  | { type: 'stringList'; pattern: RegExp; hint: string; oneOf?: readonly string[] }
  /** a YAML list of mappings, checked further by the role that owns it */
  | { type: 'mappingList'; max: number };

/** The rule for every leaf key, by its dotted path. */
export const CONFIG_RULES: Record<string, Rule> = {
  dataDir: { type: 'string', pattern: /^.+$/, hint: 'a directory path' },
  roles: { type: 'stringList', pattern: /^[a-z0-9]+$/, hint: `role names (${ROLE_NAMES.join(', ')})`, oneOf: ROLE_NAMES },
  'log.level': { type: 'string', oneOf: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
  'relay.listen': { type: 'string', pattern: /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, hint: 'host:port, e.g. 0.0.0.0:8443 or [::]:8443' },
  'relay.tls.mode': { type: 'string', oneOf: ['auto', 'off', 'files'] },
  'relay.tls.cert': { type: 'string' },
  'relay.tls.key': { type: 'string' },
  'relay.publicKeyFormat': { type: 'string', oneOf: ['hex', 'spki'] },
  'relay.client.id': { type: 'string', pattern: /^[^:\s]+$/, hint: 'no colon or white space' },
  'relay.client.secret': { type: 'string', pattern: /^\S+$/, hint: 'no white space', secret: true },
  'relay.tokenTtlSeconds': { type: 'int', min: 60, max: 30 * 86400 },
  'relay.login.maxFailures': { type: 'int', min: 1, max: 100 },
  'relay.login.lockSeconds': { type: 'int', min: 0, max: 7 * 86400 },
  'relay.login.perAddressPerMinute': { type: 'int', min: 1, max: 100000 },
  'relay.mineStatusDefault': { type: 'string' },
  'relay.clockSkewSeconds': { type: 'int', min: 1, max: 86400 },
  'relay.limits.videoMaxBytes': { type: 'int', min: 1024, max: 1024 * 1024 * 1024 },
  'relay.limits.jsonMaxBytes': { type: 'int', min: 256, max: 16 * 1024 * 1024 },
  'relay.limits.jsonMaxDepth': { type: 'int', min: 1, max: 64 },
  'relay.limits.headersTimeoutSeconds': { type: 'int', min: 1, max: 3600 },
  'relay.limits.requestTimeoutSeconds': { type: 'int', min: 1, max: 86400 },
  'relay.limits.keepAliveSeconds': { type: 'int', min: 1, max: 3600 },
  'relay.limits.maxConcurrentUploads': { type: 'int', min: 1, max: 100000 },
  'relay.limits.maxConnections': { type: 'int', min: 1, max: 1000000 },
  'upstream.url': { type: 'string', pattern: /^(|https?:\/\/\S+)$/, hint: 'an http:// or https:// URL, or empty to hold everything' },
  'upstream.mode': { type: 'string', oneOf: ['passthrough', 'local'] },
  'upstream.kind': { type: 'string', oneOf: ['auto', 'national', 'eseal'] },
  'upstream.client.id': { type: 'string', pattern: /^[^:\s]+$/, hint: 'no colon or white space' },
  'upstream.client.secret': { type: 'string', pattern: /^\S+$/, hint: 'no white space', secret: true },
  'upstream.loginMethod': { type: 'string', oneOf: ['GET', 'POST'] },
  'upstream.cipherMode': { type: 'string', oneOf: ['C1C3C2', 'C1C2C3', 'DER'] },
  'upstream.tls.ca': { type: 'string' },
  'upstream.tls.insecure': { type: 'string', oneOf: ['no', 'yes'] },
  'upstream.connectTimeoutSeconds': { type: 'int', min: 1, max: 600 },
  'upstream.requestTimeoutSeconds': { type: 'int', min: 1, max: 3600 },
  'upstream.mineStatusCacheSeconds': { type: 'int', min: 0, max: 86400 },
  'forward.concurrency.status': { type: 'int', min: 1, max: 256 },
  'forward.concurrency.record': { type: 'int', min: 1, max: 256 },
  'forward.concurrency.evidence': { type: 'int', min: 1, max: 64 },
  'forward.bandwidthBytesPerSecond': { type: 'int', min: 0, max: 10 * 1024 * 1024 * 1024 },
  'forward.retry.baseSeconds': { type: 'int', min: 1, max: 3600 },
  'forward.retry.maxSeconds': { type: 'int', min: 1, max: 86400 },
  'forward.retry.statuses': { type: 'intList', min: 100, max: 599 },
  'forward.retry.errors': { type: 'stringList', pattern: /^[A-Z][A-Z0-9_]*$/, hint: 'error codes such as ECONNRESET or UND_ERR_SOCKET' },
  'forward.breaker.failures': { type: 'int', min: 1, max: 1000 },
  'forward.breaker.probeSeconds': { type: 'int', min: 1, max: 3600 },
  'retention.deliveredDays': { type: 'int', min: 0, max: 3650 },
  'disk.highWatermarkPercent': { type: 'int', min: 1, max: 99 },
  'disk.lowWatermarkPercent': { type: 'int', min: 0, max: 98 },
  'edge.mineId': { type: 'string', pattern: /^(|\S{12})$/, hint: 'the 12-character national mine code' },
  'edge.report.url': { type: 'string', pattern: /^https?:\/\/\S+$/, hint: 'an http:// or https:// URL of the relay (or the national platform)' },
  'edge.report.username': { type: 'string' },
  'edge.report.password': { type: 'string', secret: true },
  'edge.report.client.id': { type: 'string', pattern: /^[^:\s]+$/, hint: 'no colon or white space' },
  'edge.report.client.secret': { type: 'string', pattern: /^\S+$/, hint: 'no white space', secret: true },
  'edge.report.loginMethod': { type: 'string', oneOf: ['GET', 'POST'] },
  'edge.report.cipherMode': { type: 'string', oneOf: ['C1C3C2', 'C1C2C3', 'DER'] },
  'edge.report.tls.ca': { type: 'string' },
  'edge.report.tls.insecure': { type: 'string', oneOf: ['no', 'yes'] },
  'edge.mineStatus': { type: 'string', oneOf: ['auto', 'producing', 'shutdown'] },
  'edge.analysis.width': { type: 'int', min: 64, max: 3840 },
  'edge.analysis.height': { type: 'int', min: 64, max: 2160 },
  'edge.analysis.fps': { type: 'int', min: 1, max: 30 },
  'edge.detector.model': { type: 'string' },
  'edge.detector.inputSize': { type: 'int', min: 128, max: 1024 },
  'edge.detector.minScorePercent': { type: 'int', min: 1, max: 99 },
  'edge.detector.threads': { type: 'int', min: 1, max: 64 },
  'edge.models.publicKey': { type: 'string', pattern: /^(|04[0-9a-fA-F]{128})$/, hint: "the province's model-signing public key (eseal models key), 04 and 128 hex digits" },
  'edge.models.name': { type: 'string', pattern: /^[A-Za-z0-9._-]{1,64}$/, hint: 'a model name of letters, digits, . _ -' },
  'edge.models.pollSeconds': { type: 'int', min: 10, max: 86400 },
  'edge.live.host': { type: 'string', pattern: /^\S+$/, hint: 'an address to bind, e.g. 0.0.0.0' },
  'edge.live.basePort': { type: 'int', min: 1, max: 65535 },
  'edge.live.publicHost': { type: 'string' },
  'edge.evidence.preSeconds': { type: 'int', min: 1, max: 30 },
  'edge.evidence.postSeconds': { type: 'int', min: 1, max: 30 },
  'edge.evidence.maxBytes': { type: 'int', min: 64 * 1024, max: 10 * 1024 * 1024 },
  'edge.outbox.maxItems': { type: 'int', min: 100, max: 100_000_000 },
  'edge.outbox.maxMegabytes': { type: 'int', min: 64, max: 16 * 1024 * 1024 },
  'edge.statusSeconds': { type: 'int', min: 10, max: 3600 },
  'edge.cameras': { type: 'mappingList', max: 64 },
};

/** Environment variables and the key each sets. */
export const ENV_KEYS: Record<string, string> = {
  ESEAL_DATA_DIR: 'dataDir',
  ESEAL_LOG_LEVEL: 'log.level',
  ESEAL_RELAY_LISTEN: 'relay.listen',
  ESEAL_RELAY_TLS: 'relay.tls.mode',
  ESEAL_RELAY_TLS_CERT: 'relay.tls.cert',
  ESEAL_RELAY_TLS_KEY: 'relay.tls.key',
  ESEAL_UPSTREAM_URL: 'upstream.url',
  ESEAL_UPSTREAM_MODE: 'upstream.mode',
  ESEAL_ROLES: 'roles',
  ESEAL_EDGE_REPORT_URL: 'edge.report.url',
  ESEAL_EDGE_PASSWORD: 'edge.report.password',
};
