// The console's roles, each allowed what the one below it is: a viewer reads, an operator also
// acts on items (replay, purge) and bindings, an admin also reads the audit log and changes settings.
export const CONSOLE_ROLES = ['viewer', 'operator', 'admin'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

export function isConsoleRole(v: unknown): v is ConsoleRole {
  return typeof v === 'string' && (CONSOLE_ROLES as readonly string[]).includes(v);
}

/** true when `role` is `needed` or above it */
export function allows(role: ConsoleRole, needed: ConsoleRole): boolean {
  return CONSOLE_ROLES.indexOf(role) >= CONSOLE_ROLES.indexOf(needed);
}
