// `npm run demo`: the relay's promise shown end to end in under a minute. A simulated national
// platform runs in this process; the relay runs as a child process (`eseal start`, as it is
// deployed: the kernel never imports the relay role); a scripted mine sends every kind of call
// through it over HTTPS while the platform goes down and comes back; then every item the mine
// sent is looked up on the platform side and compared, records field for field and videos by
// SM3, file name and part name.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Agent, request } from 'undici';
import { formatTable, type Command, type CommandIO } from '../../src/cli/command.ts';
import { NationalClient, type ApiAnswer } from '../../src/client/NationalClient.ts';
import { ffmpegPath } from '../../src/media/ffmpeg.ts';
import {
  BELT_STATUS_CODES,
  CAMERA_ALARM,
  EVIDENCE_ENDPOINTS,
  LANES,
  RECORD_ENDPOINTS,
  formatCount,
  formatEvidenceFileName,
  formatJsonTime,
  type EvidenceEndpoint,
  type Lane,
  type RecordEndpoint,
} from '../../src/contract/index.ts';
import { createSm3 } from '../../src/crypto/sm3.ts';
import { SimOptionsInvalid } from '../../sim/errors.ts';
import { NationalSimulator, type ReceivedItem } from '../../sim/national/index.ts';

const MINE = '140421007866';
const MINE_STATUS = '生产矿井';
/** the mine's national account; the relay learns it from the mine's first login (passthrough) */
const ACCOUNT = { username: 'mine001', password: 'Demo+Seal/2024', org: 'XX煤矿' };

interface DemoPlan {
  /** one round (every call once) starts every intervalMs */
  intervalMs: number;
  roundsBefore: number;
  /** rounds sent while the platform is down: the outage lasts roundsDuring × intervalMs */
  roundsDuring: number;
  roundsAfter: number;
  /** how long the platform may take to have everything once the mine has stopped */
  deliveryWaitMs: number;
}

const PLANS: Record<'full' | 'quick', DemoPlan> = {
  full: { intervalMs: 2000, roundsBefore: 3, roundsDuring: 5, roundsAfter: 2, deliveryWaitMs: 45_000 },
  quick: { intervalMs: 1000, roundsBefore: 2, roundsDuring: 4, roundsAfter: 1, deliveryWaitMs: 20_000 },
};

// Quick back-off and probing so that the recovery shows within seconds (the defaults suit a
// national platform that is down for minutes: up to 300 s between tries).
const RELAY_CONFIG = [
  '# written by eseal sim demo',
  'forward:',
  '  retry: { baseSeconds: 1, maxSeconds: 2 }',
  '  breaker: { failures: 3, probeSeconds: 1 }',
  '',
].join('\n');

const RELAY_START_TIMEOUT_MS = 30_000;
const RELAY_STOP_TIMEOUT_MS = 10_000;

type EvidenceKind = keyof typeof EVIDENCE_ENDPOINTS;

/** A lavfi test pattern per kind of evidence, so the clips of one kind look alike and differ from the others. */
const VIDEO_PATTERNS: Record<EvidenceKind, string> = {
  personVideo: 'testsrc',
  truckVideo: 'testsrc2',
  beltVideo: 'smptebars',
  dispatchingRoomVideo: 'rgbtestsrc',
  cameraCoverVideo: 'yuvtestsrc',
};

interface VideoFile {
  path: string;
  size: number;
  sm3: string;
}

/** One call of the mine, and what the relay answered. */
interface SentItem {
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

interface Verdict {
  sent: SentItem;
  /** the first arrival on the platform */
  received?: ReceivedItem;
  /** arrivals after the first */
  duplicates: number;
  differences: string[];
}

/** The part of the relay's GET /admin/status that the demo shows. */
interface RelayStatus {
  upstream: { url: string; state: string; lastError?: string } | null;
  lanes: Record<string, { pending: number; inFlight?: number; budgetSeconds: number; delivered?: number; late?: number; atRisk: boolean }>;
  queue: { ready: number; leased: number; dead: number; done: number };
  redelivered?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

// ---- videos ------------------------------------------------------------------------------

function runFfmpeg(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    execFile(ffmpegPath(), args, { maxBuffer: 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) fail(new Error(`ffmpeg failed (${ffmpegPath()}): ${String(stderr).trim() || err.message}`, { cause: err }));
      else done();
    });
  });
}

async function sm3OfFile(path: string): Promise<string> {
  const hash = createSm3();
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * `count` distinct 2-second H.264 clips of one kind from one ffmpeg run: the kind's test pattern,
 * its hue turned a little further for each clip (and a comment naming the clip, for certainty).
 */
async function makeClips(dir: string, kind: EvidenceKind, count: number): Promise<VideoFile[]> {
  const labels = Array.from({ length: count }, (_, i) => i);
  const split = `[0:v]split=${count}${labels.map((i) => `[s${i}]`).join('')}`;
  const hues = labels.map((i) => `[s${i}]hue=h=${Math.round((i * 360) / count)}[v${i}]`);
  const paths = labels.map((i) => join(dir, `${kind}-${i + 1}.mp4`));
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'];
  args.push('-f', 'lavfi', '-i', `${VIDEO_PATTERNS[kind]}=size=320x240:rate=10:duration=2`);
  args.push('-filter_complex', [split, ...hues].join(';'));
  for (const i of labels) {
    args.push('-map', `[v${i}]`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '10');
    args.push('-metadata', `comment=eseal demo ${kind} ${i + 1}`, '-f', 'mp4', paths[i]!);
  }
  await runFfmpeg(args);
  return Promise.all(paths.map(async (path) => ({ path, size: (await stat(path)).size, sm3: await sm3OfFile(path) })));
}

async function makeAllClips(dir: string, rounds: number): Promise<Record<EvidenceKind, VideoFile[]>> {
  await mkdir(dir, { recursive: true });
  const kinds = Object.keys(EVIDENCE_ENDPOINTS) as EvidenceKind[];
  const made = await Promise.all(kinds.map((k) => makeClips(dir, k, rounds)));
  const all = made.flat();
  if (new Set(all.map((v) => v.sm3)).size !== all.length) throw new Error('ffmpeg made two identical clips; the demo needs distinct videos');
  return Object.fromEntries(kinds.map((k, i) => [k, made[i]!])) as Record<EvidenceKind, VideoFile[]>;
}

// ---- the relay, as a child process ------------------------------------------------------

interface RelayChild {
  url: string;
  /** PEM of its self-signed certificate: what the mine trusts */
  cert: string;
  adminToken: string;
  /** SIGTERM, then waits (SIGKILL after RELAY_STOP_TIMEOUT_MS); resolves with how it ended */
  stop(): Promise<string>;
  /** kills it at once (the demo itself is being stopped) */
  kill(): void;
}

/** `eseal start` from the sources, through tsx (the demo is a tool of the source tree, not built). */
function esealCommand(): { args: string[]; cwd: string } {
  return { args: ['--import', 'tsx', fileURLToPath(new URL('../../app/main.ts', import.meta.url))], cwd: fileURLToPath(new URL('../../', import.meta.url)) };
}

/** The environment of the child: ours without any ESEAL_* setting, plus the demo's. */
function relayEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ESEAL_')) env[k] = v;
  return { ...env, ...settings };
}

async function startRelayChild(options: { dataDir: string; configFile: string; upstreamUrl: string; logFile: string }): Promise<RelayChild> {
  const { args, cwd } = esealCommand();
  const log = createWriteStream(options.logFile);
  const child: ChildProcess = spawn(process.execPath, [...args, 'start', '--config', options.configFile], {
    cwd,
    env: relayEnv({
      ESEAL_DATA_DIR: options.dataDir,
      ESEAL_RELAY_LISTEN: '127.0.0.1:0',
      ESEAL_RELAY_TLS: 'auto',
      ESEAL_LOG_LEVEL: 'info',
      ESEAL_UPSTREAM_URL: options.upstreamUrl,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errTail: string[] = [];
  const exited = new Promise<string>((done) => {
    child.once('exit', (code, signal) => done(signal ? `signal ${signal}` : `exit code ${code}`));
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    errTail.push(chunk.toString('utf8'));
    if (errTail.length > 20) errTail.shift();
  });
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`the relay did not start within ${RELAY_START_TIMEOUT_MS / 1000} s; its log: ${options.logFile}`)),
      RELAY_START_TIMEOUT_MS,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.write(line + '\n');
      if (!line.includes('"relay listening"')) return;
      clearTimeout(timer);
      try {
        done((JSON.parse(line) as { url: string }).url);
      } catch (err) {
        fail(new Error(`cannot read the relay's "relay listening" line: ${line}`, { cause: err }));
      }
    });
    void exited.then((how) => {
      clearTimeout(timer);
      fail(new Error(`the relay ended (${how}) before listening: ${errTail.join('').trim().slice(-800) || `see ${options.logFile}`}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    log.end();
    throw err;
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const [cert, adminToken] = await Promise.all([
    readFile(join(options.dataDir, 'tls', 'relay.crt'), 'utf8'),
    readFile(join(options.dataDir, 'admin.token'), 'utf8').then((t) => t.trim()),
  ]).catch((err: unknown) => {
    child.kill('SIGKILL');
    log.end();
    throw err;
  });
  return {
    url,
    cert,
    adminToken,
    async stop() {
      if (alive()) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), RELAY_STOP_TIMEOUT_MS);
      const how = await exited;
      clearTimeout(timer);
      await new Promise((r) => log.end(r));
      return how;
    },
    kill() {
      if (alive()) child.kill('SIGKILL');
    },
  };
}

async function fetchRelayStatus(relay: RelayChild, dispatcher: Agent): Promise<RelayStatus> {
  const res = await request(`${relay.url}/admin/status`, {
    headers: { authorization: `Bearer ${relay.adminToken}` },
    dispatcher,
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  if (res.statusCode !== 200) {
    const text = await res.body.text();
    throw new Error(`GET /admin/status answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  }
  return (await res.body.json()) as RelayStatus;
}

function upstreamState(s: RelayStatus): string {
  if (!s.upstream) return 'none configured';
  const st = s.upstream.state;
  const shown = st === 'closed' ? 'up' : st === 'open' ? 'DOWN' : st === 'halfOpen' ? 'probing' : st;
  return `${shown}${s.upstream.lastError && shown !== 'up' ? ` (${s.upstream.lastError})` : ''}`;
}

function pendingByLane(s: RelayStatus): string {
  return Object.entries(s.lanes)
    .map(([lane, l]) => `${lane} ${l.pending}`)
    .join(', ');
}

function totalPending(s: RelayStatus): number {
  return Object.values(s.lanes).reduce((n, l) => n + l.pending, 0);
}

// ---- the scripted mine -------------------------------------------------------------------

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

function recordKey(endpointId: string, record: Record<string, unknown> | undefined): string {
  return `${endpointId} camera ${String(record?.['cameraId'])} at ${String(record?.['time'])}`;
}

function fileKey(endpointId: string, fileName: string): string {
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

// ---- the comparison ----------------------------------------------------------------------

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

function compare(sent: SentItem[], received: ReceivedItem[]): { verdicts: Verdict[]; unexpected: ReceivedItem[] } {
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

// ---- the demo ----------------------------------------------------------------------------

export interface DemoOptions {
  quick: boolean;
  /** keep the work files here instead of a temporary directory */
  keep?: string;
}

async function workDirectory(keep: string | undefined): Promise<string> {
  if (keep === undefined) return mkdtemp(join(tmpdir(), 'eseal-demo-'));
  const dir = resolve(keep);
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw SimOptionsInvalid(`--keep: ${dir} is not empty (the demo starts a fresh relay data directory there)`, { field: 'keep' });
  return dir;
}

/** Runs the demo; resolves with the exit code (0: the PROOF line was printed). */
export async function runDemo(options: DemoOptions, io: CommandIO): Promise<number> {
  const plan = options.quick ? PLANS.quick : PLANS.full;
  const rounds = plan.roundsBefore + plan.roundsDuring + plan.roundsAfter;
  const outageMs = plan.roundsDuring * plan.intervalMs;
  const t0 = Date.now();
  const say = (line: string) => io.out(`${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s  ${line}`);

  const work = await workDirectory(options.keep);
  const dataDir = join(work, 'relay-data');
  const configFile = join(work, 'eseal.yaml');
  const logFile = join(work, 'relay.log');
  let sim: NationalSimulator | undefined;
  let relay: RelayChild | undefined;
  let mine: NationalClient | undefined;
  let admin: Agent | undefined;
  // A demo stopped from outside (Ctrl-C, SIGTERM) takes its relay and temp files with it.
  const onSignal = (signal: NodeJS.Signals) => {
    relay?.kill();
    if (options.keep === undefined) rmSync(work, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  const onExit = () => relay?.kill();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);

  let exitCode = 1;
  let verdict = 'FAILED: the demo did not finish';
  try {
    io.out(`eseal demo${options.quick ? ' (quick)' : ''}: a mine sends through the relay while the national platform is down for ${seconds(outageMs)}`);
    const clipsMade = makeAllClips(join(work, 'videos'), rounds);
    clipsMade.catch(() => undefined); // awaited below; the relay starts meanwhile

    sim = await NationalSimulator.start({
      host: '127.0.0.1',
      accounts: [ACCOUNT],
      mineStatuses: { [MINE]: MINE_STATUS },
      keepFiles: join(work, 'platform-received'),
    });
    say(`national platform (simulator) on ${sim.url}; account ${ACCOUNT.username} (${ACCOUNT.org}), mine ${MINE}: ${MINE_STATUS}`);

    await writeFile(configFile, RELAY_CONFIG);
    relay = await startRelayChild({ dataDir, configFile, upstreamUrl: sim.url, logFile });
    say(`relay (eseal start, a child process) on ${relay.url}, its self-signed certificate trusted by the mine; retry 1-2 s, breaker after 3 failures, probe every 1 s`);
    admin = new Agent({ connect: { ca: relay.cert } });

    const clips = await clipsMade;
    const all = Object.values(clips).flat();
    say(`ffmpeg made ${all.length} distinct H.264 MP4 clips (2 s, 320x240; ${Math.round(all.reduce((n, c) => n + c.size, 0) / 1024)} KiB in all)`);

    mine = new NationalClient({ url: relay.url, ca: relay.cert });
    const key = await mine.publicKey();
    say(`mine: GET /sm2 → the relay's SM2 key ${key.slice(0, 14)}…`);
    const login = await mine.login(ACCOUNT.username, ACCOUNT.password);
    if (!login.token) throw new Error(`the mine's login through the relay failed: HTTP ${login.status} ${login.text.slice(0, 200)}`);
    const token = login.token;
    say(`mine: login ${ACCOUNT.username}, password SM2-encrypted; the relay checked it at the platform → token for ${login.org ?? '?'}, expires_in ${login.expiresIn}`);
    const status = await mine.mineStatus(MINE, token);
    const statusData = status.envelope?.data as { status?: string } | null | undefined;
    say(`mine: camera/mineStatus?mineId=${MINE} → ${statusData?.status ?? `HTTP ${status.status} ${status.text.slice(0, 100)}`} (from the platform, through the relay)`);

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
        const held = await fetchRelayStatus(relay, admin);
        say(`relay holds ${totalPending(held)} items (pending: ${pendingByLane(held)}); upstream ${upstreamState(held)}`);
        await sim.setFaults({ down: false });
        platformDown = false;
        upAt = Date.now();
        say(`national platform back up after ${seconds(upAt - downAt)}`);
      }
      const began = Date.now();
      const items = await sendRound(mine, token, round, at, platformDown, clips);
      sent.push(...items);
      const refused = items.filter((i) => i.refused).length;
      say(
        `round ${round + 1}/${rounds}${platformDown ? ' (platform down)' : ''}: 7 records, 5 videos → ` +
          `${refused ? `${refused} REFUSED` : 'all answered success'} by the relay in ${Date.now() - began} ms`,
      );
    }

    // Everything the relay acknowledged must reach the platform.
    const accepted = sent.filter((s) => !s.refused);
    const stoppedSending = Date.now();
    // The platform records an item before it answers, so once the relay has nothing pending (all
    // delivered or dead-lettered) there is nothing more to wait for.
    let result = compare(sent, sim.received());
    for (let polls = 1; !result.verdicts.every((v) => v.sent.refused || v.received); polls++) {
      if (Date.now() - stoppedSending > plan.deliveryWaitMs) break;
      if (polls % 10 === 0 && totalPending(await fetchRelayStatus(relay, admin)) === 0) {
        result = compare(sent, sim.received());
        break;
      }
      await sleep(100);
      result = compare(sent, sim.received());
    }
    const arrived = result.verdicts.filter((v) => v.received);
    const heldArrived = Math.max(upAt, ...arrived.filter((v) => v.sent.platformDown).map((v) => v.received!.at));
    say(
      arrived.length === accepted.length
        ? `the platform has all ${arrived.length} items; what the relay held arrived within ${seconds(heldArrived - upAt)} of the platform coming back`
        : `the platform has ${arrived.length} of ${accepted.length} acknowledged items after waiting ${seconds(Date.now() - stoppedSending)}`,
    );

    // The relay commits "delivered" just after the platform's answer: give it a moment to settle.
    let final = await fetchRelayStatus(relay, admin);
    for (const end = Date.now() + 5000; totalPending(final) > 0 && Date.now() < end; ) {
      await sleep(100);
      final = await fetchRelayStatus(relay, admin);
    }

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
      verdict = `PROOF: all ${sent.length} items arrived exactly as sent (${records} records, ${videos} videos), ${duplicates} duplicates`;
      exitCode = 0;
    } else {
      io.out('Problems:');
      for (const p of problems.slice(0, 20)) io.out(`  ${p}`);
      if (problems.length > 20) io.out(`  … and ${problems.length - 20} more`);
      io.out('');
      verdict = `FAILED: ${problems.length} problem(s) among ${sent.length} items (${records} records, ${videos} videos): ${problems[0]}${problems.length > 1 ? ' …' : ''}`;
    }
  } catch (err) {
    verdict = `FAILED: ${(err as Error).message}`;
  } finally {
    await mine?.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    if (relay) {
      const began = Date.now();
      const how = await relay.stop();
      say(`relay stopped (SIGTERM, ${how}) in ${seconds(Date.now() - began)}; simulator closed`);
    }
    await sim?.close().catch(() => undefined);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
    if (options.keep === undefined) await rm(work, { recursive: true, force: true });
    else say(`kept in ${work}: eseal.yaml, relay-data/, relay.log, videos/ (as sent), platform-received/ (as received)`);
  }
  // The verdict is the last line, once everything is stopped and cleaned up.
  io.out(verdict);
  return exitCode;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'a mine sends through the relay while the simulated national platform goes down and back; proves nothing was lost or changed',
  usage: '[--quick] [--keep DIR]',
  options: {
    quick: { type: 'boolean' },
    keep: { type: 'string' },
  },
  help: [
    '  --quick      a shorter run: 7 rounds and a 4 s outage, under 25 s (the full run: 10 rounds, a 10 s outage, under a minute)',
    "  --keep DIR   keep the work files in DIR (new or empty): the configuration, the relay's data dir and log,",
    '               the videos as sent (videos/) and as the platform received them (platform-received/)',
    '',
    'Starts a simulated national platform in this process and the relay as a child process (eseal start,',
    'HTTPS with its self-signed certificate, forwarding to the simulator). A scripted mine logs in through',
    'the relay and sends the 7 JSON calls and the 5 evidence uploads in rounds, also while the platform is down.',
    'Then every item is looked up on the platform and compared. The last line is PROOF (exit code 0) or FAILED (1).',
  ],
  async run({ values, io }) {
    const v = values as { quick?: boolean; keep?: string };
    return runDemo({ quick: v.quick === true, ...(v.keep !== undefined ? { keep: v.keep } : {}) }, io);
  },
};
