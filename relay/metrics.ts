// Prometheus metrics of the relay (prom-client), one registry per relay instance.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LANES, flagKind, type Flag } from '../src/contract/index.ts';

export class RelayMetrics {
  readonly registry = new Registry();
  readonly accepted = new Counter({
    name: 'eseal_accepted_total',
    help: 'Calls accepted and stored, by endpoint',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'eseal_duplicates_total',
    help: 'Calls answered success without a new item because the same call was stored before',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'eseal_rejected_total',
    help: 'Calls refused, by endpoint and error code',
    labelNames: ['endpoint', 'reason'] as const,
    registers: [this.registry],
  });
  readonly flags = new Counter({
    name: 'eseal_flags_total',
    help: 'Soft findings on accepted items, by endpoint and kind',
    labelNames: ['endpoint', 'flag'] as const,
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'eseal_ingest_bytes_total',
    help: 'Evidence video bytes accepted, by endpoint',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'eseal_ingest_duration_seconds',
    help: 'Time from request to answer for data calls, by endpoint',
    labelNames: ['endpoint'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly logins = new Counter({
    name: 'eseal_logins_total',
    help: 'Login attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly forwarded = new Counter({
    name: 'eseal_forward_total',
    help: 'Forwarding attempts by endpoint and outcome (delivered, retry, dead; waitLogin: held back, its account may not log in upstream)',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly forwardLatency = new Histogram({
    name: 'eseal_forward_latency_seconds',
    help: "Time from the mine's call to the upstream's code 0, by lane (budgets: status and record 30 s, evidence 300 s)",
    labelNames: ['lane'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });
  readonly forwardLate = new Counter({
    name: 'eseal_forward_late_total',
    help: 'Items delivered after their budget, by lane',
    labelNames: ['lane'] as const,
    registers: [this.registry],
  });
  readonly forwardRedelivered = new Counter({
    name: 'eseal_forward_redelivered_total',
    help: 'Items sent again after a restart because their answer was lost in flight (at least once)',
    registers: [this.registry],
  });
  readonly forwardCorrupt = new Counter({
    name: 'eseal_forward_corrupt_total',
    help: 'Items set aside as corrupt (dead letters, ESEAL_ERR_STORE_CORRUPT): their stored video did not match its SM3 address or was missing, and the upload was aborted before it completed; by endpoint',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });
  readonly forwardAtRisk = new Gauge({
    name: 'eseal_forward_lanes_at_risk',
    help: 'Lanes whose oldest pending item has used more than half of its budget',
    registers: [this.registry],
  });
  readonly forwardAccountsWaiting = new Gauge({
    name: 'eseal_forward_accounts_waiting_login',
    help: "Accounts whose items wait because the upstream refuses their login (or they have no national credentials); other accounts' items go on",
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'eseal_queue_pending',
    help: 'Items not yet delivered, by lane',
    labelNames: ['lane'] as const,
    registers: [this.registry],
  });
  readonly queueOldest = new Gauge({
    name: 'eseal_queue_oldest_pending_seconds',
    help: 'Age of the oldest item not yet delivered, by lane',
    labelNames: ['lane'] as const,
    registers: [this.registry],
  });
  readonly queueDead = new Gauge({
    name: 'eseal_queue_dead',
    help: 'Items in dead letters (refused upstream), waiting for an operator',
    registers: [this.registry],
  });
  readonly upstreamUp = new Gauge({
    name: 'eseal_upstream_up',
    help: '1 while the circuit to the upstream is closed, 0.5 half-open, 0 open',
    registers: [this.registry],
  });

  // --- operations kit (deploy/prometheus, deploy/grafana): what the alerts and the dashboard need
  // beyond the counters above. Budgets are exported so rules compare against the contract's table
  // instead of repeating 30 s and 300 s.
  readonly forwardBudget = new Gauge({
    name: 'eseal_forward_budget_seconds',
    help: "The guide's delivery budget of each lane (constant: status and record 30 s, evidence 300 s)",
    labelNames: ['lane'] as const,
    registers: [this.registry],
  });
  readonly diskUsed = new Gauge({
    name: 'eseal_disk_used_percent',
    help: "Used share of the data directory's file system, as df counts it (checked every 10 s)",
    registers: [this.registry],
  });
  readonly diskHighWatermark = new Gauge({
    name: 'eseal_disk_high_watermark_percent',
    help: 'disk.highWatermarkPercent: at or above it new videos are refused with 507',
    registers: [this.registry],
  });
  readonly mineLastSeen = new Gauge({
    name: 'eseal_mine_last_seen_timestamp_seconds',
    help: 'When each mine last sent an accepted call (since this start; cameras report their status every 5 minutes)',
    labelNames: ['mine'] as const,
    registers: [this.registry],
  });
  /** the serving certificate (relay.tls.mode and notAfter in ms), set by relay/tls.ts; none when TLS is off */
  #tlsCertificate: { mode: string; notAfterMs: number } | undefined;
  // labelled, so that it has no sample at all (rather than 0, "expired") while TLS is off
  readonly tlsCertExpiry = new Gauge({
    name: 'eseal_tls_cert_expiry_seconds',
    help: "Seconds until the relay's TLS certificate expires, by relay.tls.mode (negative once expired; absent when the mode is off)",
    labelNames: ['mode'] as const,
    registers: [this.registry],
    collect: () => {
      const c = this.#tlsCertificate;
      if (c) this.tlsCertExpiry.set({ mode: c.mode }, (c.notAfterMs - Date.now()) / 1000);
    },
  });

  /** Records the certificate the relay serves, for eseal_tls_cert_expiry_seconds. */
  setTlsCertificate(mode: string, notAfterMs: number): void {
    this.tlsCertExpiry.reset();
    this.#tlsCertificate = { mode, notAfterMs };
  }
  // --- end operations kit
  // -- the background scrub (issue 14): the last whole pass --
  readonly scrubLastRun = new Gauge({
    name: 'eseal_scrub_last_run_timestamp_seconds',
    help: 'When the last whole scrub pass (queue and every stored video re-hashed) began, in seconds since the epoch',
    registers: [this.registry],
  });
  readonly scrubLastDuration = new Gauge({
    name: 'eseal_scrub_last_duration_seconds',
    help: 'How long the last whole scrub pass took',
    registers: [this.registry],
  });
  readonly scrubCheckedBytes = new Gauge({
    name: 'eseal_scrub_checked_bytes',
    help: 'Bytes of stored video the last whole scrub pass re-hashed',
    registers: [this.registry],
  });
  readonly scrubDamage = new Gauge({
    name: 'eseal_scrub_damage',
    help: 'Damage the last whole scrub pass found, by kind (mismatch, missingBlob, itemWithoutBlob, orphanBlob, tusFileWithoutRecord, tusRecordWithoutFile)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly scrubRunning = new Gauge({
    name: 'eseal_scrub_running',
    help: '1 while a scrub pass runs',
    registers: [this.registry],
  });
  // -- end scrub --

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'eseal_process_' });
    for (const [lane, { budgetSeconds }] of Object.entries(LANES)) this.forwardBudget.set({ lane }, budgetSeconds);
  }

  countFlags(endpoint: string, flags: readonly Flag[]): void {
    for (const f of flags) this.flags.inc({ endpoint, flag: flagKind(f) });
  }
}
