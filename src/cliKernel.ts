// Commands of the kernel itself: the SM2 key pair and the configuration.
import { CONFIG_OPTION, type Command } from './cli.ts';
import { InvalidConfig } from './config/load.ts';
import { CONFIG_RULES, ROLE_NAMES } from './config/schema.ts';
import { checkRoles, startCommand } from './cliStart.ts';
import { loadOrCreateSm2KeyPair, rotateSm2KeyPair } from './crypto/keyFiles.ts';
import { publicKeyToSpkiBase64 } from './crypto/sm2.ts';
import { safeUrl } from './log.ts';

function flatten(tree: unknown, prefix = '', out: [string, unknown][] = []): [string, unknown][] {
  for (const [k, v] of Object.entries(tree as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) flatten(v, path, out);
    else out.push([path, v]);
  }
  return out;
}

export const kernelCommands: Command[] = [
  startCommand,
  {
    name: 'keys show',
    summary: "print the relay's SM2 public key, in both formats mines may expect",
    usage: '[--config FILE]',
    options: CONFIG_OPTION,
    help: ['GET /sm2 serves one of these (relay.publicKeyFormat): hex 04‖x‖y for sm-crypto, base64 SubjectPublicKeyInfo for hutool.'],
    async run({ config, io }) {
      const cfg = await config();
      const ring = await loadOrCreateSm2KeyPair(cfg.dataDir);
      io.out(`hex (sm-crypto):        ${ring.current.publicKeyHex}`);
      io.out(`base64 SPKI (hutool):   ${publicKeyToSpkiBase64(ring.current.publicKeyHex)}`);
      io.out(`created:                ${new Date(ring.current.createdAt).toISOString()}`);
      if (ring.previous) io.out(`previous key still accepted for logins: ${ring.previous.publicKeyHex.slice(0, 18)}…`);
    },
  },
  {
    name: 'keys rotate',
    summary: 'make a new SM2 key pair; the previous one keeps decrypting logins until the next rotation',
    usage: '[--config FILE]',
    options: CONFIG_OPTION,
    async run({ config, io }) {
      const cfg = await config();
      const ring = await rotateSm2KeyPair(cfg.dataDir);
      io.out(`new public key (hex): ${ring.current.publicKeyHex}`);
      io.out('a running relay serves it within a second; devices that cached the old key can still log in');
    },
  },
  {
    name: 'config check',
    summary: 'validate the configuration and print the effective values (secrets hidden)',
    usage: '[--config FILE]',
    options: CONFIG_OPTION,
    async run({ config, io }) {
      const cfg = await config();
      // Every role's part is checked, whether or not this server runs it.
      const problems = await checkRoles(cfg, ROLE_NAMES);
      if (problems.length) throw InvalidConfig(`configuration has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
      for (const [k, v] of flatten(cfg)) {
        const rule = CONFIG_RULES[k];
        const secret = rule?.type === 'string' && rule.secret;
        // camera URLs may carry credentials (rtsp://user:password@…)
        const shown = JSON.stringify(v, (key, value: unknown) => (key === 'url' && typeof value === 'string' ? safeUrl(value) : value));
        io.out(`${k} = ${secret ? '(hidden)' : shown}`);
      }
    },
  },
];
