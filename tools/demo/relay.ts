// The demo's relay: `eseal start` from the sources as a child process (as it is deployed: the
// kernel never imports the relay role), on HTTPS with its self-signed certificate, forwarding to
// the simulated platform, its whole output in a log file; and what it says of itself through
// GET /admin/status.
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { ChildEnded, ChildTimeout, EsealChild, relayUrl, type ChildEnd } from '../esealChild.ts';

// Quick back-off and probing so that the recovery shows within seconds (the defaults suit a
// national platform that is down for minutes: up to 300 s between tries).
export const RELAY_CONFIG = [
  '# written by eseal sim demo',
  'forward:',
  '  retry: { baseSeconds: 1, maxSeconds: 2 }',
  '  breaker: { failures: 3, probeSeconds: 1 }',
  '',
].join('\n');

const RELAY_START_TIMEOUT_MS = 30_000;
const RELAY_STOP_TIMEOUT_MS = 10_000;

export interface DemoRelay {
  url: string;
  /** PEM of its self-signed certificate: what the mine trusts */
  cert: string;
  adminToken: string;
  /** SIGTERM, then waits (SIGKILL after RELAY_STOP_TIMEOUT_MS); resolves with how it ended */
  stop(): Promise<string>;
  /** kills it at once (the demo itself is being stopped) */
  kill(): void;
}

/** The environment of the child: ours without any ESEAL_* setting, plus the demo's. */
function relayEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ESEAL_')) env[k] = v;
  return { ...env, ...settings };
}

/** Why the relay did not start, in one line of the demo's (its whole output is in the log file). */
function startFailure(err: unknown, logFile: string): unknown {
  if (ChildTimeout.is(err)) return new Error(`the relay did not start within ${RELAY_START_TIMEOUT_MS / 1000} s; its log: ${logFile}`, { cause: err });
  if (!ChildEnded.is(err)) return err;
  const { end, tail } = err.detail as { end: ChildEnd; tail: string };
  return new Error(`the relay ended (${end.how}) before listening: ${tail.trim().slice(-800) || `see ${logFile}`}`, { cause: err });
}

export async function startDemoRelay(options: { dataDir: string; configFile: string; upstreamUrl: string; logFile: string }): Promise<DemoRelay> {
  const log = createWriteStream(options.logFile);
  const closeLog = () => new Promise<void>((r) => log.end(r));
  const relay = EsealChild.spawn({
    args: ['start', '--config', options.configFile],
    env: relayEnv({
      ESEAL_DATA_DIR: options.dataDir,
      ESEAL_RELAY_LISTEN: '127.0.0.1:0',
      // the console starts beside the relay (the default roles): any free port, never a running console's 9090
      ESEAL_ADMIN_LISTEN: '127.0.0.1:0',
      ESEAL_RELAY_TLS: 'auto',
      ESEAL_LOG_LEVEL: 'info',
      ESEAL_UPSTREAM_URL: options.upstreamUrl,
    }),
    onLine: (line) => log.write(line + '\n'),
  });
  try {
    const url = await relayUrl(relay, RELAY_START_TIMEOUT_MS).catch((err: unknown) => {
      throw startFailure(err, options.logFile);
    });
    const [cert, adminToken] = await Promise.all([
      readFile(join(options.dataDir, 'tls', 'relay.crt'), 'utf8'),
      readFile(join(options.dataDir, 'admin.token'), 'utf8').then((t) => t.trim()),
    ]);
    return {
      url,
      cert,
      adminToken,
      async stop() {
        const end = await relay.stop(RELAY_STOP_TIMEOUT_MS);
        await closeLog();
        return end.how;
      },
      kill: () => relay.kill(),
    };
  } catch (err) {
    relay.kill();
    await relay.exited;
    await closeLog();
    throw err;
  }
}

/** The part of the relay's GET /admin/status that the demo shows. */
export interface RelayStatus {
  upstream: { url: string; state: string; lastError?: string } | null;
  lanes: Record<string, { pending: number; inFlight?: number; budgetSeconds: number; delivered?: number; late?: number; atRisk: boolean }>;
  queue: { ready: number; leased: number; dead: number; done: number };
  redelivered?: number;
}

/** Reads the relay's GET /admin/status with its admin token, over `dispatcher` (which trusts its certificate). */
export function statusOf(relay: DemoRelay, dispatcher: Agent): () => Promise<RelayStatus> {
  return () => fetchRelayStatus(relay, dispatcher);
}

async function fetchRelayStatus(relay: DemoRelay, dispatcher: Agent): Promise<RelayStatus> {
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

export function upstreamState(s: RelayStatus): string {
  if (!s.upstream) return 'none configured';
  const st = s.upstream.state;
  const shown = st === 'closed' ? 'up' : st === 'open' ? 'DOWN' : st === 'halfOpen' ? 'probing' : st;
  return `${shown}${s.upstream.lastError && shown !== 'up' ? ` (${s.upstream.lastError})` : ''}`;
}

export function pendingByLane(s: RelayStatus): string {
  return Object.entries(s.lanes)
    .map(([lane, l]) => `${lane} ${l.pending}`)
    .join(', ');
}

export function totalPending(s: RelayStatus): number {
  return Object.values(s.lanes).reduce((n, l) => n + l.pending, 0);
}
