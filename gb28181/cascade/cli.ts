// `eseal gb28181 cascade [--json]`: each configured upper platform with the state the running bridge
// last wrote (registered, last keepalive, last error, streams it plays). Works beside a running
// bridge; without one the state is the last it wrote, `stale` when the bridge stopped writing.
import { CONFIG_OPTION, formatTable, type Command } from '../../src/cli/command.ts';
import { formatJsonTime } from '../../src/contract/time.ts';
import type { GbRoleConfig } from '../config.ts';
import { gbDataDir } from '../viewToken.ts';
import { initialState, readState, type UpperState } from './state.ts';

export interface CascadeView extends Omit<UpperState, 'registeredAt' | 'expiresAt' | 'lastKeepaliveAt' | 'lastErrorAt'> {
  registeredAt: string;
  expiresAt: string;
  lastKeepalive: string;
  lastErrorAt: string;
  /** the state is older than the registration it reports (the bridge is not running) */
  stale: boolean;
}

const time = (ms: number) => (ms ? formatJsonTime(ms) : '');

export function cascadeViews(cfg: GbRoleConfig, now = Date.now()): CascadeView[] {
  const file = readState(gbDataDir(cfg.dataDir));
  return cfg.gb28181.cascade.map((e) => {
    const s: UpperState = file?.platforms.find((p) => p.id === e.id) ?? initialState(e, e.localId || cfg.gb28181.id, 'the bridge has not run with this platform configured');
    const stale = !file || (s.registered && s.expiresAt < now);
    return {
      ...s,
      registered: s.registered && !stale,
      registeredAt: time(s.registeredAt),
      expiresAt: time(s.expiresAt),
      lastKeepalive: time(s.lastKeepaliveAt),
      lastErrorAt: time(s.lastErrorAt),
      stale,
    };
  });
}

export const cascadeCommand: Command<GbRoleConfig> = {
  name: 'cascade',
  summary: 'show the upper platforms the bridge registers to (cascade) and their state',
  usage: '[--json] [--config FILE]',
  options: { ...CONFIG_OPTION, json: { type: 'boolean' } },
  help: ['  --json   [{ id, address, transport, localId, registered, expiresAt, lastKeepalive, lastKeepaliveOk, keepaliveFailures, lastError, lastErrorCode, streams, stale }]'],
  async run({ values, config, io }) {
    const views = cascadeViews(await config());
    if (values['json']) {
      io.out(JSON.stringify(views, null, 2));
      return;
    }
    if (!views.length) {
      io.out('no upper platform is configured (gb28181.cascade)');
      return;
    }
    const rows = views.map((v) => [v.id, `${v.address}/${v.transport}`, v.registered ? 'registered' : 'not registered', v.lastKeepalive + (v.lastKeepalive ? (v.lastKeepaliveOk ? ' ok' : ' failed') : ''), String(v.streams), v.lastError]);
    for (const line of formatTable(['UPPER PLATFORM', 'ADDRESS', 'STATE', 'LAST KEEPALIVE (Beijing)', 'STREAMS', 'LAST ERROR'], rows)) io.out(line);
  },
};
