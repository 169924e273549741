// The mine's state decides what the edge sends (guide 5.1): a producing mine (正常生产建设矿井)
// sends JSON records (5.1.2), a shut-down one (停产停工矿井) sends evidence videos (5.1.1).
// Configured outright, or 'auto': asked with GET camera/mineStatus (5.2.4, answer
// {"code":0,"data":{"status":"生产矿井"}}) at start and every refreshSeconds. The platform's
// wording is free text (the relay passes on whatever the platform or the operator set), so it is
// read by meaning: 停产/停工/停建/关闭/闭坑 → shutdown, 生产/建设 → producing. An answer that says
// neither, a refusal or a dead link keeps the last known state (at first the configured default).
import type { Logger } from '../../src/log.ts';
import type { ReportSession } from './ReportSession.ts';

export type MineState = 'producing' | 'shutdown';

const SHUTDOWN = /停产|停工|停建|关闭|关停|闭坑/;
const PRODUCING = /生产|建设/;

/** The state a camera/mineStatus status string means, or undefined when it says neither. */
export function mineStateOf(status: string): MineState | undefined {
  // checked first: "停产" contains no "生产", but a text may name both ("停产…恢复生产前")
  if (SHUTDOWN.test(status)) return 'shutdown';
  if (PRODUCING.test(status)) return 'producing';
  return undefined;
}

export interface MineStatusWatcherOptions {
  /** the logged-in session to ask with (the uploader's: `uploader.session`); needed for 'auto' */
  session?: ReportSession;
  mineId: string;
  /** 'auto' (default) asks; 'producing' or 'shutdown' is taken as it is and nothing is asked */
  configured?: MineState | 'auto';
  /** the state until the first usable answer (default 'producing') */
  initial?: MineState;
  /** how often 'auto' asks again (default 600, as the relay caches the platform's answer) */
  refreshSeconds?: number;
  log: Logger;
  /** called when the state changes (not for the initial state) */
  onChange?: (state: MineState, status: string) => void;
}

export class MineStatusWatcher {
  readonly #options: MineStatusWatcherOptions;
  readonly #log: Logger;
  #state: MineState;
  #status: string | undefined;
  #checkedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #asking: Promise<MineState> | undefined;
  #closed = false;

  constructor(options: MineStatusWatcherOptions) {
    const configured = options.configured ?? 'auto';
    if (configured === 'auto' && !options.session) throw new TypeError('MineStatusWatcher: configured "auto" needs a session to ask with');
    this.#options = { ...options, configured };
    this.#log = options.log.child({ part: 'mineStatus' });
    this.#state = configured === 'auto' ? (options.initial ?? 'producing') : configured;
  }

  /** The state to act on now (never waits). */
  current(): MineState {
    return this.#state;
  }

  /** The last status text the server answered, and when (ms since epoch; 0 = never). */
  lastAnswer(): { status: string | undefined; at: number } {
    return { status: this.#status, at: this.#checkedAt };
  }

  /** Asks once now ('auto'), then every refreshSeconds. Resolves with the state after the first ask. */
  async start(): Promise<MineState> {
    if (this.#options.configured !== 'auto' || this.#timer || this.#closed) return this.#state;
    const every = (this.#options.refreshSeconds ?? 600) * 1000;
    this.#timer = setInterval(() => void this.refresh(), every);
    this.#timer.unref();
    return this.refresh();
  }

  /** Asks now ('auto'); keeps the last known state when the answer does not say. */
  refresh(): Promise<MineState> {
    if (this.#options.configured !== 'auto' || this.#closed) return Promise.resolve(this.#state);
    this.#asking ??= this.#ask().finally(() => (this.#asking = undefined));
    return this.#asking;
  }

  async #ask(): Promise<MineState> {
    const { session, mineId } = this.#options;
    let status: unknown;
    try {
      const { answer } = await session!.withToken((token) => session!.client.mineStatus(mineId, token));
      const data = answer.envelope?.data as { status?: unknown } | null | undefined;
      if (answer.status !== 200 || answer.envelope?.code !== 0 || typeof data?.status !== 'string') {
        this.#log.warn({ mineId, status: answer.status, answer: answer.text.slice(0, 200), state: this.#state }, 'camera/mineStatus gave no status: keeping the last known state');
        return this.#state;
      }
      status = data.status;
    } catch (err) {
      this.#log.warn({ mineId, err: (err as Error).message, state: this.#state }, 'camera/mineStatus cannot be asked: keeping the last known state');
      return this.#state;
    }
    const text = status as string;
    this.#status = text;
    this.#checkedAt = Date.now();
    const state = mineStateOf(text);
    if (!state) {
      this.#log.warn({ mineId, status: text, state: this.#state }, 'camera/mineStatus answered a status that names neither production nor a shutdown: keeping the last known state');
      return this.#state;
    }
    if (state !== this.#state && !this.#closed) {
      this.#state = state;
      this.#log.info({ mineId, status: text, state }, state === 'producing' ? 'the mine is producing: sending records' : 'the mine is shut down: sending evidence videos');
      this.#options.onChange?.(state, text);
    }
    return this.#state;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
