// The GOP cache through the real engine over loopback: a relay leg opened in the middle of a GOP
// (UDP, TCP active, TCP passive) gets, first thing, the pack of the last keyframe (with its system
// header and PSM) re-sequenced under its own SSRC, timestamps kept, then the live packets; and a
// subscription to a relay-only stream starts with the cached frames from that keyframe.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { pino } from 'pino';
import { MediaEngine } from '../../../gb28181/media/MediaEngine.ts';
import type { MediaFrame } from '../../../gb28181/media/MediaTypes.ts';
import { PsDemuxer, type DemuxedFrame } from '../../../gb28181/media/ps/PsDemuxer.ts';
import { Rfc4571Deframer } from '../../../gb28181/media/rtp/rfc4571.ts';
import { parseRtp, seqDiff, type RtpPacket } from '../../../gb28181/media/rtp/rtpPacket.ts';
import { psPackets, udpLegSink } from '../../helpers/rtpPs.ts';
import { waitFor } from '../../helpers/wait.ts';

const log = pino({ level: 'silent' });
const base = 20000 + 2 * Math.floor(Math.random() * 10000);
const SSRC = 100000001;

async function engine(t: Tap): Promise<MediaEngine> {
  const e = new MediaEngine({ host: '127.0.0.1', ports: { min: base, max: base + 200 }, noMediaSeconds: 15, log });
  await e.start();
  t.teardown(() => e.close());
  return e;
}
type Tap = { teardown(fn: () => unknown): void };

async function sendUdp(port: number, packets: Buffer[]): Promise<void> {
  const s = createSocket('udp4');
  for (let i = 0; i < packets.length; i++) {
    s.send(packets[i]!, port, '127.0.0.1');
    if (i % 20 === 19) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 20));
  s.close();
}

/** What a peer (the upper platform) makes of the packets a leg sent it. */
function demux(packets: RtpPacket[]): DemuxedFrame[] {
  const frames: DemuxedFrame[] = [];
  const d = new PsDemuxer((f) => frames.push(f));
  for (const p of packets) d.push(p.payload, p.timestamp, p.marker);
  return frames;
}

const hasUnit = (b: Buffer, id: number): boolean => b.includes(Buffer.from([0, 0, 1, id]));

// 50 pictures, keyframes at 0 and 25: the legs open after picture 37, 12 into the second GOP
const MID = 38;
const KEY = 25;

t.test('a leg opened mid-GOP starts with the last keyframe, re-sequenced under its SSRC, then live', async (t) => {
  const e = await engine(t);
  const { port } = await e.openIncoming({ streamId: 'in', transport: 'udp', ssrc: String(SSRC) });
  const frames = await psPackets('h264', SSRC);
  t.ok(frames.length === 50 && frames.every((_, i) => (i % 25 === 0) === frames[i]![0]!.includes(Buffer.from([0, 0, 1, 0xbb]))), 'the clip: keyframes (with a system header) at 0 and 25');
  await sendUdp(port, frames.slice(0, MID).flat());
  await waitFor(() => (e.stats('in')?.packets ?? 0) === frames.slice(0, MID).flat().length, 5000, 'the first pictures in');

  // UDP leg
  const udpGot = await udpLegSink(t, e, { streamId: 'in', legId: 'u', ssrc: '999' });
  // TCP active leg (we connect to the upper)
  const tcpGot: RtpPacket[] = [];
  const upper = createServer((s: Socket) => {
    const d = new Rfc4571Deframer();
    s.on('data', (c: Buffer) => {
      for (const p of d.push(c)) tcpGot.push(parseRtp(Buffer.from(p))!);
    });
  });
  upper.listen(0, '127.0.0.1');
  await once(upper, 'listening');
  t.teardown(() => upper.close());
  await e.openOutgoing({ streamId: 'in', legId: 'a', transport: 'tcp-active', host: '127.0.0.1', port: (upper.address() as { port: number }).port, ssrc: '998' });
  // TCP passive leg: the upper connects later, and gets the cache then
  const { port: passivePort } = await e.openOutgoing({ streamId: 'in', legId: 'p', transport: 'tcp-passive', host: '', port: 0, ssrc: '997' });
  const cached = frames.slice(KEY, MID).flat();
  await waitFor(() => udpGot.length === cached.length && tcpGot.length === cached.length, 5000, 'the cache on the UDP and TCP active legs');
  const passiveGot: RtpPacket[] = [];
  const pd = new Rfc4571Deframer();
  const ps = connect(passivePort, '127.0.0.1');
  ps.on('data', (c: Buffer) => {
    for (const p of pd.push(c)) passiveGot.push(parseRtp(Buffer.from(p))!);
  });
  t.teardown(() => ps.destroy());
  await waitFor(() => passiveGot.length === cached.length, 5000, 'the cache on the TCP passive leg once it connected');

  await sendUdp(port, frames.slice(MID).flat());
  const all = frames.slice(KEY).flat().map((b) => parseRtp(b)!);
  for (const [name, got, ssrc] of [['udp', udpGot, 999], ['tcp-active', tcpGot, 998], ['tcp-passive', passiveGot, 997]] as const) {
    await waitFor(() => got.length === all.length, 5000, `${name}: the live packets after the cache`);
    const first = got[0]!;
    t.ok(hasUnit(first.payload.subarray(0, 4), 0xba) && hasUnit(first.payload, 0xbb) && hasUnit(first.payload, 0xbc), `${name}: the first packet is a pack with a system header and a PSM`);
    t.ok(got.every((p) => p.ssrc === ssrc), `${name}: the leg's SSRC`);
    t.ok(got.every((p, i) => i === 0 || seqDiff(p.seq, got[i - 1]!.seq) === 1), `${name}: sequence numbers of its own, without a gap`);
    t.same(got.map((p) => p.timestamp), all.map((p) => p.timestamp), `${name}: the timestamps kept`);
    t.ok(got.every((p, i) => p.payload.equals(all[i]!.payload)), `${name}: the payloads of the last GOP and the live ones, in order`);
    const video = demux(got).filter((f) => f.kind === 'video');
    t.ok(video[0]?.keyframe && video[0].codec === 'h264', `${name}: the first demuxed picture is an H.264 keyframe`);
    t.equal(video.length, 50 - KEY, `${name}: every picture from it on`);
  }
});

t.test('a viewer subscribing to a relay-only stream starts with the cached frames from the last keyframe', async (t) => {
  const e = await engine(t);
  const { port } = await e.openIncoming({ streamId: 'rl', transport: 'udp', ssrc: String(SSRC) });
  const up = await udpLegSink(t, e, { streamId: 'rl', legId: 'rl-up', ssrc: '999' });
  const frames = await psPackets('h264', SSRC);
  await sendUdp(port, frames.slice(0, MID).flat());
  await waitFor(() => up.length === frames.slice(0, MID).flat().length, 5000, 'relayed');
  t.equal(e.framesPiped, 0, 'relay-only: no frame came up the pipe');
  const got: MediaFrame[] = [];
  const offFirst = e.subscribe('rl', (f) => got.push(f));
  await waitFor(() => got.length >= MID - KEY, 5000, 'the cached frames');
  t.ok(got[0]!.keyframe, 'the first frame is the last keyframe');
  t.equal(got[0]!.pts90k, 3600 * (KEY + 1), 'that of picture 25');
  await sendUdp(port, frames.slice(MID).flat());
  await waitFor(() => got.length === 50 - KEY, 5000, 'then the live frames');
  t.same(got.map((f) => f.pts90k), Array.from({ length: 50 - KEY }, (_, i) => 3600 * (KEY + 1 + i)), 'each picture once, in order, none missing');
  // off, on, off, on in one go: two replays come up the pipe, only the last one's frames are delivered
  offFirst();
  const between: MediaFrame[] = [];
  e.subscribe('rl', (f) => between.push(f))();
  const again: MediaFrame[] = [];
  e.subscribe('rl', (f) => again.push(f));
  await e.closeOutgoing('no-such-leg').catch(() => undefined); // answered in order: the worker has replayed twice
  await waitFor(() => again.length >= 50 - KEY, 5000, 'the cache for the new subscriber');
  // one more picture, live: the pipe is ordered, so a repeat of the cache would come before it
  const total = frames.flat().length;
  const more = frames[1]!.map((b, i) => {
    const c = Buffer.from(b);
    c.writeUInt16BE((1000 + total + i) & 0xffff, 2);
    c.writeUInt32BE(3600 * 51, 4);
    return c;
  });
  await sendUdp(port, more);
  await waitFor(() => again.length >= 50 - KEY + 1, 5000, 'the live picture after the cache');
  again.pop();
  t.equal(between.length, 0, 'the subscriber that left got nothing');
  t.ok(again[0]!.keyframe, 'the new one starts at the keyframe too');
  t.same(again.map((f) => f.pts90k), Array.from({ length: 50 - KEY }, (_, i) => 3600 * (KEY + 1 + i)), 'each cached picture once');
});

t.test('gopCache: false (gb28181.media.gopCache: no): a leg opened mid-GOP gets only what comes after it', async (t) => {
  const e = new MediaEngine({ host: '127.0.0.1', ports: { min: base + 202, max: base + 260 }, noMediaSeconds: 15, gopCache: false, log });
  await e.start();
  t.teardown(() => e.close());
  const { port } = await e.openIncoming({ streamId: 'lean', transport: 'udp', ssrc: String(SSRC) });
  const frames = await psPackets('h264', SSRC);
  await sendUdp(port, frames.slice(0, MID).flat());
  await waitFor(() => (e.stats('lean')?.packets ?? 0) === frames.slice(0, MID).flat().length, 5000, 'the first pictures in');
  const got = await udpLegSink(t, e, { streamId: 'lean', legId: 'l', ssrc: '996' });
  await sendUdp(port, frames.slice(MID).flat());
  const live = frames.slice(MID).flat().map((b) => parseRtp(b)!);
  await waitFor(() => got.length === live.length, 5000, 'the live packets');
  t.same(got.map((p) => p.timestamp), live.map((p) => p.timestamp), 'nothing from before the leg opened: no cache replayed');
});
