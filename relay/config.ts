// The relay role's part of the configuration: its listener, the upstream it forwards to, how it
// forwards, how long it keeps what it delivered, and when the disk is too full to take more.
import type { ConfigSection } from '../src/config/load.ts';
import type { KernelConfig } from '../src/config/kernel.ts';
import { OneOf, Pattern, Type, type Static } from '../src/config/rules.ts';
import { DEFAULT_RETRY_LISTS } from '../src/client/outcome.ts';
import { LINK_SETTINGS, linkDefaults } from '../src/client/linkSettings.ts';

const int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });

const relaySchema = Type.Object({
  relay: Type.Object({
    /** host:port; IPv6 as [::]:8443 */
    listen: Pattern(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'host:port, e.g. 0.0.0.0:8443 or [::]:8443'),
    tls: Type.Object({ mode: OneOf(['auto', 'off', 'files']), cert: Type.String(), key: Type.String() }),
    /** what GET /sm2 answers: uncompressed hex 04‖x‖y (sm-crypto) or base64 SubjectPublicKeyInfo (hutool) */
    publicKeyFormat: OneOf(['hex', 'spki']),
    /** the OAuth2 client every mine sends as Basic auth (the guide's pcfront:pcfront) */
    client: LINK_SETTINGS.client,
    tokenTtlSeconds: int(60, 30 * 86400),
    login: Type.Object({
      /** consecutive failures that lock an account */
      maxFailures: int(1, 100),
      lockSeconds: int(0, 7 * 86400),
      /** login attempts per source address per minute */
      perAddressPerMinute: int(1, 100000),
    }),
    /** what camera/mineStatus answers for a mine whose status the operator has not set ('' = unknown) */
    mineStatusDefault: Type.String(),
    /** records and file names whose time is further than this from the relay's clock are flagged */
    clockSkewSeconds: int(1, 86400),
    limits: Type.Object({
      videoMaxBytes: int(1024, 1024 * 1024 * 1024),
      jsonMaxBytes: int(256, 16 * 1024 * 1024),
      jsonMaxDepth: int(1, 64),
      /** time allowed to receive the request headers */
      headersTimeoutSeconds: int(1, 3600),
      /**
       * time allowed to receive a whole request: the guide's 300 s evidence budget (a 10 MiB video
       * that needs longer, below ~35 KB/s, misses it anyway; resumable uploads send it in shorter requests)
       */
      requestTimeoutSeconds: int(1, 86400),
      keepAliveSeconds: int(1, 3600),
      /** evidence uploads received at once; more get 503 with Retry-After */
      maxConcurrentUploads: int(1, 100000),
      /** connections at once */
      maxConnections: int(1, 1000000),
      // -- resumable uploads (tus): what one account may hold, below what all together may (issue 9) --
      resumable: Type.Object({
        /** PATCH chunks one account sends at once; below maxConcurrentUploads (the cap for all) */
        maxChunksPerAccount: int(1, 100000),
        /** uploads created and neither complete nor expired, per account and in all */
        maxOpenPerAccount: int(1, 1000000),
        maxOpen: int(1, 1000000),
        /** the Upload-Length of those uploads added up, per account and in all */
        maxReservedBytesPerAccount: int(1024, 2 ** 50),
        maxReservedBytes: int(1024, 2 ** 50),
      }),
    }),
    /** slow or greedy clients (relay/http/ConnectionGuard.ts), for every route alike */
    connections: Type.Object({
      /** connections one source address may hold at once (a mine's NAT, an edge's pool of 64); more are closed */
      perAddress: int(1, 1000000),
      /** a request body must keep arriving at least this fast, or it is answered 408 and closed (0 = no floor) */
      minBodyBytesPerSecond: int(0, 1024 * 1024 * 1024),
      /** the body rate is measured over windows of this length */
      bodyRateWindowSeconds: int(1, 3600),
      /** time after the request headers before the body rate is first measured */
      bodyGraceSeconds: int(0, 3600),
    }),
  }),
  upstream: Type.Object({
    /** the national platform (or the next relay); '' holds everything */
    url: Pattern(/^(|https?:\/\/\S+)$/, 'an http:// or https:// URL, or empty to hold everything'),
    /**
     * passthrough: mines log in with their national credentials, checked upstream and kept
     * (SM4-sealed) to forward their data; local: only accounts made with `eseal accounts add`
     */
    mode: OneOf(['passthrough', 'local']),
    /** national: the guide's API only; eseal: another eseal relay (resumable uploads); auto: ask it */
    kind: OneOf(['auto', 'national', 'eseal']),
    /** the Basic client, login method, cipher layout and TLS trust the relay uses upstream */
    ...LINK_SETTINGS,
    connectTimeoutSeconds: int(1, 600),
    /** time allowed for one call (a 10 MiB video on the 200 Mbit/s provincial link takes under a second) */
    requestTimeoutSeconds: int(1, 3600),
    /** how long a camera/mineStatus answer from upstream is reused */
    mineStatusCacheSeconds: int(0, 86400),
  }),
  forward: Type.Object({
    /** calls in flight at once, per lane */
    concurrency: Type.Object({ status: int(1, 256), record: int(1, 256), evidence: int(1, 64) }),
    /** cap on the video bytes sent upstream per second (0 = none) */
    bandwidthBytesPerSecond: int(0, 10 * 1024 * 1024 * 1024),
    retry: Type.Object({
      /** first back-off; doubles per attempt, with jitter, up to maxSeconds */
      baseSeconds: int(1, 3600),
      maxSeconds: int(1, 86400),
      /** HTTP statuses worth a retry (others with a refusal are definite: dead letter) */
      statuses: Type.Array(int(100, 599), { maxItems: 100 }),
      /** network error codes worth a retry */
      errors: Type.Array(Pattern(/^[A-Z][A-Z0-9_]*$/, 'an error code such as ECONNRESET or UND_ERR_SOCKET'), { maxItems: 100 }),
    }),
    breaker: Type.Object({
      /** consecutive failures that open the circuit (stop sending, probe instead) */
      failures: int(1, 1000),
      /** seconds between health probes while open */
      probeSeconds: int(1, 3600),
    }),
  }),
  retention: Type.Object({
    /** delivered items (and their videos) are kept this long, then purged oldest first */
    deliveredDays: int(0, 3650),
  }),
  disk: Type.Object({
    /** above this share of the data dir's file system in use, new videos are refused (507) */
    highWatermarkPercent: int(1, 99),
    /** pressure purges of delivered videos stop below this */
    lowWatermarkPercent: int(0, 98),
  }),
  // -- integrity at rest (issue 14): the background scrub, and the database guard at open --
  scrub: Type.Object({
    /** a background pass over the queue and every stored video (re-hashed against its SM3) this often (0 = off) */
    periodHours: Type.Number({ minimum: 0, maximum: 8760 }),
    /** read rate of a background pass, so that it leaves the disk to uploads and forwarding (0 = unthrottled) */
    bytesPerSecond: int(0, 10 * 1024 * 1024 * 1024),
  }),
  database: Type.Object({
    /**
     * yes: start with an empty database although db/ is missing (or empty) and the data dir holds
     * videos or uploads (the database is lost for good); no: refuse to start over a lost database
     */
    allowFresh: OneOf(['yes', 'no']),
  }),
  // -- end integrity at rest --
});

export type RelaySettings = Static<typeof relaySchema>;
/** What the relay's code reads: the kernel's keys and its own. */
export type RelayConfig = KernelConfig & RelaySettings;
export type TlsMode = RelaySettings['relay']['tls']['mode'];

export const RELAY_DEFAULTS: RelaySettings = {
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
      requestTimeoutSeconds: 300,
      keepAliveSeconds: 75,
      maxConcurrentUploads: 64,
      maxConnections: 4096,
      // A mine with 4 cameras sends each clip (10 s, at most 10 MiB) once per event, one at a time
      // per camera or fewer (the edge: 2), and resumes its own uploads: 4 chunks, 4 open uploads and
      // 40 MiB at the most, plus what a device restart leaves behind until it expires. These are
      // 2 to 8 times that; an attacker's account holds at most 200 MiB, not the disk.
      resumable: {
        maxChunksPerAccount: 8,
        maxOpenPerAccount: 32,
        maxOpen: 4096,
        maxReservedBytesPerAccount: 200 * 1024 * 1024,
        maxReservedBytes: 8 * 1024 * 1024 * 1024,
      },
    },
    connections: {
      perAddress: 256,
      minBodyBytesPerSecond: 2048,
      bodyRateWindowSeconds: 30,
      bodyGraceSeconds: 10,
    },
  },
  upstream: {
    url: '',
    mode: 'passthrough',
    kind: 'auto',
    ...linkDefaults(),
    connectTimeoutSeconds: 10,
    requestTimeoutSeconds: 120,
    mineStatusCacheSeconds: 600,
  },
  forward: {
    concurrency: { status: 8, record: 32, evidence: 4 },
    bandwidthBytesPerSecond: 0,
    retry: { baseSeconds: 1, maxSeconds: 300, statuses: [...DEFAULT_RETRY_LISTS.statuses], errors: [...DEFAULT_RETRY_LISTS.errors] },
    breaker: { failures: 5, probeSeconds: 5 },
  },
  retention: { deliveredDays: 30 },
  disk: { highWatermarkPercent: 90, lowWatermarkPercent: 80 },
  // integrity at rest (issue 14)
  scrub: { periodHours: 24, bytesPerSecond: 20 * 1024 * 1024 },
  database: { allowFresh: 'no' },
};

export const relayConfigSection: ConfigSection<RelayConfig> = {
  schema: relaySchema,
  defaults: RELAY_DEFAULTS,
  env: {
    ESEAL_RELAY_LISTEN: 'relay.listen',
    ESEAL_RELAY_TLS: 'relay.tls.mode',
    ESEAL_RELAY_TLS_CERT: 'relay.tls.cert',
    ESEAL_RELAY_TLS_KEY: 'relay.tls.key',
    ESEAL_UPSTREAM_URL: 'upstream.url',
    ESEAL_UPSTREAM_MODE: 'upstream.mode',
    // integrity at rest (issue 14)
    ESEAL_SCRUB_PERIOD_HOURS: 'scrub.periodHours',
    ESEAL_SCRUB_BYTES_PER_SECOND: 'scrub.bytesPerSecond',
    ESEAL_DATABASE_ALLOW_FRESH: 'database.allowFresh',
  },
  finish(c, given) {
    // certificate files given alone mean "use these files"
    if ((given.has('relay.tls.cert') || given.has('relay.tls.key')) && !given.has('relay.tls.mode')) c.relay.tls.mode = 'files';
    const problems: string[] = [];
    if (c.disk.lowWatermarkPercent >= c.disk.highWatermarkPercent) {
      problems.push(`disk.lowWatermarkPercent: must be below disk.highWatermarkPercent (${c.disk.highWatermarkPercent}), got ${c.disk.lowWatermarkPercent}`);
    }
    if (c.forward.retry.baseSeconds > c.forward.retry.maxSeconds) {
      problems.push(`forward.retry.baseSeconds: must not exceed forward.retry.maxSeconds (${c.forward.retry.maxSeconds})`);
    }
    if (c.relay.tls.mode === 'files' && (!c.relay.tls.cert || !c.relay.tls.key)) {
      problems.push('relay.tls: mode files needs both relay.tls.cert and relay.tls.key (ESEAL_RELAY_TLS_CERT, ESEAL_RELAY_TLS_KEY)');
    }
    problems.push(...resumableLimitProblems(c, given));
    return problems;
  },
};

/**
 * One account must never take all of a resumable-upload resource: each per-account limit stays
 * below its global one. A per-account limit left at its default follows a lower global one down
 * (a relay that takes one chunk at a time has no room to share, and keeps 1).
 */
function resumableLimitProblems(c: RelaySettings, given: ReadonlySet<string>): string[] {
  const limits = c.relay.limits;
  const r = limits.resumable;
  const at = 'relay.limits.resumable.';
  const pairs: [keyof typeof r, number, string][] = [
    ['maxChunksPerAccount', limits.maxConcurrentUploads, 'relay.limits.maxConcurrentUploads'],
    ['maxOpenPerAccount', r.maxOpen, `${at}maxOpen`],
    ['maxReservedBytesPerAccount', r.maxReservedBytes, `${at}maxReservedBytes`],
  ];
  const problems: string[] = [];
  for (const [key, global, globalKey] of pairs) {
    if (r[key] < global) continue;
    if (given.has(at + key)) problems.push(`${at}${key}: must be below ${globalKey} (${global}), so that one account cannot take them all; got ${r[key]}`);
    else r[key] = Math.max(1, global - 1);
  }
  if (r.maxReservedBytesPerAccount < limits.videoMaxBytes) {
    problems.push(
      `${at}maxReservedBytesPerAccount: must be at least relay.limits.videoMaxBytes (${limits.videoMaxBytes}), else a video of the largest size can never be uploaded; got ${r.maxReservedBytesPerAccount}`,
    );
  }
  return problems;
}
