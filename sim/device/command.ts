// `eseal sim device`: a GB/T 28181 device (channels, catalog, live PS/RTP video) registered to a
// server, with the failure knobs as flags. Logs what it does (pino); Ctrl-C or SIGTERM unregisters.
import type { Command } from '../../src/cli/command.ts';
import { createLogger } from '../../src/log.ts';
import { SimOptionsInvalid } from '../errors.ts';
import type { CharsetLie } from './manscdp.ts';
import { SimDevice } from './SimDevice.ts';
import type { SimDeviceOptions } from './SimDeviceTypes.ts';

function bad(option: string, rule: string): never {
  throw SimOptionsInvalid(`--${option}: ${rule}`, { field: option });
}

function hostPort(option: string, text: string): { host: string; port: number } {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) > 65535) bad(option, `must be IPv4:PORT (e.g. 192.168.1.10:5060), got ${JSON.stringify(text)}`);
  return { host: m[1]!, port: Number(m[2]) };
}

function num(option: string, text: unknown, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (typeof text !== 'string' || !/^\d+(\.\d+)?$/.test(text) || n < min) bad(option, `must be a number >= ${min}, got ${JSON.stringify(text)}`);
  return n;
}

function oneOf<T extends string>(option: string, text: unknown, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!allowed.includes(text as T)) bad(option, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
  return text as T;
}

const KNOB_FLAGS = ['wrong-password', 'no-keepalive', 'catalog-duplicate', 'ignore-ssrc', 'no-media', 'no-psm', 'private-stream', 'audio', 'pes-split'] as const;

/** The command-line values as SimDevice options (exported for tests). */
export function deviceOptions(v: Record<string, unknown>): SimDeviceOptions & { rebindEverySeconds?: number } {
  for (const required of ['server', 'id', 'password']) if (v[required] === undefined) bad(required, 'is required');
  const serverId = (v['server-id'] as string | undefined) ?? '34020000002000000001';
  const o: SimDeviceOptions & { rebindEverySeconds?: number } = {
    server: hostPort('server', v['server'] as string),
    serverId,
    domain: (v['domain'] as string | undefined) ?? serverId.slice(0, 10),
    deviceId: v['id'] as string,
    password: v['password'] as string,
    transport: oneOf('transport', v['transport'], ['udp', 'tcp'] as const) ?? 'udp',
    codec: v['h265'] ? 'h265' : 'h264',
    version: oneOf('version', v['version'], ['2016', '2022'] as const) ?? '2016',
    charset: oneOf('charset', v['charset'], ['GB2312', 'UTF-8'] as const) ?? 'GB2312',
  };
  if (v['local'] !== undefined) {
    const l = hostPort('local', v['local'] as string);
    o.localHost = l.host;
    o.localPort = l.port;
  }
  const set = <K extends keyof typeof o>(k: K, value: (typeof o)[K] | undefined): void => {
    if (value !== undefined) o[k] = value;
  };
  set('media', v['media'] as string | undefined);
  set('channelCount', num('channels', v['channels'], 0));
  set('catalogPageSize', num('page-size', v['page-size'], 1));
  set('keepaliveSeconds', num('keepalive', v['keepalive'], 1));
  set('expires', num('expires', v['expires'], 60));
  set('fps', num('fps', v['fps'], 1));
  set('byeAfterSeconds', num('bye-after', v['bye-after'], 0));
  set('rebindEverySeconds', num('rebind-every', v['rebind-every'], 1));
  set('catalogOrder', oneOf('catalog-order', v['catalog-order'], ['in-order', 'reversed', 'shuffled'] as const));
  set('charsetLie', oneOf<CharsetLie>('charset-lie', v['charset-lie'], ['none', 'declares-gb2312-sends-utf8', 'declares-utf8-sends-gb2312']));
  const knobs: Record<(typeof KNOB_FLAGS)[number], keyof SimDeviceOptions> = {
    'wrong-password': 'wrongPassword',
    'no-keepalive': 'noKeepalive',
    'catalog-duplicate': 'catalogDuplicate',
    'ignore-ssrc': 'ignoreSsrc',
    'no-media': 'noMedia',
    'no-psm': 'noPsm',
    'private-stream': 'privateStream',
    audio: 'audio',
    'pes-split': 'pesSplit',
  };
  for (const flag of KNOB_FLAGS) if (v[flag]) (o as unknown as Record<string, unknown>)[knobs[flag]] = true;
  return o;
}

export const deviceCommand: Command = {
  name: 'device',
  summary: 'run a simulated GB/T 28181 device (NVR with channels, catalog, live PS/RTP video, failure knobs) until SIGINT or SIGTERM',
  usage:
    '--server IP:PORT --id <20-digit device id> --password PW [--server-id <20 digits>] [--domain <10 digits>] [--transport udp|tcp] [--channels N] [--media FILE] [--h265] [--version 2016|2022] [knobs…]',
  options: {
    server: { type: 'string' },
    'server-id': { type: 'string' },
    domain: { type: 'string' },
    id: { type: 'string' },
    password: { type: 'string' },
    transport: { type: 'string' },
    local: { type: 'string' },
    channels: { type: 'string' },
    'page-size': { type: 'string' },
    charset: { type: 'string' },
    version: { type: 'string' },
    media: { type: 'string' },
    h265: { type: 'boolean' },
    fps: { type: 'string' },
    keepalive: { type: 'string' },
    expires: { type: 'string' },
    'catalog-order': { type: 'string' },
    'charset-lie': { type: 'string' },
    'bye-after': { type: 'string' },
    'rebind-every': { type: 'string' },
    ...Object.fromEntries(KNOB_FLAGS.map((f) => [f, { type: 'boolean' as const }])),
    'log-level': { type: 'string' },
  },
  help: [
    '  --server IP:PORT          the platform\'s SIP address (the bridge: ESEAL_GB28181_SIP_LISTEN)',
    '  --server-id ID            the platform\'s 20-digit id (default 34020000002000000001)',
    '  --domain D                the realm, 10 digits (default: the server id\'s first 10)',
    '  --id ID                   this device\'s 20-digit id (type 111/118/132: DVR/NVR/IPC); channels get type 131',
    '  --password PW             the digest password',
    '  --transport udp|tcp       SIP transport (default udp); media follows the INVITE\'s offer',
    '  --local IP:PORT           local SIP address (default 127.0.0.1:0; use the LAN address for a remote server)',
    '  --channels N              cameras 主井口, 副井口, 运输皮带, 调度室, 通道5… (default 4)',
    '  --page-size N             catalog items per MESSAGE (default 2)',
    '  --charset GB2312|UTF-8    MANSCDP charset (default GB2312)',
    '  --version 2016|2022       2022: X-GB-Ver: 3.0 and the catalog <Info> block',
    '  --media FILE              .h264/.h265 Annex-B, or an MP4; default a test pattern made by ffmpeg',
    '  --h265                    H.265 (ffmpeg libx265) instead of H.264',
    '  --fps N                   pacing frame rate (default 25)',
    '  --keepalive S, --expires S   keepalive interval (default 60) and REGISTER Expires (default 3600)',
    '',
    'Failure knobs: --wrong-password --no-keepalive --catalog-order in-order|reversed|shuffled --catalog-duplicate',
    '  --charset-lie declares-gb2312-sends-utf8|declares-utf8-sends-gb2312 --ignore-ssrc --no-media --bye-after S',
    '  --rebind-every S (new SIP source port, as NAT rebinding) --no-psm --private-stream --audio --pes-split',
    '',
    'Example: eseal sim device --server 127.0.0.1:5060 --id 34020000001320000001 --password 12345678 --channels 4',
  ],
  async run({ values, io }) {
    const v = values as Record<string, unknown>;
    const level = (v['log-level'] as string | undefined) ?? 'info';
    if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) bad('log-level', `must be one of info, debug, warn, error, silent; got ${JSON.stringify(level)}`);
    const { rebindEverySeconds, ...options } = deviceOptions(v);
    options.log = createLogger({ name: 'eseal-sim-device', level });
    const dev = new SimDevice(options);
    await dev.open();
    const clip = await dev.prepareMedia().catch(async (err: unknown) => {
      await dev.close({ unregister: false });
      throw err;
    });
    try {
      await dev.register();
    } catch (err) {
      await dev.close({ unregister: false });
      throw err;
    }
    io.out('eseal GB/T 28181 device simulator');
    io.out(`  device:      ${options.deviceId} (GB/T 28181-${options.version})`);
    io.out(`  server:      ${options.serverId}@${options.domain} at ${options.server.host}:${options.server.port} over ${options.transport}`);
    io.out(`  local:       ${dev.local.host}:${dev.local.port}`);
    io.out(`  channels:    ${dev.channels.map((c) => `${c.id} ${c.name}`).join(', ')}`);
    io.out(`  clip:        ${options.media ?? 'test pattern'} (${clip.codec}, ${clip.units.length} pictures at ${clip.fps} fps, looped)`);
    io.out(`  server date: ${dev.serverDate ?? '(none in the 200)'}`);
    io.out('stop with Ctrl-C or SIGTERM (unregisters)');
    const rebind = rebindEverySeconds ? setInterval(() => void dev.rebind().catch(() => {}), rebindEverySeconds * 1000) : undefined;
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    clearInterval(rebind);
    await dev.close();
    io.out(`stopped (${signal})`);
    return 0;
  },
};
