// Live play of channels: one INVITE per (device, channel, stream) however many viewers (reference
// counted; the main and the sub stream of a channel are two INVITEs), BYE a
// short while after the last one leaves, when the engine reports no media, when the device goes
// offline or unregisters; the device's own BYE closes the media. Implements LiveSource.
import type { Logger } from 'pino';
import { makeSsrc } from '../../src/gb28181/ids.ts';
import { buildPlayOffer, parseSdp, streamName, videoMedia, type StreamNumber } from '../../src/gb28181/sdp.ts';
import type { Commander } from '../commander/Commander.ts';
import type { GbConfig } from '../config.ts';
import { GbBadAnswer, GbLimit, GbMedia, GbRefused, GbUnknownChannel } from '../errors.ts';
import type { DeviceStore } from '../registry/DeviceStore.ts';
import { tagOf, type Response } from '../sip/SipMessage.ts';
import { Dialog } from './Dialog.ts';
import type { LiveSource, MediaEngineLike } from './MediaEngineLike.ts';
import { mediaTransportFor } from './transport.ts';

interface Session {
  key: string;
  deviceId: string;
  channelId: string;
  /** 0 main, 1 sub… (what the INVITE asked for) */
  stream: StreamNumber;
  streamId: string;
  ssrc: string;
  refs: number;
  starting: Promise<void>;
  dialog?: Dialog;
  linger?: NodeJS.Timeout;
  stopped: boolean;
  /** resolves with the reason once the stream is stopped (viewers close then) */
  ended: Promise<StopReason>;
  onEnded: (why: StopReason) => void;
}

export interface LiveSessionsOptions {
  config: GbConfig;
  commander: Commander;
  store: DeviceStore;
  media?: MediaEngineLike | undefined;
  /** the address written in the SDP offer */
  mediaHost: string;
  log: Logger;
  /** most channels played at once */
  maxStreams?: number;
}

export type StopReason = 'idle' | 'noMedia' | 'ended' | 'deviceBye' | 'offline' | 'unregistered' | 'closing' | 'failed';

export class LiveSessions implements LiveSource {
  readonly #o: LiveSessionsOptions;
  readonly #byKey = new Map<string, Session>();
  readonly #byStream = new Map<string, Session>();
  readonly #byCallId = new Map<string, Session>();
  #seq = 0;
  #media: MediaEngineLike | undefined;
  readonly #onNoMedia = (e: { streamId: string }) => this.#stopStream(e.streamId, 'noMedia');
  readonly #onEnded = (e: { streamId: string }) => this.#stopStream(e.streamId, 'ended');
  /** counts for logs and tests */
  readonly stats = { invites: 0, byesSent: 0, byesReceived: 0 };

  constructor(options: LiveSessionsOptions) {
    this.#o = options;
    if (options.media) this.setMedia(options.media);
  }

  /** The media engine (the lead wires it in when gb28181/media exists). */
  setMedia(media: MediaEngineLike): void {
    this.#media = media;
    media.on('noMedia', this.#onNoMedia);
    media.on('ended', this.#onEnded);
  }

  get active(): number {
    return this.#byKey.size;
  }

  /** The session of a stream, for tests and the CLI: device, channel, refs. */
  describe(): { deviceId: string; channelId: string; stream: StreamNumber; streamId: string; refs: number; ssrc: string }[] {
    return [...this.#byKey.values()].map((s) => ({ deviceId: s.deviceId, channelId: s.channelId, stream: s.stream, streamId: s.streamId, refs: s.refs, ssrc: s.ssrc }));
  }

  /** `stream`: 0 the main stream (default), 1 the sub stream… of the channel. */
  async acquire(deviceId: string, channelId: string, stream: StreamNumber = 0): Promise<{ streamId: string; release(): void; ended: Promise<string> }> {
    const { commander, store } = this.#o;
    commander.reachable(deviceId); // unknown / offline / unreachable: coded errors before anything starts
    if (channelId !== deviceId && !store.channel(deviceId, channelId)) {
      throw GbUnknownChannel(`device ${deviceId} has no channel ${channelId} in its catalog`, { field: 'channelId' });
    }
    const media = this.#media;
    if (!media) throw GbMedia('no media engine is running in this bridge');
    const key = `${deviceId}/${channelId}/${streamName(stream)}`;
    let s = this.#byKey.get(key);
    if (!s) {
      if (this.#byKey.size >= (this.#o.maxStreams ?? 1000)) throw GbLimit(`already ${this.#byKey.size} live channels`);
      const ssrc = makeSsrc(this.#o.config.domain, ++this.#seq);
      let onEnded!: (why: StopReason) => void;
      const ended = new Promise<StopReason>((resolve) => (onEnded = resolve));
      s = { key, deviceId, channelId, stream, streamId: `${deviceId}_${channelId}_${ssrc}`, ssrc, refs: 0, starting: Promise.resolve(), stopped: false, ended, onEnded };
      const session = s;
      this.#byKey.set(key, s);
      this.#byStream.set(s.streamId, s);
      s.starting = this.#start(session, media).catch(async (err: unknown) => {
        await this.#stop(session, 'failed', true);
        throw err;
      });
    }
    s.refs++;
    if (s.linger) {
      clearTimeout(s.linger);
      delete s.linger;
    }
    const session = s;
    try {
      await s.starting;
    } catch (err) {
      session.refs--;
      throw err;
    }
    if (session.stopped) throw GbMedia(`the stream of ${key} ended while starting`);
    let released = false;
    return {
      streamId: session.streamId,
      ended: session.ended,
      release: () => {
        if (released) return;
        released = true;
        this.#release(session);
      },
    };
  }

  #release(s: Session): void {
    s.refs = Math.max(0, s.refs - 1);
    if (s.refs > 0 || s.stopped) return;
    const linger = this.#o.config.media.lingerSeconds * 1000;
    s.linger = setTimeout(() => void this.#stop(s, 'idle', true), linger);
    s.linger.unref?.();
  }

  async #start(s: Session, media: MediaEngineLike): Promise<void> {
    const { commander, config, log } = this.#o;
    const { device, remote } = commander.reachable(s.deviceId);
    const transport = mediaTransportFor(config, device);
    let port: number;
    try {
      ({ port } = await media.openIncoming({ streamId: s.streamId, transport, ssrc: s.ssrc, payload: 'ps' }));
    } catch (err) {
      throw GbMedia(`the media engine could not open a ${transport} port for ${s.key}: ${(err as Error).message}`, { cause: err });
    }
    const sdp = buildPlayOffer({ serverId: config.id, host: this.#o.mediaHost, port, transport, ssrc: s.ssrc, channelId: s.channelId, h265: device.version === '2022', stream: s.stream });
    const rq = commander.makeRequest('INVITE', s.channelId, remote, {
      contentType: 'APPLICATION/SDP',
      content: sdp,
      subject: `${s.channelId}:${s.ssrc},${config.id}:0`,
    });
    this.stats.invites++;
    const callId = rq.headers['call-id'];
    const fromTag = String(rq.headers.from.params['tag']);
    const cseq = rq.headers.cseq.seq;
    this.#byCallId.set(callId, s);
    const rs: Response = await commander.endpoint.request(rq, remote);
    const ack = (toTag: string) => commander.makeRequest('ACK', s.channelId, remote, { callId, fromTag, toTag, cseq });
    if (rs.status >= 300) {
      // a non-2xx answer is acknowledged in the INVITE's transaction (same Via branch)
      commander.endpoint.sendAck(ack(tagOf(rs.headers.to)), remote, rq.headers.via);
      throw GbRefused(`device ${s.deviceId} refused to play ${s.channelId}: ${rs.status} ${rs.reason}`, { detail: { status: rs.status } });
    }
    const dialog = new Dialog({ callId, localTag: fromTag, remoteTag: tagOf(rs.headers.to), targetId: s.channelId, remote, inviteCseq: cseq });
    s.dialog = dialog;
    commander.endpoint.sendAck(ack(dialog.id.remoteTag), remote);
    if (s.stopped) throw GbMedia(`the stream of ${s.key} was closed while the device answered`);
    const parsed = parseSdp(Buffer.from(rs.content ?? '', 'latin1').toString('utf8'));
    const video = parsed.ok ? videoMedia(parsed.sdp) : undefined;
    if (!parsed.ok || !video || !parsed.sdp.host || (video.port === 0 && transport !== 'tcp-passive')) {
      throw GbBadAnswer(`device ${s.deviceId}'s answer for ${s.channelId} is unusable: ${parsed.ok ? 'no video media with an address and port' : parsed.error}`);
    }
    const answerSsrc = parsed.sdp.ssrc;
    if (answerSsrc && answerSsrc !== s.ssrc) log.info({ streamId: s.streamId, offered: s.ssrc, answered: answerSsrc }, 'gb28181: the device answered another SSRC; using its');
    try {
      await media.answerIncoming(s.streamId, { host: parsed.sdp.host, port: video.port, ...(answerSsrc && answerSsrc !== s.ssrc ? { ssrc: answerSsrc } : {}) });
    } catch (err) {
      throw GbMedia(`the media engine could not take the device's answer for ${s.key}: ${(err as Error).message}`, { cause: err });
    }
    if (video.stream !== undefined && video.stream !== s.stream) log.info({ streamId: s.streamId, asked: s.stream, answered: video.stream }, 'gb28181: the device answered another stream number');
    log.info({ deviceId: s.deviceId, channelId: s.channelId, stream: streamName(s.stream), streamId: s.streamId, transport, ssrc: answerSsrc || s.ssrc }, 'gb28181: live stream started');
  }

  #stopStream(streamId: string, reason: StopReason): void {
    const s = this.#byStream.get(streamId);
    if (s) void this.#stop(s, reason, true);
  }

  /** Closes a session: BYE to the device (when `bye`), then the media. Never throws. */
  async #stop(s: Session, reason: StopReason, bye: boolean): Promise<void> {
    if (s.stopped) return;
    s.stopped = true;
    s.onEnded(reason);
    if (s.linger) clearTimeout(s.linger);
    if (this.#byKey.get(s.key) === s) this.#byKey.delete(s.key);
    this.#byStream.delete(s.streamId);
    for (const [callId, v] of this.#byCallId) if (v === s) this.#byCallId.delete(callId);
    const { log, commander } = this.#o;
    log.info({ deviceId: s.deviceId, channelId: s.channelId, streamId: s.streamId, reason }, 'gb28181: live stream stopped');
    const dialog = s.dialog;
    if (bye && dialog && dialog.end()) {
      try {
        const rq = commander.makeRequest('BYE', dialog.id.targetId, dialog.id.remote, {
          callId: dialog.callId,
          fromTag: dialog.id.localTag,
          toTag: dialog.id.remoteTag,
          cseq: dialog.nextCseq(),
        });
        this.stats.byesSent++;
        // the answer does not matter: the stream is closed either way
        // at shutdown nobody waits long for a device that is gone
        const timeoutMs = reason === 'closing' ? 1000 : undefined;
        await commander.endpoint.request(rq, dialog.id.remote, undefined, timeoutMs).catch((err: unknown) => log.debug({ err: (err as Error).message, streamId: s.streamId }, 'gb28181: BYE not answered'));
      } catch (err) {
        log.debug({ err }, 'gb28181: BYE not sent');
      }
    }
    // the engine may have ended it already (a TCP peer that closed, a worker that died): not a fault
    await this.#media?.closeStream(s.streamId).catch((err: unknown) => log.debug({ err: (err as Error).message, streamId: s.streamId }, 'gb28181: the media engine did not close a stream'));
  }

  /** The device sent BYE for `callId`: true when it was one of ours (answer 200), false (481). */
  deviceBye(callId: string): boolean {
    const s = this.#byCallId.get(callId);
    if (!s) return false;
    this.stats.byesReceived++;
    s.dialog?.end();
    void this.#stop(s, 'deviceBye', false);
    return true;
  }

  /** Every stream of a device ends (it went offline or unregistered): BYE each. */
  async stopDevice(deviceId: string, reason: StopReason): Promise<void> {
    const mine = [...this.#byKey.values()].filter((s) => s.deviceId === deviceId);
    await Promise.all(mine.map((s) => this.#stop(s, reason, true)));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#byKey.values()].map((s) => this.#stop(s, 'closing', true)));
    if (this.#media) {
      this.#media.off('noMedia', this.#onNoMedia);
      this.#media.off('ended', this.#onEnded);
    }
  }
}
