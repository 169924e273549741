// A simulated national e-seal platform: a real HTTP(S) server speaking the national API as
// NATIONAL-API.md describes it, with fault knobs, for the relay's forwarding tests, the demo, the
// benchmarks and mine integrators. Two listeners: the data port (the API, subject to faults) and
// the control port (/_sim/…, never faulted, so it keeps answering while the data port is "down").
import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkMineId } from '../../src/contract/index.ts';
import { generateSm2KeyPair, publicKeyToSpkiBase64 } from '../../src/crypto/sm2.ts';
import { EsealError } from '../../src/errors.ts';
import { guardClientErrors, guardHandler, guardServer } from '../../src/http/guard.ts';
import { SimListen, SimOptionsInvalid } from '../errors.ts';
import { Authority, checkAccount } from './Authority.ts';
import { controlPortHandler } from './controlPort.ts';
import { dataPortHandler, type DataPortCore } from './dataPort.ts';
import { DEFAULT_FAULTS, checkFaults, seededRandom } from './faults.ts';
import { ReceivedLog } from './ReceivedLog.ts';
import type { ReceivedFilter, ReceivedItem, SimAccount, SimFaults, SimLogger, SimOptions, SimStats } from './SimTypes.ts';
import { TokenBucket } from './TokenBucket.ts';

const DEFAULT_TOKEN_TTL_SECONDS = 43200;
const CLOSE_GRACE_MS = 2000;

function bad(field: string, rule: string): never {
  throw SimOptionsInvalid(`${field}: ${rule}`, { field });
}

function checkPort(field: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) bad(field, `must be a port 0..65535 (0: any free port), got ${JSON.stringify(v)}`);
  return v;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The host part of a URL to reach a listener bound to `host`. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: Server, port: number, host: string, what: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(SimListen(`cannot listen on ${host}:${port} (${what}): ${err.code ?? err.message}`, { cause: err }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolvePort((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Stops listening and cuts every open connection, in flight or idle. */
function shut(server: Server): Promise<void> {
  return new Promise((done) => {
    if (!server.listening) return done();
    server.close(() => done());
    server.closeAllConnections();
  });
}

export class NationalSimulator {
  /** the SM2 public key, uncompressed hex 04‖x‖y (fresh on every start) */
  readonly publicKeyHex: string;
  /** what GET /sm2 answers (hex or base64 SPKI, by publicKeyFormat) */
  readonly publicKey: string;
  /** the seed of the fault rates' random source */
  readonly seed: number;

  readonly #host: string;
  readonly #controlHost: string;
  readonly #scheme: 'http' | 'https';
  readonly #data: Server;
  readonly #control: Server;
  #port = 0;
  #controlPort = 0;
  #faults: SimFaults = { ...DEFAULT_FAULTS };
  readonly #bucket = new TokenBucket(0);
  readonly #auth: Authority;
  readonly #log = new ReceivedLog();
  readonly #mineStatuses = new Map<string, string>();
  readonly #stagingDir: string;
  readonly #ownStagingDir: boolean;
  readonly #inFlight = new Set<Promise<void>>();
  /** listener changes (down/up) run one after another */
  #transition: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #logger: SimLogger | undefined;

  private constructor(options: SimOptions, staging: { dir: string; own: boolean }) {
    const keys = generateSm2KeyPair();
    this.publicKeyHex = keys.publicKeyHex;
    this.publicKey = options.publicKeyFormat === 'spki' ? publicKeyToSpkiBase64(keys.publicKeyHex) : keys.publicKeyHex;
    this.seed = options.seed ?? randomInt(2 ** 31);
    const random = seededRandom(this.seed);
    const now = options.now ?? Date.now;
    this.#logger = options.log;
    this.#host = options.host ?? '127.0.0.1';
    this.#controlHost = options.controlHost ?? (isLoopback(this.#host) ? this.#host : '127.0.0.1');
    this.#scheme = options.tls ? 'https' : 'http';
    this.#auth = new Authority(options.client ?? { id: 'pcfront', secret: 'pcfront' }, options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS, now);
    for (const a of options.accounts ?? []) this.#auth.addAccount(a);
    for (const [mineId, status] of Object.entries(options.mineStatuses ?? {})) this.setMineStatus(mineId, status);
    this.#stagingDir = staging.dir;
    this.#ownStagingDir = staging.own;

    const core: DataPortCore = {
      faults: () => this.#faults,
      random,
      bucket: this.#bucket,
      auth: this.#auth,
      received: this.#log,
      logger: options.log,
      publicKeyText: this.publicKey,
      privateKeyHex: keys.privateKeyHex,
      mineStatus: (mineId) => this.#mineStatuses.get(mineId),
      stagingDir: staging.dir,
      keepFiles: staging.own ? undefined : staging.dir,
      now,
    };
    // no request, however malformed, may end the process: both listeners are guarded
    const guard = { log: options.log };
    const handleData = guardHandler(dataPortHandler(core), { ...guard, name: 'simulator data port' });
    const track = (req: IncomingMessage, res: ServerResponse) => {
      const p = handleData(req, res);
      this.#inFlight.add(p);
      void p.finally(() => this.#inFlight.delete(p));
    };
    this.#data = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, track) : createHttpServer(track);
    // A capped bandwidth makes slow uploads on purpose: no whole-request deadline.
    this.#data.requestTimeout = 0;
    guardClientErrors(this.#data, { ...guard, name: 'simulator data port' });
    this.#control = guardServer(createHttpServer(), controlPortHandler(this), { ...guard, name: 'simulator control port' });
  }

  /** Starts both listeners; resolves once they accept connections (the data port stays closed if faults.down). */
  static async start(options: SimOptions = {}): Promise<NationalSimulator> {
    const port = checkPort('port', options.port);
    const controlPort = checkPort('controlPort', options.controlPort);
    const ttl = options.tokenTtlSeconds;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1)) bad('tokenTtlSeconds', `must be a whole number of seconds >= 1, got ${ttl}`);
    if (options.publicKeyFormat !== undefined && options.publicKeyFormat !== 'hex' && options.publicKeyFormat !== 'spki') {
      bad('publicKeyFormat', `must be hex or spki, got ${JSON.stringify(options.publicKeyFormat)}`);
    }
    if (options.seed !== undefined && !Number.isInteger(options.seed)) bad('seed', `must be an integer, got ${options.seed}`);
    if (options.client && (!options.client.id || options.client.secret === undefined)) bad('client', 'must be {id, secret}');
    for (const a of options.accounts ?? []) checkAccount(a);
    const faults = checkFaults(options.faults ?? {});

    let staging: { dir: string; own: boolean };
    if (options.keepFiles !== undefined) {
      const dir = resolve(options.keepFiles);
      await mkdir(dir, { recursive: true });
      staging = { dir, own: false };
    } else {
      staging = { dir: await mkdtemp(join(tmpdir(), 'eseal-sim-')), own: true };
    }
    const sim = new NationalSimulator(options, staging);
    try {
      sim.#port = await listen(sim.#data, port, sim.#host, 'data port');
      sim.#controlPort = await listen(sim.#control, controlPort, sim.#controlHost, 'control port');
      await sim.setFaults(faults);
    } catch (err) {
      await sim.close();
      throw err;
    }
    return sim;
  }

  /** Base URL of the data port (the national API), e.g. http://127.0.0.1:9000 */
  get url(): string {
    return `${this.#scheme}://${urlHost(this.#host)}:${this.#port}`;
  }

  /** Base URL of the control port; its routes are under /_sim/ */
  get controlUrl(): string {
    return `http://${urlHost(this.#controlHost)}:${this.#controlPort}`;
  }

  get port(): number {
    return this.#port;
  }

  /** The fault knobs now (a copy). */
  get faults(): SimFaults {
    return { ...this.#faults, reject: this.#faults.reject ? { ...this.#faults.reject } : null };
  }

  /**
   * Changes some knobs; resolves with all of them once the data listener matches (`down` closes it:
   * connection refused; back to false reopens it on the same port). Refuses unknown knobs and
   * out-of-range values (ESEAL_ERR_SIM_OPTIONS) without changing anything.
   */
  async setFaults(partial: Partial<SimFaults>): Promise<SimFaults> {
    const checked = checkFaults(partial);
    if (this.#closed) throw SimListen('the simulator is closed');
    this.#faults = { ...this.#faults, ...checked };
    this.#bucket.setRate(this.#faults.bandwidthBytesPerSec);
    const down = this.#faults.down;
    const step = this.#transition.then(() => this.#applyDown(down));
    this.#transition = step.catch(() => undefined);
    await step;
    return this.faults;
  }

  async #applyDown(down: boolean): Promise<void> {
    if (this.#closed) return;
    if (down && this.#data.listening) {
      await shut(this.#data);
      this.#logger?.info({ port: this.#port }, 'simulator: data port down (connections refused)');
    } else if (!down && !this.#data.listening) {
      try {
        await listen(this.#data, this.#port, this.#host, 'data port, reopening');
      } catch (err) {
        this.#faults = { ...this.#faults, down: true };
        throw err;
      }
      this.#logger?.info({ port: this.#port }, 'simulator: data port up again');
    }
  }

  /** Every token issued so far stops working (data calls get 424 token expire); returns how many were valid. */
  expireTokens(): number {
    return this.#auth.expireAll();
  }

  /** Items received, in arrival order. */
  received(filter: ReceivedFilter = {}): ReceivedItem[] {
    return this.#log.list(filter);
  }

  stats(): SimStats {
    return this.#log.snapshot();
  }

  /** Forgets received items, the duplicate memory and the counters (accounts, tokens and faults stay). */
  reset(): void {
    this.#log.reset();
  }

  /** Adds an account (or replaces the one of that name). */
  addAccount(account: SimAccount): void {
    this.#auth.addAccount(account);
  }

  accounts(): string[] {
    return this.#auth.accountNames();
  }

  /** What camera/mineStatus answers for the mine; undefined or '' forgets it ("mine not found"). */
  setMineStatus(mineId: string, status: string | undefined): void {
    try {
      checkMineId(mineId, []);
    } catch (err) {
      throw SimOptionsInvalid(err instanceof EsealError ? err.message : String(err), { field: 'mineId', cause: err });
    }
    if (status === undefined || status === '') this.#mineStatuses.delete(mineId);
    else this.#mineStatuses.set(mineId, status);
  }

  mineStatuses(): Record<string, string> {
    return Object.fromEntries(this.#mineStatuses);
  }

  /** Closes both listeners (cutting open connections), waits for calls in flight, removes staged files. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#transition;
    await Promise.all([shut(this.#data), shut(this.#control)]);
    this.#bucket.close();
    // Calls in flight lost their sockets and end at their next step; one asleep in a long latency
    // is not waited for.
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((r) => (grace = setTimeout(r, CLOSE_GRACE_MS)))]);
    clearTimeout(grace);
    if (this.#ownStagingDir) await rm(this.#stagingDir, { recursive: true, force: true });
  }
}
