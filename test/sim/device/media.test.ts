// A live INVITE answered as GB/T 28181 §9.2 says, over UDP, TCP active (the platform listens) and
// TCP passive (the device listens): the answer's y= and port, RTP (PT 96, ≤ 1400 bytes, 90 kHz,
// the SSRC answered) whose payload is an MPEG-PS that the real ffmpeg decodes to pictures; BYE
// either way; the media knobs (SSRC ignored, no media, PS variants, H.265).
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Test } from 'tap';
import { runFfmpeg } from '../../../src/media/ffmpeg.ts';
import { makeClipBytes } from '../../../sim/device/clip.ts';
import { SimDevice } from '../../../sim/device/SimDevice.ts';
import type { SimDeviceOptions } from '../../../sim/device/SimDeviceTypes.ts';
import { tempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';
import { Peer, RtpReceiver, SERVER_ID, offerSdp, simOptions } from './peer.ts';

const FRAMES = 30;
const clips: Partial<Record<'h264' | 'h265', Promise<string>>> = {};
let dir: string;

t.before(async () => {
  dir = await tempDir(t, 'eseal-simdev-');
});

function clipFile(codec: 'h264' | 'h265'): Promise<string> {
  return (clips[codec] ??= makeClipBytes({ codec, seconds: 2, width: 320, height: 180 }).then(async (b) => {
    const path = join(dir, `clip.${codec}`);
    await writeFile(path, b);
    return path;
  }));
}

async function device(t: Test, peer: Peer, extra: Partial<SimDeviceOptions> = {}): Promise<SimDevice> {
  const dev = await SimDevice.start(simOptions(peer, { media: await clipFile(extra.codec ?? 'h264'), ...extra }));
  t.teardown(() => dev.close());
  return dev;
}

/** Decodes a PS file with ffmpeg; the number of pictures it decoded. */
async function decodedFrames(t: Test, ps: Buffer, name: string): Promise<number> {
  const path = join(dir, `${name}.ps`);
  await writeFile(path, ps);
  const { stderr } = await runFfmpeg(['-hide_banner', '-f', 'mpeg', '-i', path, '-map', '0:v:0', '-f', 'null', '-'], { stderrTailBytes: 16 * 1024, timeoutMs: 60_000 });
  const frames = [...stderr.matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1]));
  t.comment(`${name}: ${ps.length} PS bytes, ffmpeg decoded ${frames.at(-1) ?? 0} frames`);
  return frames.at(-1) ?? 0;
}

type Mode = 'udp' | 'tcp-listen' | 'tcp-connect';

async function play(t: Test, dev: SimDevice, peer: Peer, mode: Mode, ssrc = '0100000001', frames = FRAMES, channel = dev.channels[0]!.id) {
  const rx = mode === 'udp' ? await RtpReceiver.udp(t) : mode === 'tcp-listen' ? await RtpReceiver.tcpListen(t) : undefined;
  const started = performance.now();
  const { callId, ok } = await peer.invite(channel, offerSdp({ port: rx?.port ?? 40000, transport: mode, ssrc }), ssrc);
  t.match(ok.start, 'SIP/2.0 200', 'INVITE answered 200');
  const answer = ok.body.toString('latin1');
  const port = Number(/m=video (\d+) /.exec(answer)?.[1]);
  const receiver = rx ?? RtpReceiver.tcpConnect(t, port);
  peer.ack(channel, callId, ok);
  if (frames > 0) {
    await waitFor(() => receiver.packets.length > 0, 20_000, 'the first RTP packet');
    t.comment(`${mode}: INVITE to first RTP packet ${Math.round(performance.now() - started)} ms (poll granularity 50 ms)`);
    await waitFor(() => receiver.markers >= frames, 20_000, `${frames} pictures`);
  }
  return { callId, ok, answer, port, rx: receiver };
}

for (const [mode, proto, setup] of [
  ['udp', 'RTP/AVP', undefined],
  ['tcp-listen', 'TCP/RTP/AVP', 'active'],
  ['tcp-connect', 'TCP/RTP/AVP', 'passive'],
] as const) {
  t.test(`INVITE over ${mode}: answer, RTP, a PS ffmpeg decodes, BYE stops it`, async (t) => {
    const peer = await Peer.start(t, { protocol: mode === 'udp' ? 'udp' : 'tcp' });
    const dev = await device(t, peer);
    const { callId, ok, answer, port, rx } = await play(t, dev, peer, mode);
    t.match(answer, /^v=0\r\n/);
    t.match(answer, `m=video ${port} ${proto} 96`);
    t.match(answer, 'a=rtpmap:96 PS/90000');
    t.match(answer, 'y=0100000001', 'the offered SSRC is answered');
    if (setup) t.match(answer, `a=setup:${setup}`);
    if (mode === 'tcp-connect') t.ok(port > 0 && port !== 9, 'TCP passive answers its listening port');
    t.ok(rx.packets.every((p) => p.length <= 1400 && p[0] === 0x80 && (p[1]! & 0x7f) === 96 && p.readUInt32BE(8) === 100000001), 'RTP v2, PT 96, ≤ 1400 bytes, SSRC 100000001');
    const stamps = [...new Set(rx.packets.map((p) => p.readUInt32BE(4)))];
    t.ok(stamps.slice(1).every((s, i) => s - stamps[i]! === 3600), '90 kHz timestamps, 3600 apart at 25 fps');
    const ps = rx.payload();
    t.equal(ps.readUInt32BE(0), 0x1ba, 'the stream starts with a pack header');
    t.equal(ps.readUInt32BE(14), 0x1bb, 'then the system header (keyframe)');
    t.ok(ps.includes(Buffer.from([0, 0, 1, 0xbc])), 'a PSM');
    t.ok((await decodedFrames(t, ps, `play-${mode}`)) >= FRAMES - 1, 'ffmpeg decodes the pictures');
    t.same(dev.streams, [callId]);
    const bye = await peer.bye(dev.channels[0]!.id, callId, ok);
    t.match(bye.start, 'SIP/2.0 200');
    t.same(dev.streams, [], 'BYE ended the stream');
  });
}

t.test('ignoreSsrc knob: the answer and the RTP carry another SSRC', async (t) => {
  const peer = await Peer.start(t, { protocol: 'udp' });
  const dev = await device(t, peer, { ignoreSsrc: true });
  const { answer, rx } = await play(t, dev, peer, 'udp', '0100000777', 5);
  const y = /y=(\d+)/.exec(answer)![1]!;
  t.not(y, '0100000777');
  t.match(y, /^0\d{9}$/);
  t.ok(rx.packets.every((p) => p.readUInt32BE(8) === Number(y)), 'RTP under the answered SSRC');
});

t.test('noMedia knob: 200 and ACK, but no RTP while a normal device streams', async (t) => {
  const peer = await Peer.start(t, { protocol: 'udp' });
  const silent = await device(t, peer, { noMedia: true });
  const peer2 = await Peer.start(t, { protocol: 'udp' });
  const normal = await device(t, peer2, { deviceId: '34020000001320000050' });
  const quiet = await play(t, silent, peer, 'udp', '0100000002', 0);
  await play(t, normal, peer2, 'udp', '0100000003', 10);
  t.equal(quiet.rx.packets.length, 0);
});

t.test('byeAfterSeconds knob: the device hangs up with a BYE in the dialog', async (t) => {
  const peer = await Peer.start(t, { protocol: 'udp' });
  const dev = await device(t, peer, { byeAfterSeconds: 0.2 });
  const { callId, ok } = await play(t, dev, peer, 'udp', '0100000004', 1);
  const bye = await peer.next((m) => m.start.startsWith('BYE') && m.headers['call-id'] === callId, peer.messages);
  t.match(bye.start, `BYE sip:${SERVER_ID}@127.0.0.1:${peer.port} SIP/2.0`, 'to the INVITE Contact');
  t.equal(/tag=([^;>\s]+)/.exec(bye.headers['from']!)![1], /tag=([^;>\s]+)/.exec(ok.headers['to']!)![1], 'From carries our tag');
  t.match(bye.headers['to'], 'tag=peerfrom');
  t.same(dev.streams, []);
});

const variants: Array<[string, Partial<SimDeviceOptions>, (t: Test, ps: Buffer, rx: RtpReceiver) => void]> = [
  ['noPsm', { noPsm: true }, (t, ps) => t.notOk(ps.includes(Buffer.from([0, 0, 1, 0xbc])), 'no PSM')],
  ['privateStream', { privateStream: true }, (t, ps) => t.ok(ps.includes(Buffer.from([0, 0, 1, 0xbd])), '0xBD packets')],
  ['audio', { audio: true }, (t, ps) => t.ok(ps.includes(Buffer.from([0, 0, 1, 0xc0])), '0xC0 G.711A packets')],
  [
    'pesSplit',
    { pesSplit: true },
    (t, _ps, rx) => t.ok(rx.packets.filter((p) => !(p[1]! & 0x80)).every((p) => p.length === 12 + 997), 'RTP cut at 997-byte payloads'),
  ],
  ['h265', { codec: 'h265' }, (t, ps) => t.ok(ps.includes(Buffer.from([0x24, 0xe0])), 'PSM stream_type 0x24 for H.265')],
];
for (const [name, knob, check] of variants) {
  t.test(`PS variant ${name}: ffmpeg still decodes it`, async (t) => {
    const peer = await Peer.start(t, { protocol: 'udp' });
    const dev = await device(t, peer, knob);
    const { rx } = await play(t, dev, peer, 'udp', '0100000005', 25 + (knob.audio ? 25 : 0));
    const ps = rx.payload();
    check(t, ps, rx);
    if (name === 'pesSplit') t.ok(ps.indexOf(Buffer.from([0, 0, 1, 0xe0]), 100) > 0, 'several PES per picture');
    t.ok((await decodedFrames(t, ps, name)) >= 20, 'ffmpeg decodes the pictures');
  });
}
