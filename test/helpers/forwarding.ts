// A relay forwarding to a simulated national platform, both real servers on 127.0.0.1.
import type { Test } from 'tap';
import { NationalSimulator, type SimOptions } from '../../sim/national/index.ts';
import { GuideMine } from './mineClient.ts';
import { MINE, startTestRelay, type TestRelay } from './relay.ts';

export const NATIONAL_USER = 'mine001';
export const NATIONAL_PW = 'National+Pass/1';

/** Settings that keep tests quick: short back-off, quick probes. */
export const FAST_FORWARD: Record<string, string | number> = {
  'forward.retry.baseSeconds': 1,
  'forward.retry.maxSeconds': 2,
  'forward.breaker.failures': 3,
  'forward.breaker.probeSeconds': 1,
};

export async function startSim(t: Test, options: SimOptions = {}): Promise<NationalSimulator> {
  const sim = await NationalSimulator.start({
    accounts: [{ username: NATIONAL_USER, password: NATIONAL_PW, org: 'XX煤矿' }],
    mineStatuses: { [MINE]: '生产矿井' },
    seed: 7,
    ...options,
  });
  t.teardown(() => sim.close());
  return sim;
}

/** Simulator + relay (passthrough: the mine logs in with its national credentials) + a logged-in mine. */
export async function forwardingSetup(
  t: Test,
  options: { sim?: SimOptions; relay?: Record<string, string | number>; dataDir?: string } = {},
): Promise<{ sim: NationalSimulator; relay: TestRelay; mine: GuideMine }> {
  const sim = await startSim(t, options.sim);
  const relay = await startTestRelay(t, { 'upstream.url': sim.url, ...FAST_FORWARD, ...options.relay }, options.dataDir);
  const mine = new GuideMine(relay.url, NATIONAL_USER, NATIONAL_PW);
  const login = await mine.login();
  if (login.status !== 200) throw new Error(`login through the relay failed: ${JSON.stringify(login.body)}`);
  return { sim, relay, mine };
}

export { waitFor } from './wait.ts';
