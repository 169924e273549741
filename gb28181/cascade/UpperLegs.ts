// The upper platform's live play of our channels. Its INVITE names a channel; we find the mine
// device that holds it, take the channel's live stream through LiveSessions (one INVITE to the mine
// however many watch: viewers, the edge, several platforms), open an outgoing media leg to the
// address, port and SSRC of its offer, and answer 200 with our address and its SSRC. Its BYE closes
// the leg and releases the mine stream (which ends only when nobody else watches); the mine stream
// ending (device BYE, no media, offline, unregistered) BYEs the platform's leg.
// Answers: unknown channel 404, device offline 480, the platform's stream limit 486, a CANCEL
// before our answer 487, an offer we cannot use 488, no outgoing media 503.
import type { Logger } from 'pino';
import { EsealError } from '../../src/errors.ts';
import type { GbContext } from '../GbContext.ts';
import { makeResponse, randomToken, tagOf, userOf, type Remote, type Request, type Response } from '../sip/SipMessage.ts';
import { buildPlayAnswer, readOffer, type UpperOffer } from './playAnswer.ts';
import type { StreamEndTap } from './StreamEndTap.ts';
import type { UpperClient } from './UpperClient.ts';
import { USER_AGENT } from './upperRequest.ts';

export interface Leg {
  legId: string;
  callId: string;
  platform: UpperClient;
  /** where the platform's INVITE came from: in-dialog requests go there */
  remote: Remote;
  /** our To tag / its From tag */
  localTag: string;
  remoteTag: string;
  /** its From and our To, as the INVITE wrote them (a BYE from us swaps them) */
  localUri: string;
  remoteUri: string;
  /** its Contact: the Request-URI of our BYE */
  target: string;
  cseq: number;
  deviceId: string;
  channelId: string;
  streamId: string;
  offer: UpperOffer;
  answer: string;
  release(): void;
  acked: boolean;
}

interface Pending {
  cancelled: boolean;
  platform: UpperClient;
}

export type LegEndReason = 'upperBye' | 'mineEnded' | 'noAck' | 'closing';

const ACK_WAIT_MS = 32_000;

const SDP_TYPE = 'APPLICATION/SDP';

/** SIP status for a coded error of the mine side. */
export function statusOfMineError(err: unknown): [number, string] {
  const code = err instanceof EsealError ? err.code : '';
  switch (code) {
    case 'ESEAL_ERR_GB28181_UNKNOWN_DEVICE':
    case 'ESEAL_ERR_GB28181_UNKNOWN_CHANNEL':
      return [404, 'Not Found'];
    case 'ESEAL_ERR_GB28181_OFFLINE':
    case 'ESEAL_ERR_SIP_UNREACHABLE':
      return [480, 'Temporarily Unavailable'];
    case 'ESEAL_ERR_GB28181_LIMIT':
      return [486, 'Busy Here'];
    case 'ESEAL_ERR_SIP_TIMEOUT':
      return [408, 'Request Timeout'];
    case 'ESEAL_ERR_GB28181_REFUSED': {
      const s = Number((err as EsealError).detail?.['status']);
      return s === 486 || s === 404 || s === 480 ? [s, 'Device refused'] : [480, 'Temporarily Unavailable'];
    }
    default:
      return [502, 'Bad Gateway'];
  }
}

export class UpperLegs {
  readonly #ctx: GbContext;
  readonly #tap: StreamEndTap | undefined;
  readonly #log: Logger;
  readonly #legs = new Map<string, Leg>();
  readonly #pending = new Map<string, Pending>();
  readonly #onChange: () => void;
  #seq = 0;
  readonly stats = { invites: 0, answered: 0, byesSent: 0, byesReceived: 0 };

  constructor(ctx: GbContext, tap: StreamEndTap | undefined, onChange: () => void) {
    this.#ctx = ctx;
    this.#tap = tap;
    this.#log = ctx.log;
    this.#onChange = onChange;
    tap?.onStreamClosed((streamId) => this.#mineEnded(streamId));
  }

  count(platform: UpperClient): number {
    let n = 0;
    for (const l of this.#legs.values()) if (l.platform === platform) n++;
    return n;
  }

  describe(): { legId: string; platform: string; deviceId: string; channelId: string; streamId: string; transport: string; to: string }[] {
    return [...this.#legs.values()].map((l) => ({ legId: l.legId, platform: l.platform.peer.entry.id, deviceId: l.deviceId, channelId: l.channelId, streamId: l.streamId, transport: l.offer.transport, to: `${l.offer.host}:${l.offer.port}` }));
  }

  /** The device whose catalog holds `channelId` (an online one first). */
  #holder(channelId: string): { id: string; online: boolean } | undefined {
    let found: { id: string; online: boolean } | undefined;
    for (const d of this.#ctx.registry.all()) {
      if (d.id !== channelId && !this.#ctx.store.channel(d.id, channelId)) continue;
      if (d.online) return { id: d.id, online: true };
      found ??= { id: d.id, online: false };
    }
    return found;
  }

  async onInvite(platform: UpperClient, rq: Request, remote: Remote): Promise<Response> {
    this.stats.invites++;
    const callId = rq.headers['call-id'];
    const existing = this.#legs.get(callId);
    if (existing) {
      // a re-INVITE of the same call: the same answer
      return makeResponse(rq, 200, 'OK', { toTag: existing.localTag, content: existing.answer, headers: this.#answerHeaders(platform) });
    }
    if (tagOf(rq.headers.to)) return makeResponse(rq, 481, 'Call/Transaction Does Not Exist');
    const uriUser = /^sips?:(\d{20})@/.exec(String(rq.uri))?.[1];
    const channelId = uriUser ?? userOf(rq.headers.to);
    if (!/^\d{20}$/.test(channelId)) return makeResponse(rq, 400, 'Bad Request: the Request-URI must name a 20-digit channel id');
    const read = readOffer(Buffer.from(rq.content ?? '', 'latin1').toString('utf8'));
    if (!read.ok) return makeResponse(rq, 488, `Not Acceptable Here: ${read.error.slice(0, 60)}`);
    const offer = read.offer;
    if (offer.session && !/^play$/i.test(offer.session)) return makeResponse(rq, 488, `Not Acceptable Here: only live Play is relayed, not ${offer.session.slice(0, 20)}`);
    const holder = this.#holder(channelId);
    if (!holder) return makeResponse(rq, 404, 'Not Found');
    if (!holder.online) return makeResponse(rq, 480, 'Temporarily Unavailable');
    if (this.count(platform) + this.#pendingOf(platform) >= platform.peer.entry.maxStreams) return makeResponse(rq, 486, 'Busy Here');
    const tap = this.#tap;
    if (!tap?.canSendOn) return makeResponse(rq, 503, 'Service Unavailable: no media engine can send streams on');
    const pending: Pending = { cancelled: false, platform };
    this.#pending.set(callId, pending);
    try {
      let lease: { streamId: string; release(): void };
      try {
        lease = await this.#ctx.live.acquire(holder.id, channelId, offer.stream);
      } catch (err) {
        const [status, reason] = statusOfMineError(err);
        this.#log.info({ upper: platform.peer.entry.id, channelId, err: (err as Error).message }, 'gb28181 cascade: the mine stream could not be started');
        return makeResponse(rq, status, reason);
      }
      if (pending.cancelled) {
        lease.release();
        return makeResponse(rq, 487, 'Request Terminated');
      }
      const legId = `up_${platform.peer.entry.id}_${++this.#seq}_${randomToken(3)}`;
      const ssrc = offer.ssrc || lease.streamId.split('_').pop() || '0000000000';
      let port: number;
      try {
        ({ port } = await tap.openOutgoing({ streamId: lease.streamId, legId, transport: offer.transport, host: offer.host, port: offer.port, ssrc }));
      } catch (err) {
        lease.release();
        this.#log.warn({ upper: platform.peer.entry.id, channelId, err: (err as Error).message }, 'gb28181 cascade: the media engine could not open the leg to the upper platform');
        return makeResponse(rq, 500, 'Server Internal Error: no media leg');
      }
      if (pending.cancelled) {
        await tap.closeOutgoing(legId).catch(() => {});
        lease.release();
        return makeResponse(rq, 487, 'Request Terminated');
      }
      const ctx = this.#ctx;
      const answer = buildPlayAnswer({ localId: platform.peer.localId, host: ctx.config.media.publicHost || ctx.endpoint.publicHost, port, transport: offer.transport, ssrc });
      const localTag = randomToken(6);
      const contact = Array.isArray(rq.headers.contact) ? rq.headers.contact[0]?.uri : undefined;
      const leg: Leg = {
        legId,
        callId,
        platform,
        remote,
        localTag,
        remoteTag: tagOf(rq.headers.from),
        localUri: String(rq.headers.to.uri),
        remoteUri: String(rq.headers.from.uri),
        target: typeof contact === 'string' && contact ? contact : `sip:${platform.peer.entry.id}@${remote.address}:${remote.port}`,
        cseq: 1,
        deviceId: holder.id,
        channelId,
        streamId: lease.streamId,
        offer,
        answer,
        release: lease.release,
        acked: false,
      };
      this.#legs.set(callId, leg);
      // a platform that never ACKs our 200 is not receiving: the leg goes (RFC 3261 §13.3.1.4, 64 × T1)
      setTimeout(() => {
        if (!leg.acked) void this.#end(leg, 'noAck');
      }, ACK_WAIT_MS).unref();
      this.stats.answered++;
      this.#log.info({ upper: platform.peer.entry.id, deviceId: holder.id, channelId, transport: offer.transport, to: `${offer.host}:${offer.port}`, ssrc }, 'gb28181 cascade: relaying a channel to the upper platform');
      this.#onChange();
      return makeResponse(rq, 200, 'OK', { toTag: localTag, content: answer, headers: this.#answerHeaders(platform) });
    } finally {
      this.#pending.delete(callId);
    }
  }

  #pendingOf(platform: UpperClient): number {
    let n = 0;
    for (const p of this.#pending.values()) if (p.platform === platform) n++;
    return n;
  }

  #answerHeaders(platform: UpperClient): Record<string, unknown> {
    const ep = this.#ctx.endpoint;
    const port = platform.peer.remote.protocol === 'TCP' ? ep.tcpPort : ep.udpPort;
    return { 'content-type': SDP_TYPE, contact: [{ uri: `sip:${platform.peer.localId}@${ep.publicHost}:${port}`, params: {} }], 'user-agent': USER_AGENT };
  }

  /** Whether the platform acknowledged our 200 for `callId`. */
  acked(callId: string): boolean {
    return !!this.#legs.get(callId)?.acked;
  }

  onAck(rq: Request): void {
    const leg = this.#legs.get(rq.headers['call-id']);
    if (leg) leg.acked = true;
  }

  onCancel(rq: Request): Response {
    const p = this.#pending.get(rq.headers['call-id']);
    if (!p) return makeResponse(rq, 481, 'Call/Transaction Does Not Exist');
    p.cancelled = true;
    return makeResponse(rq, 200, 'OK');
  }

  async onBye(rq: Request): Promise<Response> {
    const leg = this.#legs.get(rq.headers['call-id']);
    if (!leg) return makeResponse(rq, 481, 'Call/Transaction Does Not Exist');
    this.stats.byesReceived++;
    await this.#end(leg, 'upperBye');
    return makeResponse(rq, 200, 'OK');
  }

  #mineEnded(streamId: string): void {
    for (const leg of [...this.#legs.values()]) if (leg.streamId === streamId) void this.#end(leg, 'mineEnded');
  }

  /** Ends a leg: its media, its share of the mine stream, and (unless the platform ended it) a BYE to the platform. Never throws. */
  async #end(leg: Leg, reason: LegEndReason): Promise<void> {
    if (this.#legs.get(leg.callId) !== leg) return;
    this.#legs.delete(leg.callId);
    this.#onChange();
    this.#log.info({ upper: leg.platform.peer.entry.id, channelId: leg.channelId, reason }, 'gb28181 cascade: a leg to the upper platform ended');
    await this.#tap?.closeOutgoing(leg.legId).catch((err: unknown) => this.#log.warn({ err, legId: leg.legId }, 'gb28181 cascade: the media engine failed to close a leg'));
    leg.release();
    if (reason === 'upperBye') return;
    await this.#bye(leg);
  }

  async #bye(leg: Leg): Promise<void> {
    const ep = this.#ctx.endpoint;
    const rq: Request = {
      method: 'BYE',
      uri: leg.target,
      version: '2.0',
      headers: {
        via: [],
        from: { uri: leg.localUri, params: { tag: leg.localTag } },
        to: { uri: leg.remoteUri, params: { tag: leg.remoteTag } },
        'call-id': leg.callId,
        cseq: { seq: leg.cseq++, method: 'BYE' },
        'max-forwards': 70,
        'user-agent': USER_AGENT,
      },
    };
    this.stats.byesSent++;
    try {
      const rs = await ep.request(rq, leg.remote);
      if (rs.status >= 300) this.#log.debug({ status: rs.status, callId: leg.callId }, 'gb28181 cascade: the upper platform answered our BYE with an error');
    } catch (err) {
      this.#log.debug({ err: (err as Error).message, callId: leg.callId }, 'gb28181 cascade: BYE to the upper platform not answered');
    }
  }

  /** Every leg ends with a BYE (the bridge stops). */
  async close(): Promise<void> {
    await Promise.all([...this.#legs.values()].map((l) => this.#end(l, 'closing')));
  }
}
