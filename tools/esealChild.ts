// `eseal` (or another Node script of the source tree) in a process of its own, for whoever needs
// it across a real process boundary: the tests (to kill it with SIGKILL), the benchmarks (to
// measure its CPU apart from the load generator's) and the demo (to run it as it is deployed).
// It lives in tools/, not src/: the kernel does not know the app's entry.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { defineError, type EsealError } from '../src/errors.ts';

/** The repository root: children run from there, as `npm run …` does. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export type OutputStream = 'stdout' | 'stderr';

export interface EsealChildOptions {
  /** what follows the script, e.g. ['start', '--config', file] */
  args?: string[];
  /** the script, relative to the repository root: app/main.ts (the eseal CLI) by default */
  script?: string;
  /** run the script through tsx (`--import tsx`), as the sources need: true by default */
  tsx?: boolean;
  /** more Node options before the script, e.g. ['--cpu-prof'] */
  nodeOptions?: string[];
  /** the child's whole environment: ours by default */
  env?: NodeJS.ProcessEnv;
  /** 'inherit' passes its standard error through to ours instead of reading it */
  stderr?: 'pipe' | 'inherit';
  /** how many lines of its output to keep (20 by default) */
  keepLines?: number;
  /** longer lines are cut short in what is kept (onLine still sees them whole) */
  maxLineLength?: number;
  /** every line of its output as it comes, e.g. into a log file */
  onLine?: (line: string, stream: OutputStream) => void;
  /**
   * Also registers its kill with the owner's clean-ups (a tap test's t.teardown, the benchmarks'
   * onCleanup); what this returns, if a function, is called to unregister once the child has ended.
   * The child is killed when this process exits in any case.
   */
  guard?: (kill: () => void) => unknown;
  /** names it in error messages: 'the relay' by default */
  name?: string;
}

/** How a child ended. */
export interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** 'exit code 0', 'signal SIGKILL' */
  how: string;
}

/** The child did not get ready in time (it was killed); detail.tail holds its last lines of output. */
export const ChildTimeout = defineError('ESEAL_ERR_CHILD_TIMEOUT', 500, 'a child process (the relay, a baseline server) did not get ready in time and was killed');
/** The child ended before it was ready; detail.end says how, detail.tail holds its last lines. */
export const ChildEnded = defineError('ESEAL_ERR_CHILD_ENDED', 500, 'a child process (the relay, a baseline server) ended before it was ready');

export class EsealChild {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly name: string;
  /** its last lines of output, standard output and error as they came (a live array) */
  readonly lines: string[] = [];
  /** resolves once it has ended and every line of its output has been read */
  readonly exited: Promise<ChildEnd>;
  readonly #keepLines: number;
  readonly #watchers = new Set<(line: string) => void>();

  /** Starts `node [--import tsx] <script> <args>` from the repository root. */
  static spawn(options: EsealChildOptions = {}): EsealChild {
    return new EsealChild(options);
  }

  private constructor(options: EsealChildOptions) {
    this.name = options.name ?? 'the relay';
    this.#keepLines = options.keepLines ?? 20;
    const nodeArgs = [...(options.tsx === false ? [] : ['--import', 'tsx']), ...(options.nodeOptions ?? [])];
    this.child = spawn(process.execPath, [...nodeArgs, options.script ?? 'app/main.ts', ...(options.args ?? [])], {
      cwd: REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', options.stderr ?? 'pipe'],
    });
    this.pid = this.child.pid ?? -1;

    const kill = () => this.kill();
    process.on('exit', kill);
    const unguard = options.guard?.(kill);
    this.child.once('exit', () => {
      process.off('exit', kill);
      if (typeof unguard === 'function') unguard();
    });
    // 'close' comes after 'exit' once its output streams are closed, so every line has been seen.
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => resolve({ code, signal, how: signal ? `signal ${signal}` : `exit code ${code}` }));
      this.child.once('error', (err) => resolve({ code: null, signal: null, how: `could not run: ${err.message}` }));
    });

    const read = (stream: OutputStream) => (line: string) => {
      options.onLine?.(line, stream);
      const max = options.maxLineLength;
      this.lines.push(max !== undefined && line.length > max ? line.slice(0, max) + '…' : line);
      if (this.lines.length > this.#keepLines) this.lines.shift();
      for (const watch of this.#watchers) watch(line);
    };
    createInterface({ input: this.child.stdout! }).on('line', read('stdout'));
    if (this.child.stderr) createInterface({ input: this.child.stderr }).on('line', read('stderr'));
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Its last `n` lines of output (all those kept by default), for error messages. */
  tail(n = this.#keepLines): string {
    return this.lines.slice(-n).join('\n');
  }

  /**
   * The first line of its output (kept ones included) that `match`es. Rejects with a
   * ESEAL_ERR_CHILD_ENDED if it ends first, or if none comes within `timeoutMs` (it is killed then).
   */
  waitForLine(match: (line: string) => boolean, timeoutMs: number, what = 'start'): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const watch = (line: string) => {
        if (!match(line)) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(this.#timedOut(what, timeoutMs));
      }, timeoutMs);
      let over = false;
      const done = () => {
        over = true;
        clearTimeout(timer);
        this.#watchers.delete(watch);
      };
      this.#watchers.add(watch);
      void this.exited.then((end) => {
        if (over) return;
        done();
        reject(this.#ended(end));
      });
    });
  }

  /**
   * Polls GET `url`/healthz until it answers 200. Rejects (ESEAL_ERR_CHILD_ENDED or _TIMEOUT) if the child
   * ends first, or if that takes more than `timeoutMs` (it is killed then).
   */
  async waitForHealthz(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running()) throw this.#ended(await this.exited);
      const status = await fetch(url + '/healthz', { signal: AbortSignal.timeout(1000) }).then(
        async (res) => (await res.arrayBuffer(), res.status),
        () => 0, // not listening yet
      );
      if (status === 200) return;
      if (Date.now() > deadline) throw this.#timedOut('answer /healthz', timeoutMs);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM (it finishes what it is doing and closes its stores), SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<ChildEnd> {
    if (this.running()) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), graceMs);
    const end = await this.exited;
    clearTimeout(timer);
    return end;
  }

  /** SIGKILL, at once. */
  kill(): void {
    if (this.running()) this.child.kill('SIGKILL');
  }

  #timedOut(what: string, timeoutMs: number): EsealError {
    this.kill();
    const tail = this.tail();
    return ChildTimeout(`${this.name} did not ${what} within ${timeoutMs / 1000} s:\n${tail}`, { detail: { tail } });
  }

  #ended(end: ChildEnd): EsealError {
    const tail = this.tail();
    return ChildEnded(`${this.name} ended (${end.how}) during start:\n${tail}`, { detail: { tail, end } });
  }
}

/** The relay's "relay listening" log line (JSON, at level info or finer). */
export function isRelayListening(line: string): boolean {
  return line.includes('"relay listening"');
}

/** Waits for the relay's "relay listening" line and answers the URL it names. */
export async function relayUrl(relay: EsealChild, timeoutMs: number): Promise<string> {
  const line = await relay.waitForLine(isRelayListening, timeoutMs);
  try {
    return (JSON.parse(line) as { url: string }).url;
  } catch (err) {
    relay.kill();
    throw new Error(`cannot read the relay's "relay listening" line: ${line}`, { cause: err });
  }
}
