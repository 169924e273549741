// GET /admin/devices' rows: the edges by their last heartbeat, the accounts without one (third-party
// devices) by their calls, each with the alerts computed now, at read time (nothing to keep in sync).
import { HEARTBEAT_DEFAULT_SECONDS } from '../../src/devices/heartbeat.ts';
import { bindingFor, type ModelManifest } from '../../src/models/manifest.ts';
import type { DeviceRow } from '../../src/contract/admin.ts';
import type { CallRecord, HeartbeatRecord } from './DeviceInventory.ts';

export type { DeviceRow };

export interface AlertRules {
  /** a heartbeat older than this many intervals is late (default 3) */
  lateIntervals: number;
  /** a device runs another model than its binding this long after the manifest was issued (default 10 min) */
  modelGraceMs: number;
  /** detector p95 above this (default 1000 ms) */
  detectorP95Ms: number;
  /** errors within this window (default 1 h) */
  errorWindowMs: number;
  /** an account that has called before and has been silent this long (default 1 h) */
  silentMs: number;
}

export const DEFAULT_ALERT_RULES: AlertRules = {
  lateIntervals: 3,
  modelGraceMs: 10 * 60_000,
  detectorP95Ms: 1000,
  errorWindowMs: 3600_000,
  silentMs: 3600_000,
};

/** The alerts of one row at `now` (the row's own fields only). */
export function deviceAlerts(row: Omit<DeviceRow, 'alerts'>, now: number, manifestIssuedAt: number | undefined, rules: AlertRules = DEFAULT_ALERT_RULES): string[] {
  const alerts: string[] = [];
  if (row.heartbeatAt !== undefined) {
    const interval = (row.intervalSeconds ?? HEARTBEAT_DEFAULT_SECONDS) * 1000;
    if (now - row.heartbeatAt > rules.lateIntervals * interval) alerts.push('heartbeat late');
  }
  const bound = row.boundModel;
  if (bound && row.kind === 'eseal-edge' && (manifestIssuedAt === undefined || now - manifestIssuedAt > rules.modelGraceMs)) {
    const runs = row.model;
    if (!runs || runs.name !== bound.name || (runs.sm3 !== '' && runs.sm3 !== bound.sm3)) alerts.push('model differs from binding');
  }
  if (row.detector && row.detector.runs > 0 && row.detector.p95Ms > rules.detectorP95Ms) alerts.push(`detector p95 > ${rules.detectorP95Ms} ms`);
  const offline = (row.cameras ?? []).filter((c) => c.state !== 'running').map((c) => c.cameraId);
  if (offline.length) alerts.push(`cameras not running: ${offline.slice(0, 8).join(', ')}${offline.length > 8 ? ', …' : ''}`);
  const recent = now - rules.errorWindowMs;
  if ((row.errors ?? []).some((e) => e.at > recent) || (row.lastError && row.lastError.at > recent)) alerts.push('errors in last hour');
  const total = Object.values(row.calls).reduce((a, b) => a + b, 0);
  const lastCall = row.lastSeenAt;
  if (total > 0 && now - lastCall > rules.silentMs) alerts.push('no calls for over 1 h');
  return alerts;
}

export interface RowInputs {
  heartbeats: HeartbeatRecord[];
  calls: CallRecord[];
  /** an account's mines (AccountStore) */
  minesOf: (account: string) => string[];
  manifest: ModelManifest | undefined;
  now: number;
  rules?: AlertRules;
}

/** Edges first (by account, device), then third-party accounts; newest activity first within each kind. */
export function deviceRows({ heartbeats, calls, minesOf, manifest, now, rules }: RowInputs): DeviceRow[] {
  const callsOf = new Map(calls.map((c) => [c.account, c]));
  const withHeartbeat = new Set<string>();
  const issuedAt = manifest ? Date.parse(manifest.issuedAt) : undefined;
  const bound = (deviceId: string | undefined, account: string, mineIds: string[]): DeviceRow['boundModel'] => {
    if (!manifest?.bindings?.length) return undefined;
    const b = bindingFor(manifest, { ...(deviceId ? { deviceId } : {}), account }) ?? mineIds.map((mineId) => bindingFor(manifest, { mineId })).find(Boolean);
    const entry = b && manifest.models.find((m) => m.name === b.model);
    if (!b || !entry) return undefined;
    return { name: entry.name, version: entry.version, sm3: entry.sm3, target: Object.entries(b.target).map(([k, v]) => `${k} ${v}`)[0]! };
  };
  const rows: DeviceRow[] = [];
  for (const h of heartbeats) {
    withHeartbeat.add(h.account);
    const c = callsOf.get(h.account);
    const hb = h.heartbeat;
    const mineIds = hb.mineId ? [hb.mineId] : minesOf(h.account);
    const row: Omit<DeviceRow, 'alerts'> = {
      account: h.account,
      mineIds,
      deviceId: h.deviceId,
      kind: 'eseal-edge',
      lastSeenAt: Math.max(h.receivedAt, c?.lastAt ?? 0),
      heartbeatAt: h.receivedAt,
      intervalSeconds: hb.intervalSeconds ?? HEARTBEAT_DEFAULT_SECONDS,
      startedAt: hb.startedAt,
      software: hb.software,
      model: hb.model,
      ...optional('boundModel', bound(h.deviceId, h.account, mineIds)),
      cameras: hb.cameras,
      detector: hb.detector,
      errors: hb.errors,
      calls: c?.calls ?? {},
      rejected: c?.rejected ?? 0,
      ...optional('lastError', c?.lastError),
      addresses: [h.address, ...(c?.addresses ?? []).filter((a) => a !== h.address)].filter(Boolean),
      ...optional('firstAt', c?.firstAt),
    };
    rows.push({ ...row, alerts: deviceAlerts(row, now, issuedAt, rules) });
  }
  for (const c of calls) {
    if (withHeartbeat.has(c.account)) continue;
    const mineIds = minesOf(c.account);
    const row: Omit<DeviceRow, 'alerts'> = {
      account: c.account,
      mineIds,
      kind: 'third-party',
      lastSeenAt: c.lastAt,
      ...optional('boundModel', bound(undefined, c.account, mineIds)),
      calls: c.calls,
      rejected: c.rejected,
      ...optional('lastError', c.lastError),
      addresses: c.addresses,
      firstAt: c.firstAt,
    };
    rows.push({ ...row, alerts: deviceAlerts(row, now, issuedAt, rules) });
  }
  return rows.sort((a, b) => (a.kind === b.kind ? b.lastSeenAt - a.lastSeenAt : a.kind === 'eseal-edge' ? -1 : 1));
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}
