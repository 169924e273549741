// A dialog the bridge opened with INVITE: its identity (Call-ID, our tag, the device's tag), where it
// goes (the device's flow, its Contact), and the next CSeq. BYE is built from it alone.
import type { Remote } from '../sip/SipMessage.ts';

export interface DialogIdentity {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** the channel the INVITE went to (Request-URI / To user) */
  targetId: string;
  /** the device's flow (its registration address, or its TCP connection) */
  remote: Remote;
  /** the INVITE's CSeq; in-dialog requests count on from it */
  inviteCseq: number;
}

export class Dialog {
  readonly id: DialogIdentity;
  #cseq: number;
  #ended = false;

  constructor(id: DialogIdentity) {
    this.id = id;
    this.#cseq = id.inviteCseq;
  }

  get callId(): string {
    return this.id.callId;
  }

  nextCseq(): number {
    return ++this.#cseq;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Marks the dialog over; true the first time (so BYE goes out once). */
  end(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    return true;
  }
}
