// The cascade: the bridge as a lower platform of each configured upper platform (the national video
// platform, a province's). One UpperClient per platform keeps the registration and keepalives; the
// platform's own requests (those whose From is a configured platform id, from its address when the
// configuration gives an IP) come here instead of the device processors: MESSAGE queries about us,
// INVITE / ACK / CANCEL / BYE of the channels it plays. State goes to cascade-state.json for the CLI.
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { GbContext } from '../GbContext.ts';
import { makeResponse, userOf, type Remote, type Request, type Response } from '../sip/SipMessage.ts';
import { writeState, type UpperState } from './state.ts';
import type { StreamEndTap } from './StreamEndTap.ts';
import { UpperClient } from './UpperClient.ts';
import { UpperLegs } from './UpperLegs.ts';
import { onUpperMessage } from './upperMessage.ts';
import { peerOf } from './upperRequest.ts';

const ALLOW = 'INVITE, ACK, CANCEL, BYE, MESSAGE, OPTIONS';

export class Cascade {
  readonly #ctx: GbContext;
  readonly #log: Logger;
  readonly #clients = new Map<string, UpperClient>();
  readonly legs: UpperLegs;
  readonly #stateDir: string;
  #writing = Promise.resolve();
  #dirty = false;
  #closed = false;

  constructor(ctx: GbContext, tap: StreamEndTap | undefined, stateDir: string) {
    this.#ctx = ctx;
    this.#log = ctx.log;
    this.#stateDir = stateDir;
    const changed = () => this.#changed();
    this.legs = new UpperLegs(ctx, tap, changed);
    for (const entry of ctx.config.cascade) {
      if (this.#clients.has(entry.id)) continue;
      this.#clients.set(entry.id, new UpperClient(peerOf(ctx.config, entry), ctx.endpoint, ctx.log, changed));
    }
  }

  get size(): number {
    return this.#clients.size;
  }

  client(id: string): UpperClient | undefined {
    return this.#clients.get(id);
  }

  states(): UpperState[] {
    return [...this.#clients.values()].map((c) => ({ ...c.state, streams: this.legs.count(c) }));
  }

  /** Whether the request comes from a configured upper platform (its From id). */
  owns(rq: Request): boolean {
    if (!this.#clients.size) return false;
    return this.#clients.has(userOf(rq.headers.from));
  }

  async handle(rq: Request, remote: Remote): Promise<Response | undefined> {
    const platform = this.#clients.get(userOf(rq.headers.from))!;
    const method = rq.method.toUpperCase();
    const host = platform.peer.entry.host;
    if (isIP(host) && remote.address.replace(/^::ffff:/, '') !== host) {
      this.#log.warn({ upper: platform.peer.entry.id, from: remote.address }, 'gb28181 cascade: a request in the name of an upper platform from another address');
      return method === 'ACK' ? undefined : makeResponse(rq, 403, 'Forbidden');
    }
    switch (method) {
      case 'MESSAGE':
        return onUpperMessage(this.#ctx, platform, rq);
      case 'INVITE':
        return this.legs.onInvite(platform, rq, remote);
      case 'ACK':
        this.legs.onAck(rq);
        return undefined;
      case 'CANCEL':
        return this.legs.onCancel(rq);
      case 'BYE':
        return this.legs.onBye(rq);
      case 'OPTIONS':
        return makeResponse(rq, 200, 'OK', { headers: { allow: ALLOW } });
      default:
        return makeResponse(rq, 405, 'Method Not Allowed', { headers: { allow: ALLOW } });
    }
  }

  start(): void {
    for (const c of this.#clients.values()) c.start();
    this.#changed();
  }

  #changed(): void {
    if (this.#closed || !this.#clients.size) return;
    if (this.#dirty) return;
    this.#dirty = true;
    // one write at a time; changes while writing are in the next one
    this.#writing = this.#writing.then(async () => {
      this.#dirty = false;
      await writeState(this.#stateDir, this.states()).catch((err: unknown) => this.#log.debug({ err }, 'gb28181 cascade: state file not written'));
    });
  }

  async close(): Promise<void> {
    await this.legs.close();
    await Promise.all([...this.#clients.values()].map((c) => c.close()));
    this.#changed();
    this.#closed = true;
    await this.#writing;
  }
}
