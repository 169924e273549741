// The GB/T 28181 bridge's registrar: how many devices one core keeps registered with keepalives, and
// how fast a keepalive is answered.
//
// The bridge runs as operators start it (`node --import tsx app/main.ts start --roles gb28181`, a
// process of its own, one event loop = one core), over UDP on loopback. This process is the load:
// N devices (ESEAL_BENCH_GB_DEVICES, 5,000) spread over 64 UDP sockets register with digest (REGISTER,
// 401, REGISTER with Authorization, 200), then each sends a Keepalive MESSAGE every K seconds
// (ESEAL_BENCH_GB_KEEPALIVE_SECONDS, 10: six times the standard's 60 s rate) for
// ESEAL_BENCH_SECONDS (20); ESEAL_BENCH_GB_BATCH devices (256) register at once, as after a restart
// of the bridge (requests are retransmitted as devices do, 500 ms doubling). Figures: registrations per second; keepalive answer latency p50/p99;
// the bridge's CPU share while keepalives run; every device online at the end.
// Baseline, the same keepalive traffic in the same run against a bare SIP responder in a child
// process (parse with the `sip` package, answer 200, nothing else): what Node and the parser cost
// alone. ratio = bridge ÷ baseline.
//
//   node --import tsx test/bench/gb28181Register.ts      (or npm run bench -- gb28181, once run.ts lists it)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sip from 'sip';
import { ROOT, emitFigures, envNumber, figure, fmt, freePort, guardChild, makeTempDir, nowMs, percentile, processCpuSeconds, runBenchmark, sleep } from './lib.ts';

const SERVER_ID = '34020000002000000001';
const DOMAIN = '3402000000';
const PASSWORD = 'bench-password';
const SOCKETS = 64;

// ---- the baseline responder (a child: `gb28181Register.ts baseline <port>`) ----
if (process.argv[2] === 'baseline') {
  const s = dgram.createSocket('udp4');
  s.on('message', (b, r) => {
    const m = sip.parse(b.toString('latin1'));
    if (!m || m.status) return;
    s.send(Buffer.from(sip.stringify(sip.makeResponse(m as sip.Request, 200, 'OK')), 'latin1'), r.port, r.address);
  });
  s.bind(Number(process.argv[3]), '127.0.0.1');
} else runBenchmark('gb28181', main);

interface Device {
  id: string;
  socket: number;
  seq: number;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

class Load {
  readonly sockets: dgram.Socket[] = [];
  readonly #waiting = new Map<string, (m: sip.Response) => void>();
  readonly port: number;

  private constructor(port: number) {
    this.port = port;
  }

  static async open(port: number): Promise<Load> {
    const l = new Load(port);
    for (let i = 0; i < SOCKETS; i++) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      s.on('message', (b, r) => {
        const m = sip.parse(b.toString('latin1'));
        if (m && !m.status && m.method !== 'ACK') {
          // the bridge's queries (DeviceInfo, DeviceStatus, Catalog) are acknowledged, not answered
          s.send(Buffer.from(sip.stringify(sip.makeResponse(m as sip.Request, 200, 'OK')), 'latin1'), r.port, r.address);
          return;
        }
        if (!m?.status || m.status < 200) return;
        const key = `${m.headers['call-id']}|${m.headers.cseq?.seq}`;
        const w = l.#waiting.get(key);
        if (w) {
          l.#waiting.delete(key);
          w(m as sip.Response);
        }
      });
      l.sockets.push(s);
    }
    return l;
  }

  send(d: Device, rq: sip.Request, timeoutMs = 10_000): Promise<sip.Response | undefined> {
    const key = `${rq.headers['call-id']}|${rq.headers.cseq.seq}`;
    const bytes = Buffer.from(sip.stringify(rq), 'latin1');
    const socket = this.sockets[d.socket]!;
    return new Promise((resolve) => {
      // retransmitted as a device does (RFC 3261 timer A: 500 ms doubling) until answered
      let again: NodeJS.Timeout | undefined;
      let gap = 500;
      const send = () => {
        socket.send(bytes, this.port, '127.0.0.1');
        again = setTimeout(send, gap);
        gap = Math.min(gap * 2, 4000);
      };
      const timer = setTimeout(() => {
        clearTimeout(again);
        this.#waiting.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(key, (m) => {
        clearTimeout(timer);
        clearTimeout(again);
        resolve(m);
      });
      send();
    });
  }

  request(d: Device, method: string, callId: string, headers: Record<string, unknown>, content?: string): sip.Request {
    const s = this.sockets[d.socket]!;
    return {
      method,
      uri: `sip:${SERVER_ID}@${DOMAIN}`,
      version: '2.0',
      headers: {
        via: [{ version: '2.0', protocol: 'UDP', host: '127.0.0.1', port: s.address().port, params: { branch: `z9hG4bK${d.id}${d.seq}`, rport: null } }],
        from: { uri: `sip:${d.id}@${DOMAIN}`, params: { tag: `t${d.id}` } },
        to: { uri: method === 'REGISTER' ? `sip:${d.id}@${DOMAIN}` : `sip:${SERVER_ID}@${DOMAIN}`, params: {} },
        'call-id': callId,
        cseq: { seq: ++d.seq, method },
        contact: [{ uri: `sip:${d.id}@127.0.0.1:${s.address().port}`, params: {} }],
        'max-forwards': 70,
        ...headers,
      },
      ...(content !== undefined ? { content } : {}),
    };
  }

  async register(d: Device): Promise<boolean> {
    const callId = `reg-${d.id}`;
    const challenge = await this.send(d, this.request(d, 'REGISTER', callId, { expires: 3600 }));
    if (challenge?.status !== 401) return challenge?.status === 200;
    const www = sip.stringifyAuthHeader(challenge.headers['www-authenticate']![0]!);
    const nonce = /nonce="([^"]+)"/.exec(www)![1]!;
    const uri = `sip:${SERVER_ID}@${DOMAIN}`;
    const response = md5(`${md5(`${d.id}:${DOMAIN}:${PASSWORD}`)}:${nonce}:00000001:c${d.id}:auth:${md5(`REGISTER:${uri}`)}`);
    const auth = `Digest username="${d.id}", realm="${DOMAIN}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c${d.id}"`;
    const ok = await this.send(d, this.request(d, 'REGISTER', callId, { expires: 3600, authorization: auth }));
    return ok?.status === 200;
  }

  keepalive(d: Device): Promise<sip.Response | undefined> {
    const body = `<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>${d.seq}</SN>\r\n<DeviceID>${d.id}</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n`;
    return this.send(d, this.request(d, 'MESSAGE', `ka-${d.id}-${d.seq}`, { 'content-type': 'Application/MANSCDP+xml' }, body));
  }

  close(): void {
    for (const s of this.sockets) s.close();
  }
}

/** Keepalives of every device, each every `interval` s, spread evenly, for `seconds`; latencies in ms. */
async function keepaliveRun(load: Load, devices: Device[], intervalS: number, seconds: number, pid: number): Promise<{ latencies: number[]; lost: number; cpuShare: number; sent: number }> {
  const latencies: number[] = [];
  let lost = 0;
  let sent = 0;
  const gapMs = (intervalS * 1000) / devices.length;
  const cpu0 = processCpuSeconds(pid);
  const t0 = nowMs();
  const pending: Promise<void>[] = [];
  let i = 0;
  while (nowMs() - t0 < seconds * 1000) {
    // catch up on the schedule in small batches (timers are coarse)
    const due = Math.floor((nowMs() - t0) / gapMs);
    while (sent < due) {
      const d = devices[i++ % devices.length]!;
      const at = nowMs();
      sent++;
      pending.push(
        load.keepalive(d).then((rs) => {
          if (rs?.status === 200) latencies.push(nowMs() - at);
          else lost++;
        }),
      );
    }
    await sleep(2);
  }
  await Promise.all(pending);
  const wall = (nowMs() - t0) / 1000;
  return { latencies, lost, sent, cpuShare: (processCpuSeconds(pid) - cpu0) / wall };
}

async function waitForAnswer(load: Load, d: Device): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const rs = await load.send(d, load.request(d, 'OPTIONS', `probe-${i}`, {}), 200);
    if (rs) return;
  }
  throw new Error('the child never answered OPTIONS');
}

async function main(): Promise<void> {
  const n = envNumber('ESEAL_BENCH_GB_DEVICES', 5000);
  const interval = envNumber('ESEAL_BENCH_GB_KEEPALIVE_SECONDS', 10);
  const seconds = envNumber('ESEAL_BENCH_SECONDS', 20);
  const dir = await makeTempDir('eseal-bench-gb-');
  const port = await freePort();
  const config = join(dir, 'eseal.yaml');
  await writeFile(
    config,
    [
      `dataDir: ${join(dir, 'data')}`,
      'log: { level: warn }',
      'gb28181:',
      `  password: ${PASSWORD}`,
      `  sip: { listen: "127.0.0.1:${port}", publicHost: 127.0.0.1, keepaliveSeconds: 60 }`,
      `  limits: { maxDevices: ${Math.max(n, 100)}, requestsPerSecond: 100000, authFailuresPerMinute: 10000 }`,
      '',
    ].join('\n'),
  );
  const bridge = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts', 'start', '--roles', 'gb28181', '--config', config], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  guardChild(bridge, 'SIGTERM');
  const devices: Device[] = Array.from({ length: n }, (_, i) => ({ id: `3402000000132${String(i).padStart(7, '0')}`, socket: i % SOCKETS, seq: 0 }));
  const load = await Load.open(port);
  await waitForAnswer(load, devices[0]!);

  // registrations, 256 at a time
  const r0 = nowMs();
  let registered = 0;
  // devices registering at once (a restart of the bridge: every device comes back)
  const batch = envNumber('ESEAL_BENCH_GB_BATCH', 256);
  for (let i = 0; i < n; i += batch) {
    const ok = await Promise.all(devices.slice(i, i + batch).map((d) => load.register(d)));
    registered += ok.filter(Boolean).length;
  }
  const regPerS = registered / ((nowMs() - r0) / 1000);
  console.log(`registered ${registered}/${n} devices at ${fmt(regPerS)}/s`);

  const bridgeRun = await keepaliveRun(load, devices, interval, seconds, bridge.pid!);
  console.log(`bridge: ${bridgeRun.sent} keepalives, ${bridgeRun.lost} unanswered, p50 ${fmt(percentile(bridgeRun.latencies, 50), 2)} ms, p99 ${fmt(percentile(bridgeRun.latencies, 99), 2)} ms, CPU ${fmt(bridgeRun.cpuShare * 100)}%`);
  load.close();
  bridge.kill('SIGTERM');

  // the baseline: the same traffic against a bare responder
  const bport = await freePort();
  const base = spawn(process.execPath, ['--import', 'tsx', 'test/bench/gb28181Register.ts', 'baseline', String(bport)], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  guardChild(base, 'SIGTERM');
  const bload = await Load.open(bport);
  await waitForAnswer(bload, devices[0]!);
  const baseRun = await keepaliveRun(bload, devices, interval, seconds, base.pid!);
  console.log(`baseline: p50 ${fmt(percentile(baseRun.latencies, 50), 2)} ms, p99 ${fmt(percentile(baseRun.latencies, 99), 2)} ms, CPU ${fmt(baseRun.cpuShare * 100)}%`);
  bload.close();
  base.kill('SIGTERM');

  const p99 = percentile(bridgeRun.latencies, 99);
  const online = registered === n && bridgeRun.lost === 0;
  emitFigures('gb28181', [
    figure({ figure: `devices registered, keepalive every ${interval} s`, value: online ? registered : registered - bridgeRun.lost, unit: 'devices', baseline: 5000, baselineName: 'the target', target: '≥ 5,000', pass: online && registered >= 5000 }),
    figure({ figure: 'registrations (digest) per second', value: regPerS, unit: '/s', baseline: regPerS, baselineName: 'itself', target: '' }),
    figure({ figure: 'keepalive answer p50', value: percentile(bridgeRun.latencies, 50), unit: 'ms', baseline: percentile(baseRun.latencies, 50), baselineName: 'bare SIP responder', target: '', digits: 2 }),
    figure({ figure: 'keepalive answer p99', value: p99, unit: 'ms', baseline: percentile(baseRun.latencies, 99), baselineName: 'bare SIP responder', target: '< 50 ms', pass: p99 < 50, digits: 2 }),
    figure({ figure: `bridge CPU at ${fmt(n / interval)} keepalives/s`, value: bridgeRun.cpuShare * 100, unit: '% of a core', baseline: baseRun.cpuShare * 100, baselineName: 'bare SIP responder', target: '', digits: 1 }),
  ]);
}
