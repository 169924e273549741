// A real GB/T 28181 bridge for end-to-end tests, assembled the way gb28181/role.ts assembles it:
// the GbService (SIP registrar, catalog, live sessions, cascade) with the real MediaEngine (its
// worker process) and the real ViewerServer, on 127.0.0.1, SIP on any free port, the viewer on a
// free port written into gb28181.http.listen (so `eseal gb28181 play` prints a URL that works),
// a temp data directory. Sim devices (sim/device/SimDevice.ts) register to it.
import { createServer, type AddressInfo } from 'node:net';
import { request } from 'node:http';
import pino from 'pino';
import type { Test } from 'tap';
import { loadAppConfig } from '../../app/config.ts';
import type { GbRoleConfig } from '../../gb28181/config.ts';
import { GbService } from '../../gb28181/GbService.ts';
import { MediaEngine } from '../../gb28181/media/MediaEngine.ts';
import { ViewerServer } from '../../gb28181/view/ViewerServer.ts';
import { loadOrCreateViewToken } from '../../gb28181/viewToken.ts';
import { startBridge } from '../../gb28181/bridge.ts';
import type { StreamNumber } from '../../src/gb28181/sdp.ts';
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import { SimDevice } from '../../sim/device/SimDevice.ts';
import type { SimDeviceOptions } from '../../sim/device/SimDeviceTypes.ts';
import { tempDir } from './tempDir.ts';
import { waitFor } from './wait.ts';

export const GB_PASSWORD = 'e2e-secret-12';
export const GB_ID = '34020000002000000001';
export const GB_DOMAIN = '3402000000';

export interface GbBridge {
  config: GbRoleConfig;
  service: GbService;
  media: MediaEngine;
  viewer: ViewerServer;
  dataDir: string;
  token: string;
  sipPort: number;
  tcpPort: number;
  httpPort: number;
  /** the viewer URL of a channel */
  url(deviceId: string, channelId: string, kind?: 'mp4' | 'mjpeg', stream?: StreamNumber): string;
  close(): Promise<void>;
}

/** A TCP port nobody listens on right now (for listeners the configuration must name). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts a bridge; `set` overrides configuration keys (dotted), `after` edits the loaded config (values below the schema's minimum). */
export async function startGbBridge(t: Test, set: Record<string, string | number | boolean> = {}, after?: (c: GbRoleConfig) => void): Promise<GbBridge> {
  const dataDir = await tempDir(t, 'eseal-gbe2e-');
  const httpPort = await freePort();
  const base = 40000 + 2 * Math.floor(Math.random() * 4000);
  const config = (await loadAppConfig({
    env: {},
    set: {
      dataDir,
      'log.level': 'silent',
      roles: 'gb28181',
      'gb28181.id': GB_ID,
      'gb28181.domain': GB_DOMAIN,
      'gb28181.sip.listen': '127.0.0.1:0',
      'gb28181.sip.publicHost': '127.0.0.1',
      'gb28181.password': GB_PASSWORD,
      'gb28181.media.host': '127.0.0.1',
      'gb28181.media.publicHost': '127.0.0.1',
      'gb28181.media.ports': `${base}-${base + 60}`,
      'gb28181.media.lingerSeconds': 0,
      'gb28181.http.listen': `127.0.0.1:${httpPort}`,
      ...set,
    },
  })) as unknown as GbRoleConfig;
  after?.(config);
  const log = pino({ level: process.env['ESEAL_TEST_LOG'] ?? 'silent' });
  // as gb28181/role.ts does
  const { service, media, viewer, close } = await startBridge(config, log);
  const token = loadOrCreateViewToken(dataDir);
  t.teardown(close);
  const ep = service.context.endpoint;
  return {
    config,
    service,
    media,
    viewer,
    dataDir,
    token,
    sipPort: ep.udpPort,
    tcpPort: ep.tcpPort,
    httpPort,
    url: (d, c, kind = 'mp4', stream = 0) => viewer.liveUrl(d, c, kind, stream),
    close,
  };
}

/** A sim device registered to the bridge (closed, unregistering, when the test ends). */
export async function startSimDevice(t: Test, bridge: GbBridge, deviceId: string, o: Partial<SimDeviceOptions> = {}): Promise<SimDevice> {
  const protocol = o.transport ?? 'udp';
  const d = await SimDevice.start({
    server: { host: '127.0.0.1', port: protocol === 'udp' ? bridge.sipPort : bridge.tcpPort },
    serverId: bridge.config.gb28181.id,
    domain: bridge.config.gb28181.domain,
    deviceId,
    password: GB_PASSWORD,
    channelCount: 2,
    keepaliveSeconds: 30,
    transactionTimeoutMs: 4000,
    ...o,
  });
  t.teardown(() => d.close());
  return d;
}

/** Waits until the bridge has the device's whole catalog; resolves with how long that took (ms from the call). */
export async function catalogCollected(bridge: GbBridge, deviceId: string, count: number, ms = 20_000): Promise<number> {
  const t0 = Date.now();
  const store = bridge.service.context.store;
  await waitFor(() => store.channels(deviceId).length >= count, ms, `the catalog of ${deviceId}`);
  return Date.now() - t0;
}

/** How many video frames ffmpeg decodes from `input` (it stops after `n`). */
export async function decodedFrames(input: string, n: number, timeoutMs = 40_000): Promise<number> {
  const { stdout } = await runFfmpeg(['-hide_banner', '-loglevel', 'error', '-i', input, '-frames:v', String(n), '-f', 'framemd5', 'pipe:1'], { timeoutMs });
  return stdout.toString().split('\n').filter((l) => /^\d+,/.test(l)).length;
}

export interface HttpStream {
  status: Promise<number>;
  /** when the first fMP4 fragment (moof) arrived */
  firstFragmentAt: Promise<number>;
  bytes(): number;
  /** resolves when the response ended or failed (how) */
  ended: Promise<string>;
  body(): Buffer;
  close(): void;
}

/** A raw HTTP GET that keeps the body, notes the first moof, and tells how it ended. */
export function httpStream(url: string): HttpStream {
  const chunks: Buffer[] = [];
  let n = 0;
  let setStatus!: (s: number) => void;
  let setFirst!: (t: number) => void;
  let setEnded!: (how: string) => void;
  const status = new Promise<number>((r) => (setStatus = r));
  const firstFragmentAt = new Promise<number>((r) => (setFirst = r));
  const ended = new Promise<string>((r) => (setEnded = r));
  let seenMoof = false;
  const req = request(url, (res) => {
    setStatus(res.statusCode ?? 0);
    res.on('data', (d: Buffer) => {
      n += d.length;
      if (chunks.length < 64) chunks.push(d);
      if (!seenMoof && d.includes('moof')) {
        seenMoof = true;
        setFirst(Date.now());
      }
    });
    res.on('end', () => setEnded('end'));
    res.on('aborted', () => setEnded('aborted'));
    res.on('error', (e) => setEnded(`error: ${e.message}`));
    res.on('close', () => setEnded('close'));
  });
  req.on('error', (e) => {
    setStatus(0);
    setEnded(`error: ${e.message}`);
  });
  req.end();
  return { status, firstFragmentAt, bytes: () => n, ended, body: () => Buffer.concat(chunks), close: () => req.destroy() };
}
