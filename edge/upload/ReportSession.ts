// The edge's logged-in session with where it reports (a relay, or the national platform itself),
// shared by the uploader, the mine-status watcher and the model updater. The login, the token's
// reuse, single-flight and "log in again once when the token is refused" are the shared upstream
// session's (src/client/UpstreamSession.ts), with the edge's one account; what stays here is the
// edge's own: the client it owns, and whether the server takes resumable (tus) uploads.
import type { Logger } from '../../src/log.ts';
import { NationalClient, type ApiAnswer, type NationalClientOptions } from '../../src/client/NationalClient.ts';
import { UpstreamSession } from '../../src/client/UpstreamSession.ts';
import type { TokenCallResult } from '../../src/client/UpstreamSessionTypes.ts';
import { TUS_PATH } from '../../src/contract/tus.ts';

/** Where the edge reports and as whom (NationalClientOptions: url, client, loginMethod, cipherMode, ca, insecure, timeouts). */
export interface ReportTarget extends NationalClientOptions {
  username: string;
  /** sent SM2-encrypted at login; never logged */
  password: string;
}

export interface ReportSessionOptions extends ReportTarget {
  log: Logger;
}

export class ReportSession {
  readonly client: NationalClient;
  readonly username: string;
  readonly #session: UpstreamSession;
  readonly #log: Logger;
  /** whether the server speaks tus, asked once per login */
  #tus: { token: string; answer: Promise<boolean> } | undefined;

  constructor(options: ReportSessionOptions) {
    const { username, password, log, ...clientOptions } = options;
    this.client = new NationalClient(clientOptions);
    this.username = username;
    this.#log = log;
    this.#session = new UpstreamSession({
      client: this.client,
      credentials: () => ({ username, password }),
      refusedHint: 'check edge.report.username and password',
      log,
    });
  }

  /** successful logins so far */
  get logins(): number {
    return this.#session.logins;
  }

  /** The current token, logging in when there is none or it is about to lapse. */
  token(now = Date.now()): Promise<string> {
    return this.#session.token(this.username, now);
  }

  /** Forgets `token` after it was refused (only if it is still the current one). */
  invalidate(token: string): void {
    this.#session.invalidate(this.username, token);
  }

  /** Runs `call` with the token; when the answer refuses it, logs in again once and runs it again. */
  withToken<A extends ApiAnswer>(call: (token: string) => Promise<A>): Promise<TokenCallResult<A>> {
    return this.#session.withToken(this.username, call);
  }

  /** Whether the server takes resumable (tus) uploads, i.e. it is an eseal relay; asked once per login. */
  speaksTus(token: string): Promise<boolean> {
    if (this.#tus?.token !== token) {
      const answer = this.client.speaksTus(TUS_PATH, token);
      this.#tus = { token, answer };
      void answer.then((yes) => this.#log.info({ url: this.client.base, tus: yes }, yes ? 'clips go by tus (resumable at the byte offset)' : 'clips go as multipart uploads'));
    }
    return this.#tus.answer;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
