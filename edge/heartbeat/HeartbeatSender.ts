// The edge's heartbeat (src/devices/heartbeat.ts): every intervalSeconds it POSTs what the edge runs
// and how it fares to its report URL, with the edge's token. The relay answers the model bound to
// this device ('bound' event: the model updater polls at once when it differs from what it runs).
// A national platform has no such route: its 404 stops the heartbeat quietly (one info line) and it
// tries again an hour later. A failure is logged once per run of failures, never per beat.
import { EventEmitter } from 'node:events';
import { request, type Dispatcher } from 'undici';
import { readCapped, relayAgent } from '../relayHttp.ts';
import type { Logger } from '../../src/log.ts';
import { HEARTBEAT_PATH, type Heartbeat, type HeartbeatAnswer } from '../../src/devices/heartbeat.ts';

export interface HeartbeatSenderOptions {
  /** the report URL (the relay, or the national platform) */
  baseUrl: string;
  /** the edge's token; called with `stale` true once after the relay refused the last one */
  getToken: (stale?: boolean) => Promise<string>;
  /** what to send now (the interval is filled in) */
  collect: () => Heartbeat;
  /** default 60 */
  intervalSeconds?: number;
  /** after a 404, the next try (default 3600) */
  absentRetrySeconds?: number;
  /** longest wait for the answer (default 10) */
  timeoutSeconds?: number;
  log?: Logger;
  dispatcher?: Dispatcher;
  tls?: { ca?: string; insecure?: boolean };
}

export type HeartbeatOutcome =
  | { outcome: 'sent'; answer: HeartbeatAnswer }
  /** the report URL has no heartbeat route (a national platform) */
  | { outcome: 'absent' }
  | { outcome: 'failed'; reason: string; status?: number };

export interface HeartbeatSenderEvents {
  /** the relay's answer: the model bound to this device (undefined: none) */
  bound: [HeartbeatAnswer['model']];
}

const ANSWER_MAX_BYTES = 16 * 1024;

export class HeartbeatSender extends EventEmitter<HeartbeatSenderEvents> {
  readonly #o: HeartbeatSenderOptions & { intervalSeconds: number; absentRetrySeconds: number; timeoutSeconds: number };
  readonly #dispatcher: Dispatcher | undefined;
  readonly #ownDispatcher: boolean;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<HeartbeatOutcome> | undefined;
  #closed = false;
  /** the last outcome kind, so that a run of the same is logged once */
  #last: HeartbeatOutcome['outcome'] | undefined;
  /** beats answered with success since start */
  sent = 0;
  /** when the next beat is due (ms since epoch), once start() ran */
  nextBeatAt: number | undefined;

  constructor(options: HeartbeatSenderOptions) {
    super();
    this.#o = { intervalSeconds: 60, absentRetrySeconds: 3600, timeoutSeconds: 10, ...options };
    this.#ownDispatcher = !options.dispatcher && options.tls !== undefined;
    this.#dispatcher =
      options.dispatcher ?? relayAgent(options.tls);
  }

  /** Sends the first beat at once, then every intervalSeconds (hourly while the URL answers 404). */
  start(): void {
    const loop = async () => {
      const result = await this.sendNow();
      if (this.#closed) return;
      const seconds = result.outcome === 'absent' ? this.#o.absentRetrySeconds : this.#o.intervalSeconds;
      this.nextBeatAt = Date.now() + seconds * 1000;
      this.#timer = setTimeout(() => void loop(), seconds * 1000).unref();
    };
    this.nextBeatAt = Date.now();
    this.#timer = setTimeout(() => void loop(), 0).unref();
  }

  /** One beat now (joining one in flight). Never throws. */
  sendNow(): Promise<HeartbeatOutcome> {
    if (this.#closed) return Promise.resolve({ outcome: 'failed', reason: 'the heartbeat is closed' });
    this.#running ??= this.#send()
      .then((r) => this.#note(r))
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#running?.catch(() => undefined);
    if (this.#ownDispatcher) await this.#dispatcher?.close();
  }

  async #send(): Promise<HeartbeatOutcome> {
    const url = new URL(HEARTBEAT_PATH.slice(1), this.#o.baseUrl.replace(/\/?$/, '/')).toString();
    let body: string;
    try {
      body = JSON.stringify({ ...this.#o.collect(), intervalSeconds: this.#o.intervalSeconds });
    } catch (err) {
      return { outcome: 'failed', reason: `collecting the heartbeat: ${(err as Error).message}` };
    }
    const post = async (stale: boolean) =>
      request(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${await this.#o.getToken(stale)}`, 'content-type': 'application/json' },
        body,
        signal: this.#abort.signal,
        headersTimeout: this.#o.timeoutSeconds * 1000,
        bodyTimeout: this.#o.timeoutSeconds * 1000,
        ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      });
    try {
      let res = await post(false);
      if (res.statusCode === 401 || res.statusCode === 424) {
        await res.body.dump();
        res = await post(true);
      }
      const { text } = await readCapped(res.body, ANSWER_MAX_BYTES);
      if (res.statusCode === 404) return { outcome: 'absent' };
      let parsed: { code?: unknown; msg?: unknown; data?: unknown } | undefined;
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // not the API's envelope
      }
      if (res.statusCode !== 200 || parsed?.code !== 0) {
        const msg = typeof parsed?.msg === 'string' ? parsed.msg : text.slice(0, 200);
        return { outcome: 'failed', status: res.statusCode, reason: `HTTP ${res.statusCode}${msg ? `: ${msg}` : ''}` };
      }
      return { outcome: 'sent', answer: answerOf(parsed.data) };
    } catch (err) {
      return { outcome: 'failed', reason: `POST ${url}: ${(err as Error).message}` };
    }
  }

  #note(r: HeartbeatOutcome): HeartbeatOutcome {
    if (this.#closed) return r;
    const changed = r.outcome !== this.#last;
    this.#last = r.outcome;
    if (r.outcome === 'sent') {
      this.sent++;
      if (changed) this.#o.log?.info({ url: this.#o.baseUrl }, 'heartbeat: the relay takes it');
      this.emit('bound', r.answer.model);
    } else if (r.outcome === 'absent') {
      if (changed) this.#o.log?.info({ url: this.#o.baseUrl, retrySeconds: this.#o.absentRetrySeconds }, 'heartbeat: the report URL has none (a national platform?); trying again later');
    } else if (changed) {
      this.#o.log?.warn({ reason: r.reason }, 'heartbeat: not taken; trying again at the next beat');
    }
    return r;
  }
}

function answerOf(data: unknown): HeartbeatAnswer {
  const model = (data as { model?: unknown } | null)?.model as Record<string, unknown> | undefined;
  if (model && typeof model['name'] === 'string') {
    return { model: { name: model['name'], version: String(model['version'] ?? ''), sm3: String(model['sm3'] ?? '') } };
  }
  return {};
}

