// The relay as an operator runs it: `eseal start` in its own process (so that it can be killed
// with SIGKILL), its JSON log lines kept, and killed for good when the test ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Test } from 'tap';

export interface RelayChild {
  child: ChildProcess;
  /** from the "relay listening" line */
  url: string;
  /** its standard output so far (the last 500 lines) */
  lines: string[];
  exited: Promise<number | null>;
}

export function startRelayChild(
  t: Test,
  options: { dataDir: string; env?: Record<string, string>; args?: string[]; stderr?: 'inherit' | 'pipe' },
): Promise<RelayChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts', 'start', ...(options.args ?? [])], {
    env: {
      ...process.env,
      ESEAL_DATA_DIR: options.dataDir,
      ESEAL_RELAY_LISTEN: '127.0.0.1:0',
      ESEAL_RELAY_TLS: 'off',
      ESEAL_LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', options.stderr ?? 'inherit'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start in 20 s:\n${lines.slice(-20).join('\n')}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 500) lines.shift();
      if (line.includes('"relay listening"')) {
        clearTimeout(timer);
        resolve({ child, url: (JSON.parse(line) as { url: string }).url, lines, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited early with ${code}:\n${lines.slice(-20).join('\n')}`));
    });
  });
}
