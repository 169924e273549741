// The edge's last few errors, for the heartbeat: bounded in count and length, newest last.
import type { HeartbeatError } from '../../src/devices/heartbeat.ts';
import { HEARTBEAT_MAX_CHARS, HEARTBEAT_MAX_ERRORS } from '../../src/devices/heartbeat.ts';

export class RecentErrors {
  readonly #list: HeartbeatError[] = [];

  add(code: string, msg: string, at = Date.now()): void {
    this.#list.push({ at, code: code.slice(0, HEARTBEAT_MAX_CHARS) || 'error', msg: msg.slice(0, HEARTBEAT_MAX_CHARS) });
    if (this.#list.length > HEARTBEAT_MAX_ERRORS) this.#list.shift();
  }

  list(): HeartbeatError[] {
    return this.#list.map((e) => ({ ...e }));
  }
}
