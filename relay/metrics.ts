// Prometheus metrics of the relay (prom-client), one registry per relay instance.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { flagKind, type Flag } from '../src/contract/index.ts';

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

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'eseal_process_' });
  }

  countFlags(endpoint: string, flags: readonly Flag[]): void {
    for (const f of flags) this.flags.inc({ endpoint, flag: flagKind(f) });
  }
}
