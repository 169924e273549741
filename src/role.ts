// A role is a service that runs alone on its own server or together with others in one process
// (`eseal start --roles relay,edge`). Each role's folder exports one RoleManifest from its
// `role.ts`: its name, its part of the configuration, its CLI commands and its service. The
// manifest is cheap to import; the commands and the service load the role's code on demand, so a
// relay-only server never loads onnxruntime. The kernel defines this shape and knows no role:
// the application (app/roles.ts) holds the one list of them.
import type { Logger } from 'pino';
import type { Command } from './cli/command.ts';
import type { KernelConfig } from './config/kernel.ts';
import type { ConfigSection } from './config/load.ts';

export interface RunningRole {
  /** what an operator needs to know once it runs (addresses, counts), logged at start */
  summary: Record<string, unknown>;
  /** finishes work in flight and releases everything */
  close(): Promise<void>;
}

export interface RoleService<C extends KernelConfig = KernelConfig> {
  start(config: C, log: Logger): Promise<RunningRole>;
}

export interface RoleManifest<C extends KernelConfig = KernelConfig> {
  /** the role's name: `--roles` takes it, and its commands are `eseal <name> <command>` */
  name: string;
  /** one line for `eseal --help` */
  summary: string;
  /** its keys of the configuration (the top-level keys it owns) */
  config?: ConfigSection<C>;
  /** problems in its part of the configuration that its schema cannot say (each naming its key); [] when fine */
  checkConfig?(config: C): Promise<string[]>;
  /** its commands, named without the role's prefix */
  commands?(): Promise<Command<C>[]>;
  /**
   * Its commands are also reachable without the prefix (`eseal accounts add` for `eseal relay
   * accounts add`): the appliance's first role, whose commands the README has always shown so.
   * At most one role may say so; the application checks that no name is taken twice.
   */
  unprefixed?: boolean;
  /** the service `eseal start` runs; a manifest without one only brings commands (a tool such as the simulator) */
  service?(): Promise<RoleService<C>>;
}
