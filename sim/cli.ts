// The simulators' commands: `eseal sim national`, a simulated national platform for the relay's
// tests, the demo, the benchmarks and mine integrators; `eseal sim device`, a GB/T 28181 device.
import type { Command } from '../src/cli/command.ts';
import { createSelfSignedCertificate } from '../src/crypto/selfSigned.ts';
import { createLogger } from '../src/log.ts';
import { SimOptionsInvalid } from './errors.ts';
import { deviceCommand } from './device/command.ts';
import { checkFaults } from './national/faults.ts';
import { NationalSimulator } from './national/NationalSimulator.ts';
import type { SimAccount, SimOptions } from './national/SimTypes.ts';

function bad(option: string, rule: string): never {
  throw SimOptionsInvalid(`--${option}: ${rule}`, { field: option });
}

/** `host:port`, `[v6]:port`, `:port` or `port`. */
export function parseHostPort(option: string, text: string, defaultHost: string): { host: string; port: number } {
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]*)):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) bad(option, `must be HOST:PORT (e.g. 127.0.0.1:9000, [::1]:9000, :9000), got ${JSON.stringify(text)}`);
  return { host: m[1] ?? (m[2] || defaultHost), port };
}

/** `user:password[:org]`: the first two colons split (a password with a colon: use the control API). */
export function parseAccount(text: string): SimAccount {
  const first = text.indexOf(':');
  if (first <= 0) bad('account', `must be user:password[:org], got ${JSON.stringify(text)}`);
  const username = text.slice(0, first);
  const rest = text.slice(first + 1);
  const second = rest.indexOf(':');
  const password = second < 0 ? rest : rest.slice(0, second);
  const org = second < 0 ? undefined : rest.slice(second + 1);
  if (!password) bad('account', `the password of ${username} is empty`);
  return org ? { username, password, org } : { username, password };
}

function parseInteger(option: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text) || Number(text) < min) bad(option, `must be a whole number >= ${min}, got ${JSON.stringify(text)}`);
  return Number(text);
}

export const commands: Command[] = [
  {
    name: 'national',
    summary: 'run a simulated national platform (the guide\'s API, with fault knobs) until SIGINT or SIGTERM',
    usage:
      '[--listen HOST:PORT] [--control HOST:PORT] [--account user:password[:org]]… [--mine-status mineId:status]… [--faults JSON] [--tls] [--public-key-format hex|spki] [--keep-files DIR] [--seed N]',
    options: {
      listen: { type: 'string' },
      control: { type: 'string' },
      account: { type: 'string', multiple: true },
      'mine-status': { type: 'string', multiple: true },
      faults: { type: 'string' },
      tls: { type: 'boolean' },
      'public-key-format': { type: 'string' },
      'keep-files': { type: 'string' },
      seed: { type: 'string' },
      'token-ttl': { type: 'string' },
      client: { type: 'string' },
      'log-level': { type: 'string' },
    },
    help: [
      '  --listen HOST:PORT        the data port, the national API (default 127.0.0.1:9000; port 0: any free port)',
      '  --control HOST:PORT       the control API /_sim/… (default 127.0.0.1:9001); keeps answering while the data port is down',
      '  --account U:P[:ORG]       an account that may log in (repeat for more); ORG is answered as dept_name/org_name',
      '  --mine-status ID:STATUS   what camera/mineStatus answers for a mine, e.g. 140421007866:生产矿井 (repeatable)',
      '  --faults JSON             fault knobs at start, e.g. \'{"error5xxRate":0.2,"latencyMs":300}\'',
      '  --tls                     HTTPS on the data port with a fresh self-signed certificate (its SHA-256 is printed)',
      '  --public-key-format F     what GET /sm2 answers: hex (04‖x‖y, sm-crypto; default) or spki (base64, hutool)',
      '  --keep-files DIR          keep received videos in DIR as <seq>-<file name> (default: only SM3, size, probe)',
      '  --seed N                  seed of the random source behind the fault rates (repeatable runs)',
      '  --token-ttl SECONDS       token lifetime (default 43200, as the national platform)',
      '  --client ID:SECRET        the Basic client of the token endpoint (default pcfront:pcfront)',
      '  --log-level LEVEL         info (default: one JSON line per call), debug, warn, silent',
      '',
      'Fault knobs (--faults, PUT /_sim/faults): down, latencyMs, error5xxRate, code1Rate, resetMidUploadRate,',
      '  bandwidthBytesPerSec, reject {endpoint?, mineId?, status, code, msg}. See the README section',
      '  "National-platform simulator".',
      '',
      'Example: eseal sim national --account mine001:S3cret:XX煤矿 --mine-status 140421007866:生产矿井',
    ],
    async run({ values, io }) {
      const v = values as Record<string, string | string[] | boolean | undefined>;
      const listen = parseHostPort('listen', (v['listen'] as string | undefined) ?? '127.0.0.1:9000', '127.0.0.1');
      const control = parseHostPort('control', (v['control'] as string | undefined) ?? '127.0.0.1:9001', '127.0.0.1');
      const accounts = ((v['account'] as string[] | undefined) ?? []).map(parseAccount);
      const mineStatuses: Record<string, string> = {};
      for (const text of (v['mine-status'] as string[] | undefined) ?? []) {
        const colon = text.indexOf(':');
        if (colon <= 0 || colon === text.length - 1) bad('mine-status', `must be mineId:status (e.g. 140421007866:生产矿井), got ${JSON.stringify(text)}`);
        mineStatuses[text.slice(0, colon)] = text.slice(colon + 1);
      }
      let faults;
      if (v['faults'] !== undefined) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(v['faults'] as string);
        } catch (err) {
          bad('faults', `not JSON (${(err as Error).message}); e.g. '{"error5xxRate":0.2}'`);
        }
        faults = checkFaults(parsed);
      }
      const format = (v['public-key-format'] as string | undefined) ?? 'hex';
      if (format !== 'hex' && format !== 'spki') bad('public-key-format', `must be hex or spki, got ${JSON.stringify(format)}`);
      let client: SimOptions['client'];
      if (v['client'] !== undefined) {
        const text = v['client'] as string;
        const colon = text.indexOf(':');
        if (colon <= 0) bad('client', `must be ID:SECRET, got ${JSON.stringify(text)}`);
        client = { id: text.slice(0, colon), secret: text.slice(colon + 1) };
      }
      const level = (v['log-level'] as string | undefined) ?? 'info';
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) bad('log-level', `must be one of info, debug, warn, error, silent; got ${JSON.stringify(level)}`);

      let fingerprint: string | undefined;
      const options: SimOptions = {
        host: listen.host,
        port: listen.port,
        controlHost: control.host,
        controlPort: control.port,
        accounts,
        mineStatuses,
        publicKeyFormat: format,
        log: createLogger({ name: 'eseal-sim', level }),
      };
      if (faults) options.faults = faults;
      if (client) options.client = client;
      const seed = parseInteger('seed', v['seed'] as string | undefined, 0);
      if (seed !== undefined) options.seed = seed;
      const ttl = parseInteger('token-ttl', v['token-ttl'] as string | undefined, 1);
      if (ttl !== undefined) options.tokenTtlSeconds = ttl;
      if (v['keep-files'] !== undefined) options.keepFiles = v['keep-files'] as string;
      if (v['tls']) {
        const names = ['localhost', '127.0.0.1', '::1'];
        if (!['0.0.0.0', '::', ...names].includes(listen.host)) names.push(listen.host);
        const cert = createSelfSignedCertificate({ commonName: 'eseal national-platform simulator', altNames: names, days: 365 });
        options.tls = { cert: cert.certPem, key: cert.keyPem };
        fingerprint = cert.fingerprint256;
      }

      const sim = await NationalSimulator.start(options);
      io.out('eseal national-platform simulator');
      io.out(`  data:        ${sim.url}`);
      io.out(`  control:     ${sim.controlUrl}  (routes under /_sim/: faults, received, stats, reset, expire-tokens, accounts, mine-status)`);
      io.out(`  public key:  ${sim.publicKey}  (GET /sm2, ${format})`);
      if (format !== 'hex') io.out(`  public hex:  ${sim.publicKeyHex}`);
      io.out(`  client:      ${client?.id ?? 'pcfront'} (Basic)`);
      io.out(`  accounts:    ${accounts.length ? accounts.map((a) => a.username).join(', ') : '(none: add with --account or POST /_sim/accounts)'}`);
      io.out(`  faults:      ${JSON.stringify(sim.faults)}`);
      io.out(`  seed:        ${sim.seed}`);
      if (fingerprint) io.out(`  tls sha256:  ${fingerprint}  (self-signed; pin it on the client)`);
      io.out('stop with Ctrl-C or SIGTERM');

      const signal = await new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      await sim.close();
      io.out(`stopped (${signal})`);
      return 0;
    },
  },
  deviceCommand,
];
