// The GOP/INVITE part of the GB/T 28181 benchmark (npm run bench -- gb28181): INVITE → first
// decodable frame through the whole chain, over each media transport.
//
// A real bridge (GbService with its SIP registrar, LiveSessions, the MediaEngine's worker process
// and the ViewerServer, assembled by test/helpers/gbBridge.ts as gb28181/role.ts does) on loopback,
// and a sim device (sim/device/SimDevice.ts) registered to it with digest, its clip made by ffmpeg
// (25 fps, a keyframe a second). Then, per transport (udp, tcp-passive, tcp-active), N times: an
// HTTP client opens the viewer's fMP4 URL of a channel that is not playing; the viewer acquires the
// channel (INVITE to the device, its 200, ACK, the device streams PS/RTP, the worker demuxes, the
// frames come up to the viewer, which muxes fMP4); the time from the request to the first `moof`
// byte received is one sample. The viewer then leaves (BYE, lingerSeconds 0) and the next open
// waits until no session is left. Figures: p50 and max per transport against the 1 s.
//
//   node --import tsx test/bench/gb28181Invite.ts   (or npm run bench -- gb28181; about 15 s)
//
// Knobs (environment, optional):
//   ESEAL_BENCH_GBI_OPENS   opens per transport (8)

import type { Test } from 'tap';
import type { MediaTransport } from '../../gb28181/media/MediaTypes.ts';
import { httpStream, startGbBridge, startSimDevice, catalogCollected } from '../helpers/gbBridge.ts';
import { waitFor } from '../helpers/wait.ts';
import { emitFigures, envNumber, figure, fmt, machineLine, onCleanup, printTable, runBenchmark, summarize, type Figure } from './lib.ts';

const TARGET_MS = 1000;
const DEVICE = '34020000001320000901';
const CHANNELS = 4;
const TRANSPORTS: MediaTransport[] = ['udp', 'tcp-passive', 'tcp-active'];
/** the sim device names a TCP mode from its own side: the bridge passive is the device active */
const DEVICE_SIDE: Record<MediaTransport, string> = { udp: 'udp', 'tcp-passive': 'tcp-active', 'tcp-active': 'tcp-passive' };
const WHO: Record<MediaTransport, string> = { udp: 'UDP', 'tcp-passive': 'TCP passive (the device connects)', 'tcp-active': 'TCP active (the bridge connects)' };

/** The teardown list gbBridge.ts wants from a tap test, run at the end. */
function teardowns(): { t: Test; run(): Promise<void> } {
  const fns: (() => unknown)[] = [];
  const t = { teardown: (fn: () => unknown) => void fns.push(fn) } as unknown as Test;
  return {
    t,
    async run() {
      for (const fn of fns.reverse()) await Promise.resolve(fn()).catch(() => undefined);
      fns.length = 0;
    },
  };
}

async function main(): Promise<void> {
  const opens = envNumber('ESEAL_BENCH_GBI_OPENS', 8);
  console.log('\ngb28181 INVITE → first decodable frame: viewer HTTP fMP4 open of a channel not playing, through SIP INVITE, the sim device, the media worker and the viewer');
  console.log(machineLine('this process (the bridge: SIP, viewer; the sim device; the HTTP client) and the media worker'));
  const td = teardowns();
  const stop = onCleanup(() => void td.run());
  const rows: string[][] = [];
  const figures: Figure[] = [];
  try {
    const bridge = await startGbBridge(td.t);
    const device = await startSimDevice(td.t, bridge, DEVICE, { channelCount: CHANNELS });
    await catalogCollected(bridge, DEVICE, CHANNELS);
    await device.prepareMedia();
    const live = bridge.service.context.live;
    const invites = new Map<string, number>();
    device.on('invite', (e) => invites.set(e.transport, (invites.get(e.transport) ?? 0) + 1));
    for (const transport of TRANSPORTS) {
      bridge.config.gb28181.media.transport = transport;
      const times: number[] = [];
      for (let i = 0; i < opens; i++) {
        const channel = device.channels[i % CHANNELS]!.id;
        const t0 = Date.now(); // httpStream notes the first moof in Date.now() time
        const v = httpStream(bridge.url(DEVICE, channel));
        const status = await v.status;
        if (status !== 200) throw new Error(`the viewer answered ${status} for ${channel} over ${transport}`);
        const first = await Promise.race([v.firstFragmentAt, v.ended.then((how) => Promise.reject(new Error(`the stream ended (${how}) before a fragment over ${transport}`)))]);
        times.push(first - t0);
        v.close();
        await waitFor(() => live.active === 0, 10_000, 'the session to end after the viewer left');
      }
      if (invites.get(DEVICE_SIDE[transport]) !== opens) throw new Error(`the device saw ${JSON.stringify([...invites])} INVITEs, not ${opens} over ${transport}`);
      const s = summarize(times);
      rows.push([WHO[transport], fmt(s.n), fmt(s.p50, 0), fmt(s.max, 0), s.max < TARGET_MS ? 'yes' : 'no']);
      figures.push(
        figure({ figure: `INVITE → first moof p50 (${transport})`, value: s.p50, unit: 'ms', baseline: TARGET_MS, baselineName: "the issue's budget", target: '', digits: 0 }),
        figure({ figure: `INVITE → first moof max (${transport})`, value: s.max, unit: 'ms', baseline: TARGET_MS, baselineName: "the issue's budget", target: `< ${TARGET_MS} ms`, pass: s.max < TARGET_MS, digits: 0 }),
      );
    }
  } finally {
    stop();
    await td.run();
  }
  console.log(`every open was one INVITE the device answered, over the transport named`);
  printTable(`INVITE → first fMP4 fragment, ${opens} opens per transport (budget ${TARGET_MS} ms)`, ['bridge media transport', 'opens', 'p50 ms', 'max ms', `max < ${TARGET_MS} ms`], rows);
  emitFigures('gb28181 invite', figures);
}

runBenchmark('gb28181 invite', main);
