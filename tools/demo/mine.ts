// The demo's mine and its script: who it is, the calls of one round (every record endpoint and
// every evidence upload once), and the rounds it sends before, during and after the platform's
// outage, keeping what it sent and what the relay answered.
import { createReadStream } from 'node:fs';
import { NationalClient, type ApiAnswer } from '../../src/client/NationalClient.ts';
import {
  BELT_STATUS_CODES,
  CAMERA_ALARM,
  EVIDENCE_ENDPOINTS,
  RECORD_ENDPOINTS,
  formatCount,
  formatEvidenceFileName,
  formatJsonTime,
  type EvidenceEndpoint,
  type RecordEndpoint,
} from '../../src/contract/index.ts';
import type { NationalSimulator } from '../../sim/national/index.ts';
import type { EvidenceKind, VideoFile } from './clips.ts';
import { pendingByLane, totalPending, upstreamState, type RelayStatus } from './relay.ts';
import { seconds, sleep } from './time.ts';

export const MINE = '140421007866';
export const MINE_STATUS = '生产矿井';
/** the mine's national account; the relay learns it from the mine's first login (passthrough) */
export const ACCOUNT = { username: 'mine001', password: 'Demo+Seal/2024', org: 'XX煤矿' };

export interface DemoPlan {
  /** one round (every call once) starts every intervalMs */
  intervalMs: number;
  roundsBefore: number;
  /** rounds sent while the platform is down: the outage lasts roundsDuring × intervalMs */
  roundsDuring: number;
  roundsAfter: number;
  /** how long the platform may take to have everything once the mine has stopped */
  deliveryWaitMs: number;
}

export const PLANS: Record<'full' | 'quick', DemoPlan> = {
  full: { intervalMs: 2000, roundsBefore: 3, roundsDuring: 5, roundsAfter: 2, deliveryWaitMs: 45_000 },
  quick: { intervalMs: 1000, roundsBefore: 2, roundsDuring: 4, roundsAfter: 1, deliveryWaitMs: 20_000 },
};

export function roundsOf(plan: DemoPlan): number {
  return plan.roundsBefore + plan.roundsDuring + plan.roundsAfter;
}

/** One call of the mine, and what the relay answered. */
export interface SentItem {
  endpoint: RecordEndpoint | EvidenceEndpoint;
  /** what identifies the item on the platform's side (endpoint, camera and time; or file name) */
  key: string;
  round: number;
  platformDown: boolean;
  /** ms since epoch when the mine started the call */
  calledAt: number;
  record?: Record<string, unknown>;
  file?: { fileName: string } & VideoFile;
  /** why the relay's answer was not success, if it was not */
  refused?: string;
}

/** The calls of one round: every record endpoint and every evidence upload once, for the instant `at`. */
function roundCalls(round: number, at: number, clips: Record<EvidenceKind, VideoFile[]>) {
  const time = formatJsonTime(at);
  const base = { mineId: MINE };
  const shaft = round % 2 ? '20' : '10';
  const persons = formatCount(3 + (round % 7));
  const trucks = formatCount(1 + (round % 3));
  const belt = BELT_STATUS_CODES[round % BELT_STATUS_CODES.length]!;
  const cover = round % 2 ? '05' : '04';
  const R = RECORD_ENDPOINTS;
  const records: [RecordEndpoint, Record<string, unknown>][] = [
    [R.person, { ...base, cameraId: shaft, aiTypeCode: '01', inWellNumber: persons, time }],
    [R.truck, { ...base, cameraId: '30', aiTypeCode: '02', outMineNumber: trucks, time }],
    [R.belt, { ...base, cameraId: '10', aiTypeCode: '03', beltStatus: belt, time }],
    [R.dispatchingRoom, { ...base, cameraId: '40', aiTypeCode: '06', time }],
    [R.occlusion, { ...base, cameraId: '20', aiTypeCode: cover, time }],
    [R.cameraLive, { ...base, cameraId: '10', liveUrl: `http://10.14.4.21:8080/mjpeg/${MINE}10`, time }],
    [R.cameraOnline, { ...base, cameraId: '30', alarm: round % 2 ? CAMERA_ALARM.online : CAMERA_ALARM.offline, time }],
  ];
  const E = EVIDENCE_ENDPOINTS;
  const clip = (kind: EvidenceKind) => clips[kind][round]!;
  const name = (form: EvidenceEndpoint['fileForm'], cameraId: string, aiTypeCode: string, extra: { count?: string; beltStatus?: string } = {}) =>
    formatEvidenceFileName(form, { mineId: MINE, cameraId, aiTypeCode, ...extra, time: at });
  const videos: [EvidenceEndpoint, string, VideoFile][] = [
    [E.personVideo, name('count', shaft, '01', { count: persons }), clip('personVideo')],
    [E.truckVideo, name('count', '30', '02', { count: trucks }), clip('truckVideo')],
    [E.beltVideo, name('belt', '10', '03', { beltStatus: belt }), clip('beltVideo')],
    [E.dispatchingRoomVideo, name('plain', '40', '06'), clip('dispatchingRoomVideo')],
    [E.cameraCoverVideo, name('plain', '20', cover), clip('cameraCoverVideo')],
  ];
  return { records, videos };
}

function refusal(a: ApiAnswer): string | undefined {
  if (a.status === 200 && a.envelope?.code === 0) return undefined;
  return `HTTP ${a.status} ${a.text.slice(0, 160)}`;
}

export function recordKey(endpointId: string, record: Record<string, unknown> | undefined): string {
  return `${endpointId} camera ${String(record?.['cameraId'])} at ${String(record?.['time'])}`;
}

export function fileKey(endpointId: string, fileName: string): string {
  return `${endpointId} ${fileName}`;
}

async function answered(item: SentItem, call: Promise<ApiAnswer>): Promise<SentItem> {
  try {
    const why = refusal(await call);
    return why ? { ...item, refused: why } : item;
  } catch (err) {
    return { ...item, refused: (err as Error).message };
  }
}

/** Sends one round, all its calls at once, as a busy analysis device would. */
function sendRound(
  mine: NationalClient,
  token: string,
  round: number,
  at: number,
  platformDown: boolean,
  clips: Record<EvidenceKind, VideoFile[]>,
): Promise<SentItem[]> {
  const { records, videos } = roundCalls(round, at, clips);
  const calls: Promise<SentItem>[] = [];
  for (const [endpoint, record] of records) {
    const item: SentItem = { endpoint, key: recordKey(endpoint.id, record), round, platformDown, calledAt: Date.now(), record };
    calls.push(answered(item, mine.sendRecord(endpoint, record, token)));
  }
  for (const [endpoint, fileName, video] of videos) {
    const item: SentItem = { endpoint, key: fileKey(endpoint.id, fileName), round, platformDown, calledAt: Date.now(), file: { fileName, ...video } };
    calls.push(answered(item, mine.sendEvidence(endpoint, fileName, video.size, createReadStream(video.path), token)));
  }
  return Promise.all(calls);
}

export interface MineScript {
  plan: DemoPlan;
  sim: NationalSimulator;
  /** GET /admin/status of the relay */
  relayStatus(): Promise<RelayStatus>;
  mine: NationalClient;
  token: string;
  clips: Record<EvidenceKind, VideoFile[]>;
  say(line: string): void;
}

/**
 * The rounds, one every plan.intervalMs: the platform goes down before round roundsBefore + 1 and
 * comes back after roundsDuring rounds (once the relay has said what it holds). Resolves with
 * every call sent and when the platform came back.
 */
export async function runMineScript(s: MineScript): Promise<{ sent: SentItem[]; upAt: number }> {
  const { plan, sim, say } = s;
  const rounds = roundsOf(plan);
  const outageMs = plan.roundsDuring * plan.intervalMs;
  const sent: SentItem[] = [];
  const start = Date.now();
  let platformDown = false;
  let downAt = 0;
  let upAt = 0;
  for (let round = 0; round < rounds; round++) {
    const at = start + round * plan.intervalMs;
    await sleep(at - Date.now());
    if (round === plan.roundsBefore) {
      await sim.setFaults({ down: true });
      platformDown = true;
      downAt = Date.now();
      say(`national platform DOWN (connections refused) for ${seconds(outageMs)}; the mine keeps sending`);
    }
    if (round === plan.roundsBefore + plan.roundsDuring) {
      const held = await s.relayStatus();
      say(`relay holds ${totalPending(held)} items (pending: ${pendingByLane(held)}); upstream ${upstreamState(held)}`);
      await sim.setFaults({ down: false });
      platformDown = false;
      upAt = Date.now();
      say(`national platform back up after ${seconds(upAt - downAt)}`);
    }
    const began = Date.now();
    const items = await sendRound(s.mine, s.token, round, at, platformDown, s.clips);
    sent.push(...items);
    const refused = items.filter((i) => i.refused).length;
    say(
      `round ${round + 1}/${rounds}${platformDown ? ' (platform down)' : ''}: 7 records, 5 videos → ` +
        `${refused ? `${refused} REFUSED` : 'all answered success'} by the relay in ${Date.now() - began} ms`,
    );
  }
  return { sent, upAt };
}
