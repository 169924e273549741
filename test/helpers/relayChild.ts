// The relay as an operator runs it: `eseal start` in its own process (so that it can be killed
// with SIGKILL), its JSON log lines kept, and killed for good when the test ends.
import type { ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import { EsealChild, relayUrl } from '../../tools/esealChild.ts';

export interface RelayChild {
  child: ChildProcess;
  /** from the "relay listening" line */
  url: string;
  /** its output so far (the last 500 lines: standard output, and standard error when piped) */
  lines: string[];
  exited: Promise<number | null>;
}

export async function startRelayChild(
  t: Test,
  options: { dataDir: string; env?: Record<string, string>; args?: string[]; stderr?: 'inherit' | 'pipe' },
): Promise<RelayChild> {
  const relay = EsealChild.spawn({
    args: ['start', ...(options.args ?? [])],
    env: {
      ...process.env,
      ESEAL_DATA_DIR: options.dataDir,
      ESEAL_RELAY_LISTEN: '127.0.0.1:0',
      ESEAL_RELAY_TLS: 'off',
      ESEAL_LOG_LEVEL: 'info',
      // the console runs by default too: on a port of its own, so that tests side by side never meet
      ESEAL_ADMIN_LISTEN: '127.0.0.1:0',
      ...options.env,
    },
    stderr: options.stderr ?? 'inherit',
    keepLines: 500,
    guard: (kill) => t.teardown(kill),
  });
  const url = await relayUrl(relay, 20_000);
  return { child: relay.child, url, lines: relay.lines, exited: relay.exited.then((end) => end.code) };
}
