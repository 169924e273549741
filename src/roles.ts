// Roles are services that run alone or together in one process (`eseal start --roles relay,edge`).
// The kernel knows only their names and this small interface; each role's `role.ts` implements it
// and is imported only when the role runs, so a relay-only server never loads onnxruntime.
import type { Logger } from 'pino';
import type { EsealConfig, RoleName } from './config/schema.ts';

export interface RunningRole {
  /** what an operator needs to know once it runs (addresses, counts), logged at start */
  summary: Record<string, unknown>;
  /** finishes work in flight and releases everything */
  close(): Promise<void>;
}

export interface RoleService {
  /** problems in the role's own part of the configuration, each naming its key; [] when fine */
  checkConfig(config: EsealConfig): Promise<string[]>;
  start(config: EsealConfig, log: Logger): Promise<RunningRole>;
}

/** Start order: the relay first (the edge reports to it when both run here); close in reverse. */
export const ROLE_SERVICES: Record<RoleName, () => Promise<{ service: RoleService }>> = {
  relay: () => import('../relay/role.ts'),
  edge: () => import('../edge/role.ts'),
};
