// The media engine over real loopback sockets, with PS/RTP made from ffmpeg clips.
import t from 'tap';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { pino } from 'pino';
import { MediaEngine } from '../../../gb28181/media/MediaEngine.ts';
import type { MediaFrame } from '../../../gb28181/media/MediaTypes.ts';
import { frame4571, psPackets, udpLegSink } from '../../helpers/rtpPs.ts';
import { waitFor } from '../../helpers/wait.ts';

const log = pino({ level: 'silent' });
const base = 20000 + 2 * Math.floor(Math.random() * 10000);

async function engine(t: Tap, noMediaSeconds = 15): Promise<MediaEngine> {
  const e = new MediaEngine({ host: '127.0.0.1', ports: { min: base, max: base + 200 }, noMediaSeconds, log });
  await e.start();
  t.teardown(() => e.close());
  return e;
}
type Tap = { teardown(fn: () => unknown): void };

function collect(e: MediaEngine, streamId: string): MediaFrame[] {
  const frames: MediaFrame[] = [];
  e.subscribe(streamId, (f) => frames.push(f));
  return frames;
}

async function sendUdp(port: number, packets: Buffer[]): Promise<void> {
  const s = createSocket('udp4');
  for (let i = 0; i < packets.length; i++) {
    s.send(packets[i]!, port, '127.0.0.1');
    if (i % 20 === 19) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 20));
  s.close();
}

const SSRC = 100000001;

t.test('UDP: PS frames come out in the parent, stats count them', async (t) => {
  const e = await engine(t);
  const first: unknown[] = [];
  e.on('firstMedia', (m) => first.push(m));
  const { port } = await e.openIncoming({ streamId: 's1', transport: 'udp', ssrc: String(SSRC) });
  t.equal(port % 2, 0, 'an even port');
  t.ok(port >= base && port <= base + 200, 'from the range');
  const frames = collect(e, 's1');
  const packets = await psPackets('h264', SSRC);
  await sendUdp(port, packets.flat());
  await waitFor(() => frames.length >= packets.length - 1, 10_000, 'frames');
  t.ok(frames[0]!.keyframe && frames[0]!.codec === 'h264', 'a keyframe first');
  t.same(first, [{ streamId: 's1', ssrc: '0100000001' }]);
  await waitFor(() => (e.stats('s1')?.packets ?? 0) === packets.flat().length, 5000, 'stats');
  const st = e.stats('s1')!;
  t.equal(st.lost, 0);
  t.equal(st.width, 320);
  t.equal(st.height, 240);
  t.equal(st.codec, 'h264');
  await e.closeStream('s1');
  const again = await e.openIncoming({ streamId: 's2', transport: 'udp', ssrc: '1' });
  t.equal(again.port, port, 'the port is reused after close');
});

t.test('reordered and lost packets are counted', async (t) => {
  const e = await engine(t);
  const { port } = await e.openIncoming({ streamId: 'r', transport: 'udp', ssrc: String(SSRC) });
  const flat = (await psPackets('h264', SSRC)).flat().slice(0, 120);
  [flat[10], flat[11]] = [flat[11]!, flat[10]!];
  flat.splice(50, 1);
  await sendUdp(port, flat);
  await waitFor(() => (e.stats('r')?.packets ?? 0) === flat.length && e.stats('r')!.lost === 1, 5000, 'counts');
  t.equal(e.stats('r')!.reordered, 1);
  t.equal(e.stats('r')!.lost, 1);
});

t.test('TCP passive: the device connects to our port (RFC 4571)', async (t) => {
  const e = await engine(t);
  const { port } = await e.openIncoming({ streamId: 'p', transport: 'tcp-passive', ssrc: String(SSRC) });
  const frames = collect(e, 'p');
  const packets = (await psPackets('h264', SSRC)).flat();
  const ended = once(e, 'ended');
  const sock = connect(port, '127.0.0.1');
  await once(sock, 'connect');
  sock.end(Buffer.concat(packets.map(frame4571)));
  await waitFor(() => frames.length >= 49, 10_000, 'frames over TCP');
  t.same((await ended)[0], { streamId: 'p', reason: 'peer-closed' }, 'the device closing the connection ends the stream');
});

t.test('TCP active: we connect to the device after its answer; the answer SSRC is expected', async (t) => {
  const e = await engine(t);
  const packets = (await psPackets('h264', 222)).flat();
  const device = createServer((s: Socket) => s.end(Buffer.concat(packets.map(frame4571))));
  device.listen(0, '127.0.0.1');
  await once(device, 'listening');
  t.teardown(() => device.close());
  const { port } = await e.openIncoming({ streamId: 'a', transport: 'tcp-active', ssrc: String(SSRC) });
  t.ok(port > 0, 'a port is reserved');
  const frames = collect(e, 'a');
  const first = once(e, 'firstMedia');
  await e.answerIncoming('a', { host: '127.0.0.1', port: (device.address() as { port: number }).port, ssrc: '222' });
  t.same((await first)[0], { streamId: 'a', ssrc: '0000000222' });
  await waitFor(() => frames.length >= 49, 10_000, 'frames');
});

t.test('SSRC: the first packet\'s when the device ignores ours; then other SSRCs are dropped as stale', async (t) => {
  const e = await engine(t);
  const { port } = await e.openIncoming({ streamId: 'x', transport: 'udp', ssrc: String(SSRC) });
  const first = once(e, 'firstMedia');
  const frames = collect(e, 'x');
  const theirs = (await psPackets('h264', 555)).flat();
  await sendUdp(port, theirs.slice(0, 60));
  t.same((await first)[0], { streamId: 'x', ssrc: '0000000555' }, 'locked onto the first packet');
  const stale = (await psPackets('h264', 777)).flat().slice(0, 30);
  await sendUdp(port, stale);
  await waitFor(() => e.stats('x')?.staleSsrcDropped === 30, 5000, 'stale dropped');
  await sendUdp(port, theirs.slice(60));
  await waitFor(() => frames.length >= 49, 10_000, 'frames');
  t.equal(e.stats('x')!.ssrc, '0000000555');
});

t.test('no media: noMedia after noMediaSeconds', async (t) => {
  const e = await engine(t, 0.3);
  await e.openIncoming({ streamId: 'quiet', transport: 'udp', ssrc: '1' });
  const started = Date.now();
  const [ev] = await once(e, 'noMedia');
  t.same(ev, { streamId: 'quiet' });
  t.ok(Date.now() - started >= 250, 'not before the time');
});

t.test('outgoing legs: the stream relayed with the leg\'s SSRC; closing the stream closes them', async (t) => {
  const e = await engine(t);
  const { port } = await e.openIncoming({ streamId: 'in', transport: 'udp', ssrc: String(SSRC) });
  const got = await udpLegSink(t, e, { streamId: 'in', legId: 'up1', ssrc: '999' });
  const upper = createServer();
  const tcpGot: Buffer[] = [];
  upper.on('connection', (s) => s.on('data', (d: Buffer) => tcpGot.push(d)));
  upper.listen(0, '127.0.0.1');
  await once(upper, 'listening');
  t.teardown(() => upper.close());
  await e.openOutgoing({ streamId: 'in', legId: 'up2', transport: 'tcp-active', host: '127.0.0.1', port: (upper.address() as { port: number }).port, ssrc: '998' });
  const packets = (await psPackets('h264', SSRC)).flat();
  await sendUdp(port, packets);
  await waitFor(() => got.length === packets.length, 5000, 'relayed packets').catch((err) => { t.comment(`got ${got.length}, stats ${JSON.stringify(e.stats('in'))}`); throw err; });
  t.ok(got.every((p) => p.ssrc === 999), 'with the leg\'s SSRC');
  await waitFor(() => Buffer.concat(tcpGot).length === packets.reduce((n, p) => n + p.length + 2, 0), 5000, 'TCP leg');
  await e.closeOutgoing('up2');
  await t.rejects(e.closeOutgoing('up2'), { code: 'ESEAL_ERR_GBMEDIA_UNKNOWN_STREAM' });
  await e.closeStream('in');
  await t.rejects(e.closeOutgoing('up1'), { code: 'ESEAL_ERR_GBMEDIA_UNKNOWN_STREAM' }, 'the leg closed with its stream');
});

t.test('a relayed stream nobody subscribed to keeps its frames in the worker; a subscriber gets them', async (t) => {
  const e = await engine(t);
  const { port } = await e.openIncoming({ streamId: 'rl', transport: 'udp', ssrc: String(SSRC) });
  const up = await udpLegSink(t, e, { streamId: 'rl', legId: 'rl-up', ssrc: '999' });
  const packets = (await psPackets('h264', SSRC)).flat();
  const half = Math.floor(packets.length / 2);
  await sendUdp(port, packets.slice(0, half));
  await waitFor(() => up.length === half && (e.stats('rl')?.frames ?? 0) > 10, 5000, 'relayed and demuxed');
  t.equal(e.framesPiped, 0, 'no frame came up the pipe');
  await waitFor(() => e.stats('rl')?.demuxed === false, 5000, 'the relay-only stream no longer demuxed');
  const frames = collect(e, 'rl');
  // requests are answered in order: once this one is, the worker has the subscription
  await e.closeOutgoing('no-such-leg').catch(() => undefined);
  await sendUdp(port, packets.slice(half));
  await waitFor(() => frames.length >= 20 && up.length === packets.length, 5000, 'frames for the subscriber');
  t.ok(frames.every((f) => f.codec === 'h264'), 'demuxed frames');
  await waitFor(() => e.stats('rl')?.demuxed === true, 5000, 'demuxed again for the subscriber');
});

t.test('bad requests are refused with codes', async (t) => {
  const e = await engine(t);
  await t.rejects(e.openIncoming({ streamId: 'b', transport: 'sctp' as 'udp', ssrc: '1' }), { code: 'ESEAL_ERR_GBMEDIA_BAD_REQUEST' });
  await t.rejects(e.openIncoming({ streamId: 'b', transport: 'udp', ssrc: 'abc' }), { code: 'ESEAL_ERR_GBMEDIA_BAD_REQUEST' });
  await e.openIncoming({ streamId: 'b', transport: 'udp', ssrc: '1' });
  await t.rejects(e.openIncoming({ streamId: 'b', transport: 'udp', ssrc: '1' }), { code: 'ESEAL_ERR_GBMEDIA_DUPLICATE_STREAM' });
  await t.rejects(e.answerIncoming('nope', { host: '127.0.0.1', port: 1 }), { code: 'ESEAL_ERR_GBMEDIA_UNKNOWN_STREAM' });
});

t.test('the worker killed with SIGKILL: its streams end, the engine restarts it and works again', async (t) => {
  const e = await engine(t);
  await e.openIncoming({ streamId: 'k1', transport: 'udp', ssrc: '1' });
  await e.openIncoming({ streamId: 'k2', transport: 'tcp-passive', ssrc: '2' });
  const ended: unknown[] = [];
  e.on('ended', (m) => ended.push(m));
  const exit = once(e, 'workerExit');
  process.kill(e.workerPid!, 'SIGKILL');
  t.same((await exit)[0], { code: null, signal: 'SIGKILL' });
  t.same(ended.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
    { streamId: 'k1', reason: 'worker-exit' },
    { streamId: 'k2', reason: 'worker-exit' },
  ]);
  const { port } = await e.openIncoming({ streamId: 'k3', transport: 'udp', ssrc: String(SSRC) });
  t.equal(e.workerStarts, 2);
  const frames = collect(e, 'k3');
  await sendUdp(port, (await psPackets('h264', SSRC)).flat());
  await waitFor(() => frames.length >= 49, 10_000, 'frames after the restart');
});
