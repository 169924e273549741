// The console role's part of the configuration: its own listener (the admin listener, apart from
// the relay's public one), how long a login lasts, and where it finds the relay's and the GB/T 28181
// bridge's admin APIs. Environment override: ESEAL_ADMIN_LISTEN.
//
//   admin:
//     listen: "127.0.0.1:9090"
//     sessionHours: 12
//     relay:   { url: "", token: "" }   # '' = derived from relay.listen on this host; '' = <dataDir>/admin.token
//     gb28181: { url: "", token: "" }   # '' = http://127.0.0.1:9092; '' = <dataDir>/gb28181/admin.token
import type { ConfigSection } from '../src/config/load.ts';
import type { KernelConfig } from '../src/config/kernel.ts';
import { Pattern, Type, type Static } from '../src/config/rules.ts';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/;
const URL_OR_EMPTY = Pattern(/^(|https?:\/\/\S+)$/, "an http:// or https:// URL, or '' to derive it");
const TOKEN = Pattern(/^\S{0,256}$/, "at most 256 characters without spaces, or '' to read it from the data directory", { secret: true });

const consoleSchema = Type.Object({
  /** the province's console: pages at /, JSON API at /api/ */
  admin: Type.Object({
    listen: Pattern(HOST_PORT, 'host:port, e.g. 127.0.0.1:9090'),
    /** a login lasts this long */
    sessionHours: Type.Number({ minimum: 0.1, maximum: 24 * 30 }),
    relay: Type.Object({ url: URL_OR_EMPTY, token: TOKEN }),
    gb28181: Type.Object({ url: URL_OR_EMPTY, token: TOKEN }),
  }),
});

export type ConsoleSettings = Static<typeof consoleSchema>;
/** What the console's code reads: the kernel's keys and its own (relay.listen and relay.tls.mode are read loosely: the relay's section may be absent). */
export type ConsoleConfig = KernelConfig & ConsoleSettings;

export const CONSOLE_DEFAULTS: ConsoleSettings = {
  admin: {
    listen: '127.0.0.1:9090',
    sessionHours: 12,
    relay: { url: '', token: '' },
    gb28181: { url: '', token: '' },
  },
};

export const consoleConfigSection: ConfigSection<ConsoleConfig> = {
  schema: consoleSchema,
  defaults: CONSOLE_DEFAULTS,
  env: { ESEAL_ADMIN_LISTEN: 'admin.listen' },
};
