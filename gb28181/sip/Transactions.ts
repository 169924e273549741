// The client transaction table: every request we send waits here, keyed by Call-ID + CSeq, for its
// final response; a promise per request, resolved by the response or rejected by the timeout.
// Over UDP the request is sent again (RFC 3261 timer A: 500 ms doubling, at most 4 s) until a
// response, provisional or final, arrives.
import { SipClosed, SipTimeout } from '../errors.ts';
import type { Response } from './SipMessage.ts';

interface Pending {
  resolve(rs: Response): void;
  reject(err: Error): void;
  onProvisional?: (rs: Response) => void;
  timer: NodeJS.Timeout;
  retransmit?: NodeJS.Timeout;
  what: string;
}

export function transactionKey(callId: string, seq: number, method: string): string {
  return `${callId}\n${seq}\n${method.toUpperCase()}`;
}

export class Transactions {
  readonly #pending = new Map<string, Pending>();

  /**
   * Waits for the final response of the request with `key`. `resend` (UDP) is called to send it
   * again until any response arrives.
   */
  wait(key: string, timeoutMs: number, what: string, resend?: () => void, onProvisional?: (rs: Response) => void): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      if (this.#pending.has(key)) {
        reject(new Error(`transaction ${key} is already pending`));
        return;
      }
      const timer = setTimeout(() => {
        this.#drop(key);
        reject(SipTimeout(`${what}: no final answer within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      timer.unref?.();
      const p: Pending = { resolve, reject, timer, what, ...(onProvisional ? { onProvisional } : {}) };
      if (resend) {
        let interval = 500;
        const again = () => {
          resend();
          interval = Math.min(interval * 2, 4000);
          p.retransmit = setTimeout(again, interval);
          p.retransmit.unref?.();
        };
        p.retransmit = setTimeout(again, interval);
        p.retransmit.unref?.();
      }
      this.#pending.set(key, p);
    });
  }

  /** A response arrived: true when it belonged to a pending request. */
  settle(key: string, rs: Response): boolean {
    const p = this.#pending.get(key);
    if (!p) return false;
    if (p.retransmit) {
      clearTimeout(p.retransmit);
      delete p.retransmit;
    }
    if (rs.status < 200) {
      p.onProvisional?.(rs);
      return true;
    }
    this.#drop(key);
    p.resolve(rs);
    return true;
  }

  #drop(key: string): void {
    const p = this.#pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    if (p.retransmit) clearTimeout(p.retransmit);
    this.#pending.delete(key);
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Rejects every pending request (the service closes). */
  destroy(): void {
    for (const [key, p] of [...this.#pending]) {
      this.#drop(key);
      p.reject(SipClosed(`${p.what}: the SIP service closed`));
    }
  }
}
