// The demo's verdict: every item the mine sent looked up on the platform's side and compared
// (records field for field, videos by SM3, size, file name and part name), shown as tables, and
// the last line: PROOF, or FAILED with the first problem.
import { isDeepStrictEqual } from 'node:util';
import { formatTable, type CommandIO } from '../../src/cli/command.ts';
import { EVIDENCE_ENDPOINTS, LANES, RECORD_ENDPOINTS, type EvidenceEndpoint, type Lane } from '../../src/contract/index.ts';
import type { ReceivedItem } from '../../sim/national/index.ts';
import { ACCOUNT, fileKey, recordKey, type SentItem } from './mine.ts';
import { totalPending, upstreamState, type RelayStatus } from './relay.ts';
import { seconds, sleep } from './time.ts';

export interface Verdict {
  sent: SentItem;
  /** the first arrival on the platform */
  received?: ReceivedItem;
  /** arrivals after the first */
  duplicates: number;
  differences: string[];
}

export interface Comparison {
  verdicts: Verdict[];
  /** what the platform received that the mine never sent */
  unexpected: ReceivedItem[];
}

function receivedKey(item: ReceivedItem): string {
  return item.file ? fileKey(item.endpoint, item.file.fileName) : recordKey(item.endpoint, item.record);
}

function differences(sent: SentItem, got: ReceivedItem): string[] {
  const out: string[] = [];
  if (got.account !== ACCOUNT.username) out.push(`forwarded as account ${got.account}, not ${ACCOUNT.username}`);
  if (sent.record) {
    const r = got.record ?? {};
    for (const field of new Set([...Object.keys(sent.record), ...Object.keys(r)])) {
      if (!isDeepStrictEqual(sent.record[field], r[field])) out.push(`${field}: sent ${JSON.stringify(sent.record[field])}, received ${JSON.stringify(r[field])}`);
    }
  }
  if (sent.file) {
    const f = got.file;
    const endpoint = sent.endpoint as EvidenceEndpoint;
    if (!f) {
      out.push('received without its file');
    } else {
      if (f.partName !== endpoint.partName) out.push(`part ${f.partName}, not ${endpoint.partName}`);
      if (f.fileName !== sent.file.fileName) out.push(`file name ${f.fileName}`);
      if (f.size !== sent.file.size) out.push(`${f.size} bytes, not ${sent.file.size}`);
      if (f.sm3 !== sent.file.sm3) out.push(`SM3 ${f.sm3.slice(0, 16)}…, not ${sent.file.sm3.slice(0, 16)}…`);
    }
  }
  return out;
}

export function compare(sent: SentItem[], received: ReceivedItem[]): Comparison {
  const arrivals = new Map<string, ReceivedItem[]>();
  for (const item of received) {
    const key = receivedKey(item);
    const list = arrivals.get(key);
    if (list) list.push(item);
    else arrivals.set(key, [item]);
  }
  const sentKeys = new Set(sent.map((s) => s.key));
  const verdicts = sent.map((s): Verdict => {
    const got = arrivals.get(s.key) ?? [];
    const first = got[0];
    return first ? { sent: s, received: first, duplicates: got.length - 1, differences: differences(s, first) } : { sent: s, duplicates: 0, differences: [] };
  });
  const unexpected = received.filter((r) => !sentKeys.has(receivedKey(r)));
  return { verdicts, unexpected };
}

function latencyMs(v: Verdict): number {
  return v.received ? v.received.at - v.sent.calledAt : 0;
}

/**
 * Compares until everything the relay acknowledged has arrived, the relay has nothing pending
 * (the platform records an item before it answers, so there is nothing more to wait for), or
 * `waitMs` has passed.
 */
export async function awaitDelivery(
  sent: SentItem[],
  platform: { received(): ReceivedItem[] },
  relayStatus: () => Promise<RelayStatus>,
  waitMs: number,
): Promise<Comparison> {
  const stoppedSending = Date.now();
  let result = compare(sent, platform.received());
  for (let polls = 1; !result.verdicts.every((v) => v.sent.refused || v.received); polls++) {
    if (Date.now() - stoppedSending > waitMs) break;
    if (polls % 10 === 0 && totalPending(await relayStatus()) === 0) {
      result = compare(sent, platform.received());
      break;
    }
    await sleep(100);
    result = compare(sent, platform.received());
  }
  return result;
}

/** Prints the tables and any problems; answers the last line and the exit code. */
export function report(io: CommandIO, sent: SentItem[], result: Comparison, final: RelayStatus): { verdict: string; exitCode: number } {
  io.out('');
  io.out('What the mine sent, and what the national platform received:');
  const endpoints = [...Object.values(RECORD_ENDPOINTS), ...Object.values(EVIDENCE_ENDPOINTS)];
  const rows = endpoints.map((e) => {
    const vs = result.verdicts.filter((v) => v.sent.endpoint.id === e.id);
    return [
      e.id,
      e.lane,
      String(vs.length),
      String(vs.filter((v) => v.received).length),
      String(vs.filter((v) => v.received && v.differences.length === 0).length),
      String(vs.reduce((n, v) => n + v.duplicates, 0)),
      seconds(Math.max(0, ...vs.map(latencyMs))),
    ];
  });
  const total = (i: number) => String(rows.reduce((n, r) => n + Number(r[i]), 0));
  rows.push(['total', '', total(2), total(3), total(4), total(5), '']);
  for (const line of formatTable(['ENDPOINT', 'LANE', 'SENT', 'RECEIVED', 'IDENTICAL', 'DUPLICATES', 'SLOWEST'], rows, new Set([2, 3, 4, 5, 6]))) io.out(`  ${line}`);
  io.out('  identical: records field for field; videos by SM3 of the bytes, size, file name and part name');

  io.out('');
  io.out("Longest time from the mine's call to the platform receiving it, per lane:");
  const late: string[] = [];
  for (const lane of Object.keys(LANES) as Lane[]) {
    const vs = result.verdicts.filter((v) => v.sent.endpoint.lane === lane && v.received);
    const worst = vs.reduce<Verdict | undefined>((a, b) => (!a || latencyMs(b) > latencyMs(a) ? b : a), undefined);
    if (!worst) continue;
    const ms = latencyMs(worst);
    const budget = LANES[lane].budgetSeconds;
    const within = ms <= budget * 1000;
    if (!within) late.push(`${lane} lane: ${seconds(ms)}, budget ${budget} s`);
    io.out(
      `  ${lane.padEnd(9)}${seconds(ms).padStart(7)} of ${String(budget).padStart(3)} s  ${within ? 'ok' : 'LATE'}  ` +
        `(${worst.sent.endpoint.id}, round ${worst.sent.round + 1}, sent while the platform was ${worst.sent.platformDown ? 'down' : 'up'})`,
    );
  }

  io.out('');
  io.out(`The relay's own figures (GET /admin/status, what eseal status shows): upstream ${upstreamState(final)}`);
  const laneRows = Object.entries(final.lanes).map(([lane, l]) => [
    lane,
    String(l.pending),
    l.inFlight === undefined ? '-' : String(l.inFlight),
    l.delivered === undefined ? '-' : String(l.delivered),
    l.late === undefined ? '-' : String(l.late),
    `${l.budgetSeconds}s`,
    l.atRisk ? 'AT RISK' : '',
  ]);
  for (const line of formatTable(['LANE', 'PENDING', 'IN FLIGHT', 'DELIVERED', 'LATE', 'BUDGET', ''], laneRows, new Set([1, 2, 3, 4, 5]))) io.out(`  ${line}`);
  io.out(`  queue: ${final.queue.ready + final.queue.leased} pending, ${final.queue.dead} dead, ${final.queue.done} delivered and kept; ${final.redelivered ?? 0} redelivered`);
  io.out('');

  const problems: string[] = [];
  for (const s of sent) if (s.refused) problems.push(`refused by the relay: ${s.key}: ${s.refused}`);
  for (const v of result.verdicts) {
    if (v.sent.refused) continue;
    if (!v.received) problems.push(`missing on the platform: ${v.sent.key}`);
    else if (v.differences.length) problems.push(`different on the platform: ${v.sent.key}: ${v.differences.join('; ')}`);
  }
  for (const u of result.unexpected) problems.push(`received but never sent: ${receivedKey(u)}`);
  for (const l of late) problems.push(`over budget: ${l}`);
  if (final.queue.dead > 0) problems.push(`${final.queue.dead} dead letter(s) on the relay: the platform refused them (with --keep DIR, see ESEAL_DATA_DIR=DIR/relay-data eseal queue ls --state dead)`);

  const records = sent.filter((s) => s.record).length;
  const videos = sent.filter((s) => s.file).length;
  const duplicates = result.verdicts.reduce((n, v) => n + v.duplicates, 0);
  if (problems.length === 0) {
    return { verdict: `PROOF: all ${sent.length} items arrived exactly as sent (${records} records, ${videos} videos), ${duplicates} duplicates`, exitCode: 0 };
  }
  io.out('Problems:');
  for (const p of problems.slice(0, 20)) io.out(`  ${p}`);
  if (problems.length > 20) io.out(`  … and ${problems.length - 20} more`);
  io.out('');
  return {
    verdict: `FAILED: ${problems.length} problem(s) among ${sent.length} items (${records} records, ${videos} videos): ${problems[0]}${problems.length > 1 ? ' …' : ''}`,
    exitCode: 1,
  };
}
