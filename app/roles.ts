// The one list of roles. Adding a role is a folder with a role.ts manifest and one line here.
// The order is the start order (the relay first: the edge reports to it when both run here);
// roles close in reverse.
import type { KernelConfig } from '../src/config/kernel.ts';
import type { RoleManifest } from '../src/role.ts';
import { role as relay } from '../relay/role.ts';
import { role as edge } from '../edge/role.ts';
import { role as gb28181 } from '../gb28181/role.ts';
import { role as consoleRole } from '../console/role.ts';
import { role as sim } from '../sim/role.ts';

export const ROLES = [relay, edge, gb28181, consoleRole, sim] as const;

type ConfigOf<M> = M extends RoleManifest<infer C> ? C : never;
type Intersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** The whole configuration: the kernel's keys and every role's. */
export type AppConfig = KernelConfig & Intersection<ConfigOf<(typeof ROLES)[number]>>;

/** Every manifest, typed for the whole configuration (each role reads only its part of it). */
export const MANIFESTS = ROLES as unknown as readonly RoleManifest<AppConfig>[];

/** Roles that `eseal start` can run (a manifest without a service only brings commands). */
export const SERVICE_ROLES = MANIFESTS.filter((m) => m.service).map((m) => m.name);
