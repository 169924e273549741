// Queries (Catalog, DeviceInfo, DeviceStatus) are answered by the device in a separate MESSAGE, not
// in the SIP response: a waiter per (device, CmdType, SN) that the MESSAGE processor settles.
import { SipTimeout } from '../errors.ts';

interface Waiter {
  resolve(v: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class QueryWaiters {
  readonly #waiting = new Map<string, Waiter>();

  static key(deviceId: string, cmdType: string, sn: number): string {
    return `${deviceId}|${cmdType.toLowerCase()}|${sn}`;
  }

  wait<T>(deviceId: string, cmdType: string, sn: number, timeoutMs: number): Promise<T> {
    const key = QueryWaiters.key(deviceId, cmdType, sn);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        reject(SipTimeout(`${cmdType} query to ${deviceId} (SN ${sn}): no answer within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      timer.unref?.();
      this.#waiting.set(key, { resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  /** Whether a query of this SN is waiting (a catalog page for an SN nobody asked for is still stored). */
  has(deviceId: string, cmdType: string, sn: number): boolean {
    return this.#waiting.has(QueryWaiters.key(deviceId, cmdType, sn));
  }

  settle(deviceId: string, cmdType: string, sn: number, value: unknown): boolean {
    const key = QueryWaiters.key(deviceId, cmdType, sn);
    const w = this.#waiting.get(key);
    if (!w) return false;
    clearTimeout(w.timer);
    this.#waiting.delete(key);
    w.resolve(value);
    return true;
  }

  destroy(err: Error): void {
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.#waiting.clear();
  }
}
