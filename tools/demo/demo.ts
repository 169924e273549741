// `npm run demo`: the relay's promise shown end to end in under a minute. A simulated national
// platform runs in this process; the relay runs as a child process (relay.ts); a scripted mine
// (mine.ts) sends every kind of call through it over HTTPS, with videos made by ffmpeg (clips.ts),
// while the platform goes down and comes back; then every item the mine sent is looked up on the
// platform side and compared (report.ts). This file wires them into the `demo` command.
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent } from 'undici';
import type { Command, CommandIO } from '../../src/cli/command.ts';
import { NationalClient } from '../../src/client/NationalClient.ts';
import { SimOptionsInvalid } from '../../sim/errors.ts';
import { NationalSimulator } from '../../sim/national/index.ts';
import { makeAllClips } from './clips.ts';
import { ACCOUNT, MINE, MINE_STATUS, PLANS, roundsOf, runMineScript } from './mine.ts';
import { RELAY_CONFIG, startDemoRelay, statusOf, totalPending, type DemoRelay } from './relay.ts';
import { awaitDelivery, report } from './report.ts';
import { seconds, sleep } from './time.ts';

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
  const rounds = roundsOf(plan);
  const outageMs = plan.roundsDuring * plan.intervalMs;
  const t0 = Date.now();
  const say = (line: string) => io.out(`${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s  ${line}`);

  const work = await workDirectory(options.keep);
  const dataDir = join(work, 'relay-data');
  const configFile = join(work, 'eseal.yaml');
  const logFile = join(work, 'relay.log');
  let sim: NationalSimulator | undefined;
  let relay: DemoRelay | undefined;
  let mine: NationalClient | undefined;
  let admin: Agent | undefined;
  // A demo stopped from outside (Ctrl-C, SIGTERM) takes its relay and temp files with it (the
  // relay child is also killed whenever this process exits).
  const onSignal = (signal: NodeJS.Signals) => {
    relay?.kill();
    if (options.keep === undefined) rmSync(work, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

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
    relay = await startDemoRelay({ dataDir, configFile, upstreamUrl: sim.url, logFile });
    say(`relay (eseal start, a child process) on ${relay.url}, its self-signed certificate trusted by the mine; retry 1-2 s, breaker after 3 failures, probe every 1 s`);
    admin = new Agent({ connect: { ca: relay.cert } });
    const relayStatus = statusOf(relay, admin);

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

    const { sent, upAt } = await runMineScript({ plan, sim, relayStatus, mine, token, clips, say });

    // Everything the relay acknowledged must reach the platform.
    const accepted = sent.filter((s) => !s.refused);
    const stoppedSending = Date.now();
    const result = await awaitDelivery(sent, sim, relayStatus, plan.deliveryWaitMs);
    const arrived = result.verdicts.filter((v) => v.received);
    const heldArrived = Math.max(upAt, ...arrived.filter((v) => v.sent.platformDown).map((v) => v.received!.at));
    say(
      arrived.length === accepted.length
        ? `the platform has all ${arrived.length} items; what the relay held arrived within ${seconds(heldArrived - upAt)} of the platform coming back`
        : `the platform has ${arrived.length} of ${accepted.length} acknowledged items after waiting ${seconds(Date.now() - stoppedSending)}`,
    );

    // The relay commits "delivered" just after the platform's answer: give it a moment to settle.
    let final = await relayStatus();
    for (const end = Date.now() + 5000; totalPending(final) > 0 && Date.now() < end; ) {
      await sleep(100);
      final = await relayStatus();
    }

    ({ verdict, exitCode } = report(io, sent, result, final));
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
