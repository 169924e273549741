// The appliance's configuration: one typed tree, its embedded defaults, and the rule for every
// key. A YAML file (`--config`) and ESEAL_* environment variables override the defaults; every
// mistake is reported with the key's full path.

export type TlsMode = 'auto' | 'off' | 'files';

export interface EsealConfig {
  /** where LMDB, blobs, keys and certificates live */
  dataDir: string;
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
  };
}

export const DEFAULT_CONFIG: EsealConfig = {
  dataDir: './var',
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
  upstream: { url: '' },
};

type Rule =
  | { type: 'string'; oneOf?: readonly string[]; pattern?: RegExp; hint?: string; secret?: boolean }
  | { type: 'int'; min: number; max: number };

/** The rule for every leaf key, by its dotted path. */
export const CONFIG_RULES: Record<string, Rule> = {
  dataDir: { type: 'string', pattern: /^.+$/, hint: 'a directory path' },
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
};
