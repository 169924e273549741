// The GB/T 28181 bridge's media path (npm run bench -- gb28181, the media part): two figures.
//
// 1. Relayed 2 Mbit/s PS/RTP streams per core with 0 loss, against a bare UDP forwarding loop
//    measured in the same run. N streams of paced RTP (25 fps, PS packs of an ffmpeg libx264 CBR
//    clip, 1280x720, one keyframe every 2 s, cut at 1400 bytes as devices do) are sent from this
//    process to N incoming UDP streams of a MediaEngine (its worker process demuxes every packet
//    and relays it on an outgoing UDP leg, our SSRC and sequence numbers); every leg goes to a
//    receiver socket here that counts packets. The baseline is the same traffic through a child
//    process that does nothing but `socket.on('message', m => out.send(m, …))`, one receive and
//    one send socket per stream, as the engine has. N grows level by level (each level sends for a
//    few seconds, then waits until the receivers are quiet); a level is good when every packet sent
//    arrived. The ramp ends at the first loss, when the forwarding process uses ≥ 90% of a core, or
//    when this process cannot keep the pace (the load generator is the limit). Figure: streams per
//    core of the forwarding process at the largest good level, i.e. N ÷ the cores its process used
//    (from /proc/<pid>/stat); the engine's against the bare loop's. Also shown: CPU per stream, the
//    worker's RSS per relayed stream (RSS at N minus RSS before any stream, ÷ N).
//
// 2. Open to the first decodable frame, INVITE-free: an HTTP fMP4 viewer asks the ViewerServer for
//    a channel; its LiveSource opens an incoming stream in the engine and starts a "device" sending
//    the clip from its first keyframe; the time from the request to the first `moof` byte the
//    viewer receives, over several channels one after the other. Against the issue's 1 s budget for
//    INVITE → first frame (which adds the SIP round trips on top).
//
//   node --import tsx test/bench/gb28181Media.ts   (or npm run bench -- gb28181; about a minute)
//
// Knobs (environment, all optional):
//   ESEAL_BENCH_GBM_LEVELS    streams per level, comma-separated (16,32,64,96,128,192,256,320,400)
//   ESEAL_BENCH_GBM_SECONDS   seconds each level sends (3)
//   ESEAL_BENCH_GBM_KBPS      the clip's video bitrate in kbit/s (1900: ≈ 2 Mbit/s on the wire with PS and RTP)
//   ESEAL_BENCH_GBM_OPENS     viewer opens measured for the latency figure (10)

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { request } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { MediaEngine } from '../../gb28181/media/MediaEngine.ts';
import { ViewerServer } from '../../gb28181/view/ViewerServer.ts';
import type { LiveSource } from '../../gb28181/view/ViewTypes.ts';
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import { spawnNodeChild } from '../../src/process/nodeChild.ts';
import { accessUnits, psFrame, RtpPacketiser } from '../helpers/rtpPs.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  emitFigures,
  envList,
  envNumber,
  figure,
  fmt,
  guardChild,
  machineLine,
  nowMs,
  ownCpuSeconds,
  percentile,
  printTable,
  processCpuSeconds,
  runBenchmark,
  sleep,
  summarize,
  type Figure,
} from './lib.ts';

const HOST = '127.0.0.1';
const FPS = 25;
const FRAME_MS = 1000 / FPS;
const TICK_MS = 4;
const CLIP_SECONDS = 4;
const TARGET_RATIO = 0.7;
const LATENCY_BUDGET_MS = 1000;
/** the forwarding process at this share of one core is saturated: the ramp stops */
const SATURATED = 0.9;
/** the load generator this far behind its schedule is the limit: the ramp stops */
const GENERATOR_LAG_MS = 100;
const SHARING = 'this process (RTP senders, receivers, the engine parent and the viewer) and the forwarding process (media worker or bare UDP loop)';

// ---------------------------------------------------------------------------------------------
// The baseline's process: a bare dgram receive → send loop per stream.

function forwarderMain(): void {
  const sockets: UdpSocket[] = [];
  const bind = (s: UdpSocket): Promise<void> => new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, HOST, () => {
      s.off('error', reject);
      resolve();
    });
  });
  process.on('message', (m: { op: 'open'; targets: number[] } | { op: 'close' }) => {
    if (m.op === 'close') {
      for (const s of sockets) s.close();
      process.exit(0);
    }
    void (async () => {
      const ports: number[] = [];
      for (const target of m.targets) {
        const rx = createSocket('udp4');
        const tx = createSocket('udp4');
        await bind(rx);
        await bind(tx);
        try {
          rx.setRecvBufferSize(4 * 1024 * 1024); // as the engine's incoming sockets
        } catch {
          /* the OS keeps its own limit */
        }
        rx.on('message', (msg) => tx.send(msg, target, HOST));
        tx.on('error', () => undefined);
        sockets.push(rx, tx);
        ports.push(rx.address().port);
      }
      process.send!({ op: 'opened', ports });
    })();
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ op: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// What is sent: one clip, muxed into PS packs and cut into RTP payloads once; every stream sends
// them with its own SSRC, sequence numbers and timestamps.

interface ClipPacket {
  payload: Buffer;
  marker: boolean;
}

async function makeClip(kbps: number): Promise<{ frames: ClipPacket[][]; wireBitsPerSecond: number }> {
  const { stdout } = await runFfmpeg(
    [
      '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${FPS}`, '-t', String(CLIP_SECONDS),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'main',
      '-x264-params', `keyint=${2 * FPS}:min-keyint=${2 * FPS}:scenecut=0:nal-hrd=cbr`,
      '-b:v', `${kbps}k`, '-minrate', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`,
      '-bf', '0', '-pix_fmt', 'yuv420p', '-f', 'h264', 'pipe:1',
    ],
    { timeoutMs: 120_000 },
  );
  const aus = accessUnits('h264', stdout);
  const rtp = new RtpPacketiser({ ssrc: 0 });
  let bytes = 0;
  const frames = aus.map((au, i) => {
    const ts = 3600 * (i + 1);
    return rtp.ps(psFrame(au, ts, { codec: 'h264' }), ts).map((p) => {
      bytes += p.length + 28; // IPv4 + UDP headers
      return { payload: p.subarray(12), marker: (p[1]! & 0x80) !== 0 };
    });
  });
  return { frames, wireBitsPerSecond: (bytes * 8) / (aus.length / FPS) };
}

/** One paced RTP sender: a frame every 40 ms, all its packets at once (as a camera bursts them). */
class StreamSender {
  seq = Math.floor(Math.random() * 0xffff);
  frame = 0;
  ts = 0;
  nextAt = 0;
  sent = 0;

  constructor(
    readonly ssrc: number,
    readonly port: number,
  ) {}

  sendFrame(sock: UdpSocket, frames: ClipPacket[][]): void {
    const packets = frames[this.frame % frames.length]!;
    this.frame++;
    this.ts = (this.ts + 3600) >>> 0;
    for (const p of packets) {
      const h = Buffer.allocUnsafe(12);
      h[0] = 0x80;
      h[1] = (p.marker ? 0x80 : 0) | 96;
      h.writeUInt16BE(this.seq, 2);
      h.writeUInt32BE(this.ts, 4);
      h.writeUInt32BE(this.ssrc, 8);
      this.seq = (this.seq + 1) & 0xffff;
      sock.send([h, p.payload], this.port, HOST);
      this.sent++;
    }
  }
}

/** Sends for every stream on one socket, paced by a short timer; tells how far it fell behind. */
class Generator {
  readonly #sock = createSocket('udp4');
  readonly senders: StreamSender[] = [];
  #timer: NodeJS.Timeout | undefined;
  maxLagMs = 0;

  constructor(readonly frames: ClipPacket[][]) {
    this.#sock.on('error', () => undefined);
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#sock.bind(0, HOST, () => resolve()));
    try {
      this.#sock.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      /* the OS keeps its own limit */
    }
  }

  run(): void {
    const t0 = nowMs();
    // streams start spread over one frame interval, as cameras do
    this.senders.forEach((s, i) => (s.nextAt = t0 + (i * FRAME_MS) / this.senders.length));
    this.maxLagMs = 0;
    this.#timer = setInterval(() => {
      const now = nowMs();
      for (const s of this.senders) {
        if (now - s.nextAt > this.maxLagMs) this.maxLagMs = now - s.nextAt;
        while (s.nextAt <= now) {
          s.sendFrame(this.#sock, this.frames);
          s.nextAt += FRAME_MS;
        }
      }
    }, TICK_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  sent(): number {
    return this.senders.reduce((n, s) => n + s.sent, 0);
  }

  close(): void {
    this.stop();
    this.#sock.close();
  }
}

/** A receiver socket per relayed stream, counting what arrives. */
class Receivers {
  readonly sockets: UdpSocket[] = [];
  received = 0;

  async add(n: number): Promise<number[]> {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = createSocket('udp4');
      await new Promise<void>((resolve) => s.bind(0, HOST, () => resolve()));
      try {
        s.setRecvBufferSize(4 * 1024 * 1024);
      } catch {
        /* the OS keeps its own limit */
      }
      s.on('message', () => this.received++);
      this.sockets.push(s);
      ports.push(s.address().port);
    }
    return ports;
  }

  close(): void {
    for (const s of this.sockets) s.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The two forwarders behind one interface.

interface Forwarder {
  name: string;
  pid(): number;
  /** opens streams relaying to `targets` (receiver ports); answers the ports to send them to */
  open(targets: number[], firstIndex: number): Promise<number[]>;
  /** the engine's own loss count (sequence gaps it saw), where there is one */
  seenLost(): number;
  close(): Promise<void>;
}

function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function bareLoop(): Promise<Forwarder> {
  const child: ChildProcess = spawnNodeChild(new URL(import.meta.url), ['--udp-forwarder'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  guardChild(child);
  const next = (op: string): Promise<{ op: string; ports?: number[] }> =>
    new Promise((resolve, reject) => {
      const onMsg = (m: { op: string; ports?: number[] }): void => {
        if (m.op !== op) return;
        child.off('message', onMsg);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (): void => reject(new Error('the UDP forwarding loop exited'));
      child.on('message', onMsg);
      child.once('exit', onExit);
    });
  await next('ready');
  return {
    name: 'bare UDP loop',
    pid: () => child.pid!,
    async open(targets) {
      const opened = next('opened');
      child.send({ op: 'open', targets });
      return (await opened).ports!;
    },
    seenLost: () => 0,
    async close() {
      const gone = new Promise((r) => child.once('exit', r));
      child.send({ op: 'close' });
      await gone;
    },
  };
}

/** An even base below the ephemeral port range (the receivers and senders bind port 0 and get those). */
function portBase(span: number): number {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    /* not Linux: the usual range */
  }
  const base = low - span - 2 - 2 * Math.floor(Math.random() * 2000);
  return Math.max(10_000, base - (base % 2));
}

async function engineForwarder(engine: MediaEngine): Promise<Forwarder> {
  const ids: string[] = [];
  return {
    name: 'MediaEngine',
    pid: () => engine.workerPid!,
    async open(targets, firstIndex) {
      const ports: number[] = [];
      for (let i = 0; i < targets.length; i++) {
        const n = firstIndex + i;
        const streamId = `bench/${n}`;
        const { port } = await engine.openIncoming({ streamId, transport: 'udp', ssrc: String(100_000 + n) });
        await engine.openOutgoing({ streamId, legId: `leg/${n}`, transport: 'udp', host: HOST, port: targets[i]!, ssrc: String(200_000 + n) });
        ids.push(streamId);
        ports.push(port);
      }
      return ports;
    },
    seenLost: () => ids.reduce((n, id) => n + (engine.stats(id)?.lost ?? 0), 0),
    async close() {
      for (const id of ids.splice(0)) await engine.closeStream(id).catch(() => undefined);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The ramp.

interface Level {
  streams: number;
  sent: number;
  received: number;
  loss: number;
  /** cores the forwarding process used while sending */
  cores: number;
  /** cores this process used meanwhile (generator, receivers, engine parent) */
  benchCores: number;
  rssBytes: number;
  lagMs: number;
  seenLost: number;
}

interface Ramp {
  name: string;
  levels: Level[];
  best: Level | undefined;
  idleRss: number;
  stop: string;
}

async function ramp(fwd: Forwarder, frames: ClipPacket[][], levels: number[], seconds: number): Promise<Ramp> {
  const gen = new Generator(frames);
  await gen.start();
  const rx = new Receivers();
  const out: Ramp = { name: fwd.name, levels: [], best: undefined, idleRss: rssBytes(fwd.pid()), stop: `the last level (${levels.at(-1)} streams) was clean` };
  try {
    for (const n of levels) {
      const more = n - gen.senders.length;
      const targets = await rx.add(more);
      const ports = await fwd.open(targets, gen.senders.length);
      for (const p of ports) gen.senders.push(new StreamSender(100_000 + gen.senders.length, p));
      const sent0 = gen.sent();
      const rx0 = rx.received;
      const lost0 = fwd.seenLost();
      const cpu0 = processCpuSeconds(fwd.pid());
      const own0 = ownCpuSeconds();
      const t0 = nowMs();
      gen.run();
      await sleep(seconds * 1000);
      gen.stop();
      const wall = (nowMs() - t0) / 1000;
      const cores = (processCpuSeconds(fwd.pid()) - cpu0) / wall;
      const benchCores = (ownCpuSeconds() - own0) / wall;
      const rss = rssBytes(fwd.pid());
      // wait until the receivers are quiet (everything in flight has arrived or is lost)
      let last = -1;
      for (let i = 0; i < 40 && rx.received !== last; i++) {
        last = rx.received;
        await sleep(100);
      }
      await sleep(300); // the engine's stats come every 250 ms
      const sent = gen.sent() - sent0;
      const received = rx.received - rx0;
      const level: Level = { streams: n, sent, received, loss: sent - received, cores, benchCores, rssBytes: rss, lagMs: gen.maxLagMs, seenLost: fwd.seenLost() - lost0 };
      out.levels.push(level);
      console.log(
        `  ${fwd.name}: ${n} streams, ${fmt(sent)} packets sent, ${fmt(level.loss)} lost, forwarder ${fmt(cores * 100, 0)}% of a core, this process ${fmt(benchCores * 100, 0)}%, generator lag ${fmt(level.lagMs, 0)} ms`,
      );
      if (level.loss > 0) {
        out.stop = `loss at ${n} streams`;
        break;
      }
      out.best = level;
      if (cores >= SATURATED) {
        out.stop = `the forwarding process saturated (${fmt(cores * 100, 0)}% of a core) at ${n} streams`;
        break;
      }
      if (level.lagMs > GENERATOR_LAG_MS) {
        out.stop = `the load generator fell ${fmt(level.lagMs, 0)} ms behind at ${n} streams (this process is the limit)`;
        break;
      }
    }
  } finally {
    gen.close();
    rx.close();
    await fwd.close();
  }
  return out;
}

const perCore = (l: Level | undefined): number => (l && l.cores > 0 ? l.streams / l.cores : NaN);

// ---------------------------------------------------------------------------------------------
// Open → first moof through the viewer.

async function openLatency(engine: MediaEngine, frames: ClipPacket[][], opens: number): Promise<number[]> {
  let n = 0;
  let released = 0;
  const source: LiveSource = {
    async acquire() {
      const streamId = `view/${++n}`;
      const ssrc = 300_000 + n;
      const { port } = await engine.openIncoming({ streamId, transport: 'udp', ssrc: String(ssrc) });
      // the "device" starts at its first keyframe right away, as one answering an INVITE does
      const gen = new Generator(frames);
      await gen.start();
      gen.senders.push(new StreamSender(ssrc, port));
      gen.run();
      return {
        streamId,
        release() {
          released++;
          gen.close();
          void engine.closeStream(streamId).catch(() => undefined);
        },
      };
    },
  };
  const token = 'bench-token-0123456789';
  const viewer = new ViewerServer({ host: HOST, port: 0, token, source, frames: engine });
  await viewer.listen();
  const times: number[] = [];
  try {
    for (let i = 0; i < opens; i++) {
      const url = viewer.liveUrl('34020000001320000001', `3402000000131000${String(i).padStart(4, '0')}`);
      const t0 = nowMs();
      const ms = await new Promise<number>((resolve, reject) => {
        const req = request(url, (res) => {
          if (res.statusCode !== 200) return reject(new Error(`the viewer answered ${res.statusCode}`));
          let seen = Buffer.alloc(0);
          res.on('data', (d: Buffer) => {
            seen = Buffer.concat([seen, d]);
            if (seen.includes('moof')) {
              resolve(nowMs() - t0);
              req.destroy();
            }
          });
        });
        req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
        req.setTimeout(10_000, () => req.destroy(new Error('no moof within 10 s')));
        req.end();
      });
      times.push(ms);
      await waitFor(() => released === i + 1, 10_000, 'the viewer to release the channel');
    }
  } finally {
    await viewer.close();
  }
  return times;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const levels = envList('ESEAL_BENCH_GBM_LEVELS', [16, 32, 64, 96, 128, 192, 256, 320, 400]);
  const seconds = envNumber('ESEAL_BENCH_GBM_SECONDS', 3);
  const kbps = envNumber('ESEAL_BENCH_GBM_KBPS', 1900);
  const opens = envNumber('ESEAL_BENCH_GBM_OPENS', 10);
  console.log(`\ngb28181 media: relayed PS/RTP streams per core (the MediaEngine against a bare UDP loop), open → first fMP4 fragment`);
  console.log(machineLine(SHARING));
  const { frames, wireBitsPerSecond } = await makeClip(kbps);
  const packetsPerSecond = (frames.reduce((n, f) => n + f.length, 0) / frames.length) * FPS;
  console.log(`clip: 1280x720 H.264 CBR ${kbps} kbit/s in PS/RTP, ${fmt(wireBitsPerSecond / 1e6, 2)} Mbit/s and ${fmt(packetsPerSecond)} packets/s per stream on the wire; ${seconds} s per level`);

  // the baseline first, then the engine, one forwarding process at a time
  const bare = await ramp(await bareLoop(), frames, levels, seconds);
  const maxStreams = Math.max(...levels);
  const span = 4 * maxStreams + 200;
  const base = portBase(span);
  const engine = new MediaEngine({ host: HOST, ports: { min: base, max: base + span }, noMediaSeconds: 120, log: pino({ level: 'warn' }) });
  await engine.start();
  let relayed: Ramp;
  let latencies: number[];
  try {
    relayed = await ramp(await engineForwarder(engine), frames, levels, seconds);
    latencies = await openLatency(engine, frames, opens);
  } finally {
    await engine.close();
  }
  // gb28181.media.gopCache: no — what the GOP cache (instant start for legs and late viewers) costs
  const lean = new MediaEngine({ host: HOST, ports: { min: base, max: base + span }, noMediaSeconds: 120, gopCache: false, log: pino({ level: 'warn' }) });
  await lean.start();
  let relayedLean: Ramp;
  try {
    relayedLean = await ramp(await engineForwarder(lean), frames, levels, seconds);
  } finally {
    await lean.close();
  }
  relayedLean.name = `${relayed.name}, gopCache: no`;

  const rows = [bare, relayed, relayedLean].map((r) => {
    const b = r.best;
    return [
      r.name,
      b ? fmt(b.streams) : '–',
      b ? fmt(b.cores * 100, 0) + '%' : '–',
      fmt(perCore(b), 1),
      b ? fmt((b.cores * 1000) / b.streams, 2) : '–',
      b ? fmt((b.rssBytes - r.idleRss) / b.streams / 1024, 0) : '–',
      fmt(r.idleRss / 2 ** 20, 0),
      r.stop,
    ];
  });
  printTable(
    `relayed ${fmt(wireBitsPerSecond / 1e6, 2)} Mbit/s streams, at the largest level without loss`,
    ['forwarder', 'streams', 'CPU', 'streams/core', 'CPU ms/s per stream', 'RSS KiB/stream', 'idle RSS MiB', 'ramp ended'],
    rows,
  );
  const lat = summarize(latencies);
  const ratio = perCore(relayed.best) / perCore(bare.best);
  const best = relayed.best;
  console.log('');
  console.log(`relay: ${fmt(perCore(best), 1)} streams/core with 0 loss (${best ? `${best.streams} streams at ${fmt(best.cores * 100, 0)}% of a core` : 'no clean level'}) vs the bare UDP loop's ${fmt(perCore(bare.best), 1)}: ${fmt(ratio, 2)}× (target ≥ ${TARGET_RATIO})`);
  const leanRatio = perCore(relayedLean.best) / perCore(bare.best);
  console.log(`relay without the GOP cache (gb28181.media.gopCache: no): ${fmt(perCore(relayedLean.best), 1)} streams/core: ${fmt(leanRatio, 2)}× the bare loop`);
  console.log(`relay memory: ${best ? fmt((best.rssBytes - relayed.idleRss) / best.streams / 1024, 0) : '–'} KiB of worker RSS per relayed stream (bare loop: ${bare.best ? fmt((bare.best.rssBytes - bare.idleRss) / bare.best.streams / 1024, 0) : '–'} KiB)`);
  console.log(`open → first moof: p50 ${fmt(lat.p50, 0)} ms, max ${fmt(lat.max, 0)} ms over ${lat.n} opens (budget ${LATENCY_BUDGET_MS} ms for INVITE → first frame)`);

  const figures: Figure[] = [
    figure({
      figure: `media: relayed ${fmt(wireBitsPerSecond / 1e6, 1)} Mbit/s streams per core, 0 loss`,
      value: perCore(best),
      unit: 'streams',
      baseline: perCore(bare.best),
      baselineName: 'bare dgram receive→send loop',
      target: `≥ ${TARGET_RATIO}× baseline`,
      pass: Number.isFinite(ratio) && ratio >= TARGET_RATIO,
      digits: 1,
    }),
    figure({
      figure: `media: relayed ${fmt(wireBitsPerSecond / 1e6, 1)} Mbit/s streams per core, 0 loss, gopCache: no`,
      value: perCore(relayedLean.best),
      unit: 'streams',
      baseline: perCore(bare.best),
      baselineName: 'bare dgram receive→send loop',
      target: `≥ ${TARGET_RATIO}× baseline`,
      pass: Number.isFinite(leanRatio) && leanRatio >= TARGET_RATIO,
      digits: 1,
    }),
    figure({
      figure: 'media: worker RSS per relayed stream',
      value: best ? (best.rssBytes - relayed.idleRss) / best.streams / 1024 : NaN,
      unit: 'KiB',
      baseline: bare.best ? (bare.best.rssBytes - bare.idleRss) / bare.best.streams / 1024 : NaN,
      baselineName: 'bare loop',
      target: '',
      digits: 0,
    }),
    figure({
      figure: 'media: open → first moof p50 (HTTP fMP4, INVITE-free)',
      value: lat.p50,
      unit: 'ms',
      baseline: LATENCY_BUDGET_MS,
      baselineName: "the issue's INVITE → first frame budget",
      target: '',
      digits: 0,
    }),
    figure({
      figure: 'media: open → first moof max (HTTP fMP4, INVITE-free)',
      value: percentile(latencies, 100),
      unit: 'ms',
      baseline: LATENCY_BUDGET_MS,
      baselineName: "the issue's INVITE → first frame budget",
      target: `< ${LATENCY_BUDGET_MS} ms`,
      pass: percentile(latencies, 100) < LATENCY_BUDGET_MS,
      digits: 0,
    }),
  ];
  emitFigures('gb28181 media', figures);
}

if (process.argv[2] === '--udp-forwarder') forwarderMain();
else runBenchmark('gb28181 media', main);
