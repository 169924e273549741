// The configuration of the whole appliance: the kernel's section and every role's, whatever roles
// this server runs (`eseal config check` checks them all).
import { kernelSection } from '../src/config/kernel.ts';
import { combineSections, loadConfig, type ConfigSection, type LoadConfigOptions } from '../src/config/load.ts';
import { MANIFESTS, SERVICE_ROLES, type AppConfig } from './roles.ts';

export type { AppConfig };

export const CONFIG_SECTIONS: readonly ConfigSection<never>[] = [
  kernelSection(SERVICE_ROLES),
  ...MANIFESTS.flatMap((m) => (m.config ? [m.config as ConfigSection<never>] : [])),
];

/** The embedded defaults of every key. */
export const DEFAULT_CONFIG = combineSections(CONFIG_SECTIONS).defaults as unknown as AppConfig;

export function loadAppConfig(options: LoadConfigOptions = {}): Promise<AppConfig> {
  return loadConfig<AppConfig>(CONFIG_SECTIONS, options);
}
